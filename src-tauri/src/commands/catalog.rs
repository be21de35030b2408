//! The catalogue panel: every cloud model (the bundled catalogue, or the
//! user's imported one) and every local model file, in one list.

use chrono::{Local, NaiveDate};
use llmaas_catalog::{Catalog, LifecycleState, Model};
use llmaas_local::{LocalModel, Status};
use serde::Serialize;
use specta::Type;
use specta_typescript::Number;
use tauri::State;

use crate::error::{AppError, AppResult};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "lowercase")]
pub enum ModelSource {
    Cloud,
    Local,
}

/// Where a model stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum ModelStatus {
    /// Served (cloud) with no end in sight.
    Live,
    /// Served, its end of support is near.
    EndingSoon,
    /// Past its end of support, still listed.
    PastEndOfSupport,
    /// Removed by the provider.
    Retired,
    /// A local file that can be loaded.
    Ready,
    /// A local file that cannot (see `problem`).
    Unusable,
}

/// One row of the catalogue table.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct CatalogRow {
    pub id: String,
    pub source: ModelSource,
    pub aliases: Vec<String>,
    pub family: String,
    pub editor: String,
    /// As the provider writes it (`24B`, `120B (MoE)`), or counted from a local file.
    pub parameters: String,
    #[specta(type = Option<Number>)]
    pub size_bytes: Option<u64>,
    pub context: Option<u32>,
    pub capabilities: Vec<String>,
    /// Price per million tokens in nano-euros (cloud; local models cost 0).
    #[specta(type = Option<Number>)]
    pub input_per_million_nanos: Option<i64>,
    #[specta(type = Option<Number>)]
    pub output_per_million_nanos: Option<i64>,
    pub status: ModelStatus,
    /// End of support (cloud), `YYYY-MM-DD`.
    pub end_of_support: Option<String>,
    pub production_date: Option<String>,
    /// Removal date of a retired model.
    pub retired_on: Option<String>,
    pub successor: Option<String>,
    pub lts: Option<bool>,
    pub description: Option<String>,
    pub licence: String,
    /// Local: the file, its quantisation, why it is unusable.
    pub path: Option<String>,
    pub quantisation: Option<String>,
    /// Local: what the weights run in when that is not `quantisation` (a
    /// Q4_1 file runs converted to Q8_0, see `llmaas_local::requant`).
    pub runs_as: Option<String>,
    /// Local: about the memory the weights take once loaded, in bytes.
    #[specta(type = Option<Number>)]
    pub memory_bytes: Option<u64>,
    pub problem: Option<String>,
}

#[tauri::command]
#[specta::specta]
pub async fn catalog_list(app: tauri::AppHandle) -> AppResult<Vec<CatalogRow>> {
    super::with_state(&app, catalog_rows).await
}

fn catalog_rows(state: &AppState) -> AppResult<Vec<CatalogRow>> {
    let today = Local::now().date_naive();
    // Borrowed from the router: no copy of the catalogue per listing.
    let router = state.router();
    let catalog = router.catalog();
    let prices = router
        .config()
        .prices
        .rates_at(today)
        .map_err(AppError::from)?;
    let mut rows: Vec<CatalogRow> = catalog
        .models()
        .iter()
        .map(|m| cloud_row(catalog, m, today, &prices.rates))
        .collect();
    let to = llmaas_setup::convert_to(&state.settings());
    rows.extend(state.library().models().iter().map(|m| local_row(m, to)));
    Ok(rows)
}

/// Copies (or links) a GGUF file into the models folder; the folder watch
/// lists it within a second, and the returned row describes it at once.
#[tauri::command]
#[specta::specta]
pub async fn model_import(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    path: String,
    link: bool,
) -> AppResult<CatalogRow> {
    let library = std::sync::Arc::clone(state.library());
    let source = crate::scope::chosen(&app, &path)?;
    let folder = library.folder();
    let convert_to = llmaas_setup::convert_to(&state.settings());
    let imported = tokio::task::spawn_blocking(move || {
        let mode = if link {
            llmaas_local::fetch::ImportMode::Link
        } else {
            llmaas_local::fetch::ImportMode::Copy
        };
        llmaas_local::fetch::import(&source, &folder, mode, convert_to, &|_| {})
    })
    .await
    .map_err(|e| AppError::new(crate::error::ErrorCode::Backend, e.to_string()))??;
    let models = library.refresh();
    let row = models
        .iter()
        .find(|m| m.path == imported)
        .map(|m| local_row(m, convert_to))
        .ok_or_else(|| AppError::bad_input("the model was copied but is not listed"))?;
    Ok(row)
}

