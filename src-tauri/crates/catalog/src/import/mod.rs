//! Importing the provider's published files into a catalogue.
//!
//! The provider publishes two kinds of file, and neither is complete alone:
//!
//! * the documentation's model **table** (`.csv`): every model of the snapshot,
//!   live and deprecated, with figures and lifecycle dates (DMP, DSP, LTS,
//!   successor, removal date);
//! * `models_config` (**`.yaml`**): French descriptions and capability flags, but
//!   only the models the site shows, and it is sometimes stale (the 2026-05 file
//!   differs from 2025-11 only in prices).
//!
//! Each file is one snapshot, labelled `YYYY-MM` (from its name or given by the
//! caller). The merge rules, which make importing csv-2025-11, yaml-2025-11,
//! csv-2026-05, yaml-2026-05 in that order give the newest catalogue:
//!
//! 1. Files rank by snapshot label, and within a label the table ranks above the
//!    YAML ([`SnapshotRef`] order). A file overwrites a model's figures and dates
//!    only if it ranks at or above the file they came from
//!    ([`Source::figures`](crate::Source::figures)); a lower-ranked file only fills
//!    fields that are still empty. Empty cells and `N/A` never erase known data.
//!    Descriptions follow the same rule against the YAML they came from. Two
//!    exceptions for the YAML, whose data proved unreliable: it never changes
//!    lifecycle dates a table gave (its `dsp` contradicts the table for half the
//!    models), and it only fills gaps in a retired model.
//! 2. A table is a complete listing: a live model it does not mention, and that
//!    no file ranking at or above it has listed, becomes retired ("absent from
//!    the 2026-05 snapshot", with no date since none is known); a `Déprécié` row retires its model with the given date; a live
//!    row brings back a retired model only if the table is at least as new as the
//!    snapshot that retired it.
//! 3. A YAML never retires a model and never brings one back. It adds the models
//!    it does not know as live, unless a table of the same or a newer snapshot was
//!    already imported: that table was complete and did not list them, so they are
//!    added as retired (this keeps re-imports from changing anything).
//! 4. Names the provider's API accepts besides the catalogue id come from
//!    [`KNOWN_ALIASES`], since neither file carries them.
//!
//! A file is parsed entirely before anything is merged, so a malformed file
//! leaves the catalogue untouched; its error names the file and the line.

mod config;
mod table;

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use llmaas_core::{Capability, ModelId};

use crate::catalog::Catalog;
use crate::error::ImportError;
use crate::model::{Model, Retirement, SnapshotRef, SourceKind, is_snapshot_label};

/// Other names the provider's API accepts for a catalogue id. The provider's
/// examples send `deepseek-ai/DeepSeek-OCR` while its catalogue says
/// `deepseek-ocr` (FACTS.md); `/v1/models` lists such aliases, the published files
/// do not, so they are kept here until the live list is merged in.
pub const KNOWN_ALIASES: &[(&str, &[&str])] = &[("deepseek-ocr", &["deepseek-ai/DeepSeek-OCR"])];

/// The kind of a provider file, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderFormat {
    /// The documentation's model table (`.csv`).
    Csv,
    /// The provider's `models_config` (`.yaml` or `.yml`).
    Yaml,
}

impl ProviderFormat {
    /// The format a file name's extension announces, if any.
    pub fn from_path(path: &Path) -> Option<ProviderFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(ProviderFormat::Csv),
            "yaml" | "yml" => Some(ProviderFormat::Yaml),
            _ => None,
        }
    }

    fn kind(self) -> SourceKind {
        match self {
            ProviderFormat::Csv => SourceKind::Csv,
            ProviderFormat::Yaml => SourceKind::Yaml,
        }
    }
}

/// What one import changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// The file imported, as named in messages.
    pub file: String,
    /// The snapshot it was read as.
    pub snapshot: SnapshotRef,
    /// Models the catalogue did not have.
    pub added: Vec<ModelId>,
    /// Models whose data changed, other than by retirement or reinstatement
    /// (changes to [`Model::source`] alone do not count).
    pub updated: Vec<ModelId>,
    /// Models that became retired.
    pub retired: Vec<ModelId>,
    /// Retired models that a newer table lists as live again.
    pub reinstated: Vec<ModelId>,
    /// How many catalogue entries did not change.
    pub unchanged: usize,
}

