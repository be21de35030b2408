//! `llmaas config get|set|list|path`.

use serde::Serialize;

use crate::args::ConfigCommand;
use crate::context::Ctx;
use crate::error::{CliError, Exit};
use crate::output;

#[derive(Serialize)]
struct Entry<'a> {
    key: &'a str,
    value: Option<String>,
    description: &'a str,
}

#[derive(Serialize)]
struct Locations {
    settings: String,
    ledger: String,
    logs: String,
    models: String,
    cache: String,
}

pub fn run(ctx: &mut Ctx, command: &ConfigCommand) -> Result<Exit, CliError> {
    match command {
        ConfigCommand::Get { key } => {
            let value = ctx.settings.get(key)?;
            if ctx.json {
                output::json(&serde_json::json!({ "key": key, "value": value }))?;
            } else if let Some(v) = &value {
                output::line(v)?;
            }
            // An unset optional key is not an error, but scripts can tell it apart.
            Ok(if value.is_some() {
                Exit::Ok
            } else {
                Exit::NotFound
            })
        }
        ConfigCommand::Set { key, value } => {
            ctx.settings.set(key, value)?;
            ctx.settings.save(&ctx.paths.settings_file())?;
            tracing::info!(key, "setting changed");
            let now = ctx.settings.get(key)?;
            if ctx.json {
                output::json(&serde_json::json!({ "key": key, "value": now }))?;
            } else {
                output::line(format_args!(
                    "{key} = {}",
                    now.as_deref().unwrap_or("(unset)")
                ))?;
            }
            Ok(Exit::Ok)
        }
        ConfigCommand::List => {
            let entries = llmaas_config::KEYS
                .iter()
                .map(|(key, description)| {
                    Ok(Entry {
                        key,
                        value: ctx.settings.get(key)?,
                        description,
                    })
                })
                .collect::<Result<Vec<_>, CliError>>()?;
            if ctx.json {
                output::json(&entries)?;
            } else {
                let mut t = output::table(&["setting", "value", "meaning"]);
                for e in &entries {
                    t.add_row(vec![
                        e.key,
                        e.value.as_deref().unwrap_or("(unset)"),
                        e.description,
                    ]);
                }
                output::line(t)?;
            }
            Ok(Exit::Ok)
        }
        ConfigCommand::Path => {
            let p = &ctx.paths;
            let models = ctx
                .settings
                .models
                .folder
                .clone()
                .unwrap_or_else(|| p.default_models_dir());
            let loc = Locations {
                settings: p.settings_file().display().to_string(),
                ledger: p.ledger_file().display().to_string(),
                logs: p.log_dir.display().to_string(),
                models: models.display().to_string(),
                cache: p.cache_dir.display().to_string(),
            };
            if ctx.json {
                output::json(&loc)?;
            } else {
                for (name, value) in [
                    ("settings", &loc.settings),
                    ("ledger", &loc.ledger),
                    ("logs", &loc.logs),
                    ("models", &loc.models),
                    ("cache", &loc.cache),
                ] {
                    output::line(format_args!("{name:<9} {value}"))?;
                }
            }
            Ok(Exit::Ok)
        }
    }
}
