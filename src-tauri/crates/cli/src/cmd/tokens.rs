//! `llmaas tokens`: the local API's callers. A token is printed once, at
//! creation; the store keeps only its hash, and `list` never shows either.

use llmaas_gateway::{NewToken, TokenInfo};
use serde_json::json;

use crate::args::TokensCommand;
use crate::context::Ctx;
use crate::error::{CliError, Exit};
use crate::output;

pub async fn run(ctx: &Ctx, command: &TokensCommand) -> Result<Exit, CliError> {
    let store = ctx.tokens().await?;
    match command {
        TokensCommand::Create {
            name,
            project,
            cap,
            policy,
        } => {
            if cap.is_some_and(|c| c.nanos() < 0) {
                return Err(CliError::Usage("--cap must not be negative".into()));
            }
            let new = NewToken {
                name: name.clone(),
                project: project.clone(),
                policy: *policy,
                cap: *cap,
            };
            let (token, info) = store.create(&new).await?;
            if ctx.json {
                let mut v = to_json(&info);
                v["token"] = json!(token.expose());
                output::json(&v)?;
            } else {
                output::line(token.expose())?;
                eprintln!(
                    "Token `{}` created. This is the only time it is shown: give it to its user now.",
                    info.name
                );
            }
        }
        TokensCommand::List => {
            let ledger = ctx.ledger().await?;
            let list = store.list(&ledger, ctx.now()).await?;
            if ctx.json {
                output::json(&list.iter().map(to_json).collect::<Vec<_>>())?;
            } else if list.is_empty() {
                output::line("No tokens yet: `llmaas tokens create NAME`.")?;
            } else {
                let month = &list[0].month;
                let mut t = output::table(&[
                    "name",
                    "project",
                    "policy",
                    "cap €",
                    &format!("spent {month}"),
                    "requests",
                    "created",
                    "revoked",
                ]);
                for i in &list {
                    t.add_row(vec![
                        i.name.clone(),
                        i.project.clone().unwrap_or_default(),
                        i.policy.map(|p| p.to_string()).unwrap_or_default(),
                        i.cap.map(|c| c.format_eur(2)).unwrap_or_default(),
                        i.spent.format_eur(6),
                        output::thousands(i.requests),
                        local_time(i.created_at),
                        i.revoked_at.map(local_time).unwrap_or_default(),
                    ]);
                }
                output::line(t)?;
            }
        }
        TokensCommand::Revoke { name } => {
            store.revoke(name).await?;
            if ctx.json {
                output::json(&json!({"revoked": name}))?;
            } else {
                output::line(format_args!("Token `{name}` revoked."))?;
            }
        }
    }
    Ok(Exit::Ok)
}

fn local_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Stable field names for scripts; money as decimal euro strings.
fn to_json(i: &TokenInfo) -> serde_json::Value {
    json!({
        "name": i.name,
        "project": i.project,
        "policy": i.policy,
        "cap_eur": i.cap.map(|c| c.format_eur(9)),
        "month": i.month,
        "spent_eur": i.spent.format_eur(9),
        "requests": i.requests,
        "created_at": i.created_at.to_rfc3339(),
        "revoked_at": i.revoked_at.map(|t| t.to_rfc3339()),
    })
}