impl ImportReport {
    /// Whether the import changed nothing.
    pub fn is_noop(&self) -> bool {
        self.added.is_empty()
            && self.updated.is_empty()
            && self.retired.is_empty()
            && self.reinstated.is_empty()
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {} added, {} updated, {} retired, {} reinstated, {} unchanged",
            self.file,
            self.snapshot,
            self.added.len(),
            self.updated.len(),
            self.retired.len(),
            self.reinstated.len(),
            self.unchanged
        )?;
        for (what, ids) in [
            ("added", &self.added),
            ("updated", &self.updated),
            ("retired", &self.retired),
            ("reinstated", &self.reinstated),
        ] {
            if !ids.is_empty() {
                let names: Vec<&str> = ids.iter().map(ModelId::as_str).collect();
                write!(f, "\n  {what}: {}", names.join(", "))?;
            }
        }
        Ok(())
    }
}

/// What one row of a table or one entry of a YAML says about a model. `None`
/// means the file says nothing (empty cell, `N/A`, absent key).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Observation {
    pub id: ModelId,
    pub family: Option<String>,
    pub editor: Option<String>,
    pub parameters: Option<String>,
    pub context: Option<u32>,
    pub capabilities: Option<BTreeSet<Capability>>,
    pub licence: Option<String>,
    pub section: Option<String>,
    pub speed_tps: Option<u32>,
    pub energy: Option<String>,
    pub tags: Option<Vec<String>>,
    pub description: Option<String>,
    pub details: Option<String>,
    pub production_date: Option<NaiveDate>,
    pub end_of_support: Option<NaiveDate>,
    pub lts: Option<bool>,
    pub successor: Option<ModelId>,
    /// `Some` when the file marks the model removed.
    pub removed: Option<Removal>,
}

/// A file marks a model removed from the platform, on this day if it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Removal {
    pub on: Option<NaiveDate>,
}

impl Observation {
    pub(crate) fn new(id: ModelId) -> Self {
        Observation {
            id,
            family: None,
            editor: None,
            parameters: None,
            context: None,
            capabilities: None,
            licence: None,
            section: None,
            speed_tps: None,
            energy: None,
            tags: None,
            description: None,
            details: None,
            production_date: None,
            end_of_support: None,
            lts: None,
            successor: None,
            removed: None,
        }
    }

    /// Whether the file gave any figure or date (a bare `Déprécié` row gives none).
    fn has_figures(&self) -> bool {
        self.parameters.is_some()
            || self.context.is_some()
            || self.capabilities.is_some()
            || self.licence.is_some()
            || self.section.is_some()
            || self.speed_tps.is_some()
            || self.energy.is_some()
            || self.tags.is_some()
            || self.production_date.is_some()
            || self.end_of_support.is_some()
            || self.lts.is_some()
            || self.successor.is_some()
    }
}

/// The snapshot label in a provider file's name (`catalog-2026-05.csv` → `2026-05`;
/// a `YYYY-MM-DD` date is kept whole).
pub fn snapshot_label_of(path: &Path) -> Option<String> {
    let name = path.file_stem()?.to_str()?;
    let b = name.as_bytes();
    (0..b.len()).find_map(|i| {
        let starts_a_number = i == 0 || !b[i - 1].is_ascii_digit();
        [10, 7].into_iter().find_map(|len| {
            let candidate = name.get(i..i + len)?;
            let ends_a_number = b.get(i + len).is_none_or(|c| !c.is_ascii_digit());
            (starts_a_number && ends_a_number && is_snapshot_label(candidate))
                .then(|| candidate.to_owned())
        })
    })
}

