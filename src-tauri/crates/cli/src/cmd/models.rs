//! `llmaas models [--capability X] [--search Q] [--all] [--retiring-within N]`
//! and `llmaas models show ID`; the local files are `local_models`.

use chrono::NaiveDate;
use llmaas_catalog::{Catalog, LifecycleState, Model, Query};
use llmaas_core::Capability;
use llmaas_ledger::PriceTable;
use serde::Serialize;

use crate::args::{ModelsArgs, ModelsCommand};
use crate::context::Ctx;
use crate::error::{CliError, Exit};
use crate::output;

/// A model as `--json` prints it: the catalogue entry plus where it stands today.
#[derive(Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    model: &'a Model,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    successor_to_use: Option<&'a str>,
}

pub fn run(ctx: &Ctx, args: &ModelsArgs) -> Result<Exit, CliError> {
    let catalog = ctx.catalog()?;
    let today = ctx.now_local().date_naive();
    match &args.command {
        Some(ModelsCommand::Show { id }) => show(ctx, &catalog, id, today),
        Some(ModelsCommand::Import { file, link }) => super::local_models::import(ctx, file, *link),
        // main runs it on the async runtime.
        Some(ModelsCommand::Pull { .. }) => unreachable!("pull is async"),
        None if args.local => super::local_models::list(ctx, args.search.as_deref()),
        None if args.available => super::local_models::available(ctx, args.search.as_deref()),
        None => list(ctx, &catalog, args, today),
    }
}

fn list(
    ctx: &Ctx,
    catalog: &Catalog,
    args: &ModelsArgs,
    today: NaiveDate,
) -> Result<Exit, CliError> {
    let mut query = Query::new().with_retired(args.all);
    for cap in &args.capability {
        query = query.with_capability(*cap);
    }
    if let Some(text) = &args.search {
        query = query.with_text(text.clone());
    }
    let mut models = catalog.search(&query);
    if let Some(days) = args.retiring_within {
        let soon: Vec<_> = catalog
            .retiring_within(today, days)
            .iter()
            .map(|m| &m.id)
            .cloned()
            .collect();
        models.retain(|m| soon.contains(&m.id));
    }
    if ctx.json {
        let listed: Vec<_> = models.iter().map(|m| listed(catalog, m, today)).collect();
        output::json(&listed)?;
        return Ok(Exit::Ok);
    }
    if models.is_empty() {
        output::line("No model matches.")?;
        return Ok(Exit::Ok);
    }
    let mut t = output::table(&["model", "capabilities", "context", "params", "status"]);
    for m in &models {
        t.add_row(vec![
            m.id.to_string(),
            capabilities(m),
            m.context
                .map(|c| output::thousands(u64::from(c)))
                .unwrap_or_default(),
            m.parameters.clone(),
            status(m.state(today)),
        ]);
    }
    output::line(t)?;
    output::line(format_args!(
        "{} models (catalogue snapshot {}){}",
        models.len(),
        catalog.snapshot(),
        if args.all {
            ""
        } else {
            "; --all includes retired ones"
        }
    ))?;
    Ok(Exit::Ok)
}