fn date(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

fn cloud_row(
    catalog: &Catalog,
    m: &Model,
    today: NaiveDate,
    rates: &llmaas_ledger::Rates,
) -> CatalogRow {
    let state = m.state(today);
    let status = match state {
        LifecycleState::Live => ModelStatus::Live,
        LifecycleState::EndingSoon { .. } => ModelStatus::EndingSoon,
        LifecycleState::PastEndOfSupport { .. } => ModelStatus::PastEndOfSupport,
        _ => ModelStatus::Retired,
    };
    let priced = !matches!(status, ModelStatus::Retired);
    CatalogRow {
        id: m.id.to_string(),
        source: ModelSource::Cloud,
        aliases: m.aliases.clone(),
        family: m.family.clone(),
        editor: m.editor.clone(),
        parameters: m.parameters.clone(),
        size_bytes: None,
        context: m.context,
        capabilities: m.capabilities.iter().map(ToString::to_string).collect(),
        input_per_million_nanos: priced.then(|| rates.input_per_million.nanos()),
        output_per_million_nanos: priced.then(|| rates.output_per_million.nanos()),
        status,
        end_of_support: date(m.lifecycle.end_of_support),
        production_date: date(m.lifecycle.production_date),
        retired_on: date(m.lifecycle.retired.as_ref().and_then(|r| r.on)),
        successor: catalog
            .successor_of(m.id.as_str())
            .map(|s| s.id.to_string()),
        lts: m.lifecycle.lts,
        description: m.description.clone(),
        licence: m.licence.clone(),
        path: None,
        quantisation: None,
        runs_as: None,
        memory_bytes: None,
        problem: None,
    }
}

pub(crate) fn local_row(m: &LocalModel, to: llmaas_local::requant::Target) -> CatalogRow {
    let info = m.info();
    let (status, problem) = match &m.status {
        Status::Ready(_) => (ModelStatus::Ready, None),
        other @ Status::Unusable(_) => (ModelStatus::Unusable, Some(unusable_reason(other))),
    };
    CatalogRow {
        id: m.id.to_string(),
        source: ModelSource::Local,
        aliases: Vec::new(),
        family: info.map(|i| i.architecture.clone()).unwrap_or_default(),
        editor: String::new(),
        parameters: info.map(|i| params(i.parameters)).unwrap_or_default(),
        size_bytes: Some(m.size_bytes),
        context: info
            .and_then(|i| i.context_length)
            .and_then(|c| u32::try_from(c).ok()),
        capabilities: vec!["chat".to_owned()],
        input_per_million_nanos: Some(0),
        output_per_million_nanos: Some(0),
        status,
        end_of_support: None,
        production_date: None,
        retired_on: None,
        successor: None,
        lts: None,
        description: info.and_then(|i| i.name.clone()),
        licence: String::new(),
        path: Some(m.path.display().to_string()),
        quantisation: info.map(|i| i.quantisation.clone()),
        runs_as: info
            .map(|i| llmaas_local::requant::runs_as(i, to))
            .filter(|r| Some(r) != info.map(|i| &i.quantisation)),
        memory_bytes: info.map(|i| llmaas_local::requant::memory_estimate(i, to)),
        problem,
    }
}

fn unusable_reason(status: &Status) -> String {
    match status {
        Status::Unusable(reason) => reason.clone(),
        Status::Ready(_) => String::new(),
    }
}

/// `135M`, `7.2B`: parameters the way model cards write them.
fn params(n: u64) -> String {
    #[allow(clippy::cast_precision_loss)] // one decimal of a count, for people
    let f = n as f64;
    if n >= 1_000_000_000 {
        format!("{:.1}B", f / 1e9)
    } else if n >= 1_000_000 {
        format!("{}M", n / 1_000_000)
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_model_has_a_row_with_a_status() {
        let catalog = Catalog::bundled();
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let rates = llmaas_ledger::PriceBook::bundled()
            .rates_at(today)
            .unwrap()
            .rates;
        let rows: Vec<_> = catalog
            .models()
            .iter()
            .map(|m| cloud_row(catalog, m, today, &rates))
            .collect();
        assert_eq!(rows.len(), catalog.models().len());
        let retired = rows
            .iter()
            .filter(|r| r.status == ModelStatus::Retired)
            .count();
        assert!(retired > 0 && retired < rows.len());
        // Retired models have no price today; live ones have the era's.
        for r in &rows {
            assert_eq!(
                r.status == ModelStatus::Retired,
                r.output_per_million_nanos.is_none()
            );
        }
        assert!(rows.iter().any(|r| r.successor.is_some()));
    }

    #[test]
    fn parameters_read_like_model_cards() {
        assert_eq!(params(134_515_008), "134M");
        assert_eq!(params(7_241_732_096), "7.2B");
    }
}