/// The largest catalogue or provider file read: the provider's model table
/// is a few dozen KB, and a parser is never handed more than this.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A text file of at most [`MAX_FILE_BYTES`]; a larger one is an error
/// before a byte of it is read.
pub(crate) fn read_bounded(path: &Path) -> std::io::Result<String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)?;
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "the file is larger than {} MiB, more than any catalogue",
                MAX_FILE_BYTES >> 20
            ),
        ));
    }
    Ok(text)
}

/// Imports one provider file into `catalog`. The format comes from the extension;
/// the snapshot label is `as_of` or else the date in the file name.
pub fn import(
    catalog: &mut Catalog,
    path: &Path,
    as_of: Option<&str>,
) -> Result<ImportReport, ImportError> {
    let format = ProviderFormat::from_path(path).ok_or_else(|| ImportError::UnknownFormat {
        path: path.to_owned(),
    })?;
    let label = match as_of {
        Some(label) => label.to_owned(),
        None => snapshot_label_of(path).ok_or_else(|| ImportError::NoSnapshotLabel {
            path: path.to_owned(),
        })?,
    };
    let text = read_bounded(path).map_err(|source| ImportError::Io {
        path: path.to_owned(),
        source,
    })?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    import_str(catalog, &text, format, &name, &label)
}

/// Imports a provider file's text; `file` names it in messages and `label` is its
/// snapshot (`2026-05`). On error the catalogue is unchanged.
pub fn import_str(
    catalog: &mut Catalog,
    text: &str,
    format: ProviderFormat,
    file: &str,
    label: &str,
) -> Result<ImportReport, ImportError> {
    if !is_snapshot_label(label) {
        return Err(ImportError::BadSnapshotLabel {
            label: label.to_owned(),
        });
    }
    let at = SnapshotRef::new(label, format.kind());
    let observations = match format {
        ProviderFormat::Csv => table::parse(text, file)?,
        ProviderFormat::Yaml => config::parse(text, file)?,
    };
    let before = catalog.clone();
    let newest_table = catalog
        .iter()
        .filter(|m| m.source.last_listed.kind == SourceKind::Csv)
        .map(|m| m.source.last_listed.label.clone())
        .max();
    for obs in observations.iter().cloned() {
        observe(catalog, obs, &at, newest_table.as_deref());
    }
    if format == ProviderFormat::Csv {
        let listed: HashSet<&ModelId> = observations.iter().map(|o| &o.id).collect();
        retire_absent(catalog, &listed, &at);
    }
    apply_known_aliases(catalog);
    if catalog.snapshot() < label {
        catalog.set_snapshot(label);
    }
    Ok(report(&before, catalog, file, at))
}

/// Builds a catalogue from provider files, imported in the order given, each
/// labelled by the date in its name.
pub fn from_provider_files<P: AsRef<Path>>(
    paths: &[P],
) -> Result<(Catalog, Vec<ImportReport>), ImportError> {
    let mut catalog = Catalog::new();
    let reports = paths
        .iter()
        .map(|p| import(&mut catalog, p.as_ref(), None))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((catalog, reports))
}

/// The provider files (`.csv`, `.yaml`, `.yml`) of a directory in import order:
/// oldest snapshot first, and within a snapshot the table before the YAML, so
/// that the YAML's descriptions land on the table's models.
pub fn provider_files_in(dir: &Path) -> Result<Vec<PathBuf>, ImportError> {
    let io = |source| ImportError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if let Some(format) = ProviderFormat::from_path(&path) {
            let label = snapshot_label_of(&path)
                .ok_or_else(|| ImportError::NoSnapshotLabel { path: path.clone() })?;
            let order = u8::from(format == ProviderFormat::Yaml);
            files.push((label, order, path));
        }
    }
    files.sort();
    Ok(files.into_iter().map(|(_, _, p)| p).collect())
}

/// Read-merge-write on a `catalog.toml`: what `llmaas catalog import FILE` does
/// to the bundled catalogue. The file is rewritten only if something changed.
///
/// Copy the provider file into `models/provider/` as well: the bundled
/// catalogue's staleness test regenerates it from that directory.
pub fn import_into_file(
    catalog_toml: &Path,
    provider_file: &Path,
    as_of: Option<&str>,
) -> Result<ImportReport, ImportError> {
    let mut catalog = Catalog::load(catalog_toml)?;
    let before = catalog.clone();
    let report = import(&mut catalog, provider_file, as_of)?;
    if catalog != before {
        catalog.save(catalog_toml)?;
    }
    Ok(report)
}

