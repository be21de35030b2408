//! `llmaas models --live`: the provider's list of served models, read against
//! the catalogue (aliases, models the catalogue lacks, catalogued ones gone).

use llmaas_catalog::LiveModel;

use crate::context::Ctx;
use crate::error::{CliError, Exit};
use crate::output;

pub async fn run(ctx: &Ctx) -> Result<Exit, CliError> {
    let router = ctx.router().await?;
    let live: Vec<LiveModel> = router
        .live_models()
        .await?
        .into_iter()
        .map(|m| LiveModel {
            id: m.id,
            aliases: m.aliases,
            max_model_len: m.max_model_len,
        })
        .collect();
    let catalog = router.catalog();
    let cmp = catalog.compare_live(&live);
    if ctx.json {
        output::json(&cmp)?;
        return Ok(Exit::Ok);
    }
    let today = ctx.now_local().date_naive();
    let mut t = output::table(&["served model", "aliases", "context", "catalogue"]);
    for row in &cmp.rows {
        let status = match row
            .catalogued
            .as_ref()
            .and_then(|id| catalog.get(id.as_str()))
        {
            Some(m) if m.id.as_str() == row.live.id => super::models::status(m.state(today)),
            Some(m) => format!("as {}", m.id),
            None => "not in the catalogue".to_owned(),
        };
        t.add_row(vec![
            row.live.id.clone(),
            row.live.aliases.join(", "),
            row.live
                .max_model_len
                .map(output::thousands)
                .unwrap_or_default(),
            status,
        ]);
    }
    output::line(t)?;
    output::line(format_args!(
        "{} models served by {}",
        cmp.rows.len(),
        llmaas_setup::base_url(&ctx.settings)
    ))?;
    if !cmp.missing.is_empty() {
        let names: Vec<String> = cmp.missing.iter().map(ToString::to_string).collect();
        output::line(format_args!(
            "In the catalogue but not served now: {}",
            names.join(", ")
        ))?;
    }
    Ok(Exit::Ok)
}