fn show(ctx: &Ctx, catalog: &Catalog, id: &str, today: NaiveDate) -> Result<Exit, CliError> {
    let model = catalog.get(id).ok_or_else(|| {
        CliError::NotFound(format!(
            "no model `{id}` in the catalogue (try `llmaas models --search {id} --all`)"
        ))
    })?;
    let entry = listed(catalog, model, today);
    if ctx.json {
        output::json(&entry)?;
        return Ok(Exit::Ok);
    }
    let lc = &model.lifecycle;
    let date = |d: Option<NaiveDate>| d.map_or_else(|| "—".to_owned(), |d| d.to_string());
    let mut rows: Vec<(&str, String)> = vec![
        ("model", model.id.to_string()),
        ("status", entry.status.clone()),
    ];
    if !model.aliases.is_empty() {
        rows.push(("aliases", model.aliases.join(", ")));
    }
    for (name, value) in [
        ("family", &model.family),
        ("editor", &model.editor),
        ("parameters", &model.parameters),
        ("licence", &model.licence),
        ("section", &model.section),
    ] {
        if !value.is_empty() {
            rows.push((name, value.clone()));
        }
    }
    rows.push(("capabilities", capabilities(model)));
    if let Some(c) = model.context {
        rows.push((
            "context",
            format!("{} tokens", output::thousands(u64::from(c))),
        ));
    }
    rows.push(("production since", date(lc.production_date)));
    rows.push(("end of support", date(lc.end_of_support)));
    if let Some(lts) = lc.lts {
        rows.push(("LTS", if lts { "yes" } else { "no" }.to_owned()));
    }
    if let Some(r) = &lc.retired {
        rows.push(("retired", format!("{} ({})", date(r.on), r.note)));
    }
    match (&lc.successor, entry.successor_to_use) {
        (Some(named), Some(to_use)) if named.as_str() != to_use => {
            rows.push(("successor", format!("{named}, now {to_use}")));
        }
        (Some(named), _) => rows.push(("successor", named.to_string())),
        (None, _) if model.is_retired() => {
            rows.push(("successor", "none named by the provider".to_owned()));
        }
        (None, _) => {}
    }
    if let Some(s) = model.speed_tps {
        rows.push(("speed", format!("{s} tokens/s")));
    }
    if let Some(e) = &model.energy_kwh_per_mtok {
        rows.push(("energy", format!("{e} kWh per million tokens")));
    }
    if model.is_retired() {
        rows.push(("price", "not served".to_owned()));
    } else if let Some(p) = price_line(model, today) {
        rows.push(("price", p));
    }
    if !model.tags.is_empty() {
        rows.push(("tags", model.tags.join(", ")));
    }
    if let Some(d) = &model.description {
        rows.push(("description", d.clone()));
    }
    let mut t = output::plain_table();
    for (k, v) in rows {
        t.add_row(vec![k.to_owned(), v]);
    }
    output::line(t)?;
    if let Some(w) = &entry.warning {
        output::line(format_args!("warning: {w}"))?;
    }
    Ok(Exit::Ok)
}

fn listed<'a>(catalog: &'a Catalog, model: &'a Model, today: NaiveDate) -> Listed<'a> {
    Listed {
        model,
        status: status(model.state(today)),
        warning: catalog.lifecycle_warning(model.id.as_str(), today),
        successor_to_use: catalog
            .successor_of(model.id.as_str())
            .map(|m| m.id.as_str()),
    }
}

fn capabilities(m: &Model) -> String {
    let caps: Vec<&str> = m.capabilities.iter().map(|c| c.as_str()).collect();
    if caps.is_empty() {
        "unknown".to_owned()
    } else {
        caps.join(", ")
    }
}

pub(crate) fn status(state: LifecycleState) -> String {
    match state {
        LifecycleState::Live => "live".to_owned(),
        LifecycleState::EndingSoon {
            end_of_support,
            days_left,
        } => {
            format!("ends {end_of_support} ({days_left} d)")
        }
        LifecycleState::PastEndOfSupport { end_of_support, .. } => {
            format!("past end of support ({end_of_support})")
        }
        LifecycleState::Retired { on: Some(on) } => format!("retired {on}"),
        LifecycleState::Retired { on: None } => "retired".to_owned(),
        _ => "unknown".to_owned(),
    }
}

/// The prices in force today; the provider prices every text model alike.
fn price_line(model: &Model, today: NaiveDate) -> Option<String> {
    let era = PriceTable::bundled().era_at(today)?;
    let r = &era.rates;
    Some(
        if model.has(Capability::Audio) && !model.has(Capability::Chat) {
            format!(
                "{:.2} per started minute (prices of {})",
                r.audio_per_minute, era.id
            )
        } else if model.has(Capability::Reasoning) {
            format!(
                "{:.2} in, {:.2} out, {:.2} reasoning per million tokens (prices of {})",
                r.input_per_million, r.output_per_million, r.reasoning_per_million, era.id
            )
        } else {
            format!(
                "{:.2} in, {:.2} out per million tokens (prices of {})",
                r.input_per_million, r.output_per_million, era.id
            )
        },
    )
}