/// Merges one row or entry; `newest_table` is the label of the newest table
/// imported before this file.
fn observe(catalog: &mut Catalog, obs: Observation, at: &SnapshotRef, newest_table: Option<&str>) {
    let model = if let Some(m) = catalog.get_mut(&obs.id) {
        m
    } else {
        let mut model = Model::new(obs.id.clone(), at.clone());
        // A table is complete for its snapshot, so a model that only a YAML of the
        // same or an older snapshot describes is not served (the stale 2026-05
        // YAML still describes models the 2026-05 table dropped).
        if let Some(table) =
            newest_table.filter(|t| at.kind == SourceKind::Yaml && at.label.as_str() <= *t)
        {
            model.lifecycle.retired = Some(Retirement {
                on: None,
                note: format!(
                    "described by the {} YAML but absent from the {table} table",
                    at.label
                ),
                noticed_in: table.to_owned(),
            });
        }
        catalog.insert(model);
        catalog.get_mut(&obs.id).expect("just inserted")
    };
    let removed = obs.removed;
    let listing = at.kind == SourceKind::Csv || !model.is_retired();
    if listing && *at > model.source.last_listed {
        model.source.last_listed = at.clone();
    }
    merge_fields(model, obs, at);
    if at.kind != SourceKind::Csv {
        return;
    }
    let label = at.label.as_str();
    match (&mut model.lifecycle.retired, removed) {
        (None, Some(Removal { on })) => {
            model.lifecycle.retired = Some(Retirement {
                on,
                note: format!("marked removed from the public platform in the {label} snapshot"),
                noticed_in: label.to_owned(),
            });
        }
        (Some(r), Some(Removal { on: Some(on) }))
            if label >= r.noticed_in.as_str() && r.on != Some(on) =>
        {
            r.on = Some(on);
            r.note = format!("marked removed from the public platform in the {label} snapshot");
        }
        (Some(r), None) if label >= r.noticed_in.as_str() => model.lifecycle.retired = None,
        _ => {}
    }
}

/// Rule 1 of the module docs, field by field.
fn merge_fields(model: &mut Model, obs: Observation, at: &SnapshotRef) {
    fn put<T>(field: &mut Option<T>, value: Option<T>, overwrite: bool) {
        if let Some(v) = value
            && (overwrite || field.is_none())
        {
            *field = Some(v);
        }
    }
    fn put_text(field: &mut String, value: Option<String>, overwrite: bool) {
        if let Some(v) = value
            && (overwrite || field.is_empty())
        {
            *field = v;
        }
    }
    let yaml = at.kind == SourceKind::Yaml;
    // The YAML describes what the site shows, so for a retired model it is stale
    // by definition (the 2026-05 YAML still describes magistral:24b).
    let frozen = yaml && model.is_retired();
    let overwrite = *at >= model.source.figures && !frozen;
    // The YAML's `dsp` contradicts the same snapshot's table for half the models
    // (30/03/2025 for devstral:24b, before its production date), so only tables
    // may change lifecycle dates; a YAML fills them in for models no table has.
    let overwrite_dates = overwrite && !yaml;
    if overwrite && obs.has_figures() {
        model.source.figures = at.clone();
    }
    put_text(&mut model.family, obs.family, overwrite);
    put_text(&mut model.editor, obs.editor, overwrite);
    put_text(&mut model.parameters, obs.parameters, overwrite);
    put_text(&mut model.licence, obs.licence, overwrite);
    put_text(&mut model.section, obs.section, overwrite);
    put(&mut model.context, obs.context, overwrite);
    put(&mut model.speed_tps, obs.speed_tps, overwrite);
    put(&mut model.energy_kwh_per_mtok, obs.energy, overwrite);
    if let Some(caps) = obs.capabilities
        && (overwrite || model.capabilities.is_empty())
    {
        model.capabilities = caps;
    }
    if let Some(tags) = obs.tags
        && (overwrite || model.tags.is_empty())
    {
        model.tags = tags;
    }
    let life = &mut model.lifecycle;
    put(
        &mut life.production_date,
        obs.production_date,
        overwrite_dates,
    );
    put(
        &mut life.end_of_support,
        obs.end_of_support,
        overwrite_dates,
    );
    put(&mut life.lts, obs.lts, overwrite_dates);
    put(&mut life.successor, obs.successor, overwrite_dates);

    let undescribed = model.description.is_none() && model.details.is_none();
    let describe =
        undescribed || (!frozen && model.source.described.as_ref().is_none_or(|d| at >= d));
    if describe && (obs.description.is_some() || obs.details.is_some()) {
        put(&mut model.description, obs.description, true);
        put(&mut model.details, obs.details, true);
        model.source.described = Some(at.clone());
    }
}

