//! `llmaas catalog import FILE... [--into PATH] [--as-of YYYY-MM]` and `catalog status`.

use std::path::Path;

use llmaas_catalog::{Catalog, import};
use serde::Serialize;

use crate::args::CatalogCommand;
use crate::context::Ctx;
use crate::error::{CliError, Exit};
use crate::output;

#[derive(Serialize)]
struct Status {
    source: String,
    snapshot: String,
    models: usize,
    live: usize,
}

pub fn run(ctx: &Ctx, command: &CatalogCommand) -> Result<Exit, CliError> {
    match command {
        CatalogCommand::Import { files, into, as_of } => {
            let target = into.clone().unwrap_or_else(|| ctx.user_catalog_file());
            seed(&target)?;
            let mut reports = Vec::new();
            for file in files {
                let report = import::import_into_file(&target, file, as_of.as_deref())?;
                tracing::info!(file = %file.display(), %report, "catalogue import");
                reports.push(report);
            }
            if ctx.json {
                let texts: Vec<String> = reports.iter().map(ToString::to_string).collect();
                output::json(&serde_json::json!({ "catalog": target, "reports": texts }))?;
            } else {
                for r in &reports {
                    output::line(r)?;
                }
                output::line(format_args!("catalogue written to {}", target.display()))?;
            }
            Ok(Exit::Ok)
        }
        CatalogCommand::Status => {
            let catalog = ctx.catalog()?;
            let user = ctx.user_catalog_file();
            let source = if user.exists() {
                user.display().to_string()
            } else {
                "built in".to_owned()
            };
            let status = Status {
                source,
                snapshot: catalog.snapshot().to_owned(),
                models: catalog.len(),
                live: catalog.iter().filter(|m| !m.is_retired()).count(),
            };
            if ctx.json {
                output::json(&status)?;
            } else {
                output::line(format_args!(
                    "catalogue: {} (snapshot {}), {} models, {} live",
                    status.source, status.snapshot, status.models, status.live
                ))?;
            }
            Ok(Exit::Ok)
        }
    }
}

/// A catalogue file that does not exist yet starts as the built-in one, so an
/// import adds to what the app knows instead of starting from nothing.
fn seed(target: &Path) -> Result<(), CliError> {
    if target.exists() {
        return Ok(());
    }
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)
            .map_err(CliError::io(format!("creating {}", dir.display())))?;
    }
    Ok(Catalog::bundled().save(target)?)
}