/// Rule 2: a complete table retires what it no longer lists.
fn retire_absent(catalog: &mut Catalog, listed: &HashSet<&ModelId>, at: &SnapshotRef) {
    let ids: Vec<ModelId> = catalog
        .iter()
        .filter(|m| !listed.contains(&m.id) && !m.is_retired() && m.source.last_listed < *at)
        .map(|m| m.id.clone())
        .collect();
    for id in ids {
        let model = catalog.get_mut(&id).expect("listed above");
        let announced = model
            .lifecycle
            .end_of_support
            .map(|dsp| format!(", with end of support then announced for {dsp}"))
            .unwrap_or_default();
        let note = format!(
            "absent from the {} snapshot (last listed in {}{announced})",
            at.label, model.source.last_listed.label
        );
        model.lifecycle.retired = Some(Retirement {
            on: None,
            note,
            noticed_in: at.label.clone(),
        });
    }
}

fn apply_known_aliases(catalog: &mut Catalog) {
    for (id, aliases) in KNOWN_ALIASES {
        if let Some(model) = catalog.get_mut(&ModelId::from(*id)) {
            for alias in *aliases {
                if !model.aliases.iter().any(|a| a == alias) {
                    model.aliases.push((*alias).to_owned());
                }
            }
        }
    }
}

/// Equal but for the bookkeeping in [`Model::source`], which would otherwise make
/// every re-listing look like an update.
fn same_content(a: &Model, b: &Model) -> bool {
    let mut b = b.clone();
    b.source = a.source.clone();
    *a == b
}

fn report(before: &Catalog, after: &Catalog, file: &str, at: SnapshotRef) -> ImportReport {
    let mut r = ImportReport {
        file: file.to_owned(),
        snapshot: at,
        added: Vec::new(),
        updated: Vec::new(),
        retired: Vec::new(),
        reinstated: Vec::new(),
        unchanged: 0,
    };
    for model in after {
        let id = model.id.clone();
        match before.get(id.as_str()).filter(|m| m.id == id) {
            None => r.added.push(id),
            Some(old) if !old.is_retired() && model.is_retired() => r.retired.push(id),
            Some(old) if old.is_retired() && !model.is_retired() => r.reinstated.push(id),
            Some(old) if !same_content(old, model) => r.updated.push(id),
            Some(_) => r.unchanged += 1,
        }
    }
    r
}

/// The fuzzer's entry (and the corpus replay's): `data` as a provider file,
/// CSV or YAML by its first byte, imported into an empty catalogue and into
/// the bundled one. An error or a report, never a panic.
#[doc(hidden)]
pub fn fuzz_one(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let format = if which % 2 == 0 {
        ProviderFormat::Csv
    } else {
        ProviderFormat::Yaml
    };
    let text = String::from_utf8_lossy(rest);
    let _ = import_str(&mut Catalog::new(), &text, format, "fuzz", "2026-05");
    let mut bundled = Catalog::bundled().clone();
    let _ = import_str(&mut bundled, &text, format, "fuzz", "2026-05");
}

#[cfg(test)]
mod tests;
