//! The catalogue: loading and saving `catalog.toml`, and the queries the app asks.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::OnceLock;

use chrono::{Days, NaiveDate};
use llmaas_core::{Capability, ModelId};
use serde::{Deserialize, Serialize};

use crate::error::{CatalogError, line_of};
use crate::model::{LifecycleState, Model, is_snapshot_label};

/// The `format` number this build writes and reads in `catalog.toml`.
pub const FORMAT_VERSION: i64 = 1;

/// The catalogue compiled into the app, generated from `models/provider/` by the importer.
const BUNDLED_TOML: &str = include_str!("../../../../models/catalog.toml");

/// Comment written at the top of every `catalog.toml`.
const HEADER: &str = "\
# The LLMaaS model catalogue bundled with LLMaaS Desktop.
# Generated from the provider's files in models/provider/ by the llmaas-catalog importer
# (`llmaas catalog import FILE`, or `UPDATE_CATALOG=1 cargo test -p llmaas-catalog`).
# Do not edit by hand: the next import would undo it, and a test checks it is up to date.
";

/// The provider's models, sorted by id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    snapshot: String,
    models: Vec<Model>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    format: toml::Spanned<i64>,
    #[serde(default)]
    snapshot: Option<toml::Spanned<String>>,
    #[serde(default, rename = "model")]
    models: Vec<Model>,
}

#[derive(Serialize)]
struct CatalogFileRef<'a> {
    format: i64,
    snapshot: &'a str,
    #[serde(rename = "model")]
    models: &'a [Model],
}

/// Read before the full schema so that a newer file is reported as such rather
/// than as a confusing schema error.
#[derive(Deserialize)]
struct FormatProbe {
    format: Option<toml::Spanned<toml::Value>>,
}

impl Catalog {
    /// A catalogue with no models and no snapshot, to import provider files into.
    pub fn new() -> Self {
        Catalog::default()
    }

    /// The catalogue bundled with the app (parsed once; the test suite checks it parses).
    pub fn bundled() -> &'static Catalog {
        static BUNDLED: OnceLock<Catalog> = OnceLock::new();
        BUNDLED.get_or_init(|| {
            Catalog::from_toml_str(BUNDLED_TOML)
                .expect("the bundled models/catalog.toml parses (checked by the test suite)")
        })
    }

    /// Parses the text of a `catalog.toml`; errors name `catalog.toml` and the line.
    pub fn from_toml_str(text: &str) -> Result<Catalog, CatalogError> {
        parse(text, "catalog.toml")
    }

    /// Reads a `catalog.toml`; errors name the file and the line.
    pub fn load(path: &Path) -> Result<Catalog, CatalogError> {
        let text = crate::import::read_bounded(path).map_err(|source| CatalogError::Io {
            path: path.to_owned(),
            source,
        })?;
        parse(&text, &path.display().to_string())
    }

    /// The catalogue as `catalog.toml` text; [`Catalog::from_toml_str`] reads it back
    /// unchanged.
    pub fn to_toml_string(&self) -> String {
        let file = CatalogFileRef {
            format: FORMAT_VERSION,
            snapshot: &self.snapshot,
            models: &self.models,
        };
        // Only strings, integers, dates-as-strings and tables: nothing toml refuses.
        let body = toml::to_string(&file).expect("a catalogue always serialises to TOML");
        format!("{HEADER}\n{body}")
    }

    /// Writes the catalogue to `path`, through a temporary file so that a crash
    /// never leaves half a catalogue behind.
    pub fn save(&self, path: &Path) -> Result<(), CatalogError> {
        let io = |source| CatalogError::Io {
            path: path.to_owned(),
            source,
        };
        llmaas_files::write_atomic(path, self.to_toml_string().as_bytes()).map_err(io)
    }

    /// The label of the newest provider snapshot merged in (`2026-05`), empty for a
    /// catalogue that has imported nothing.
    pub fn snapshot(&self) -> &str {
        &self.snapshot
    }

    pub(crate) fn set_snapshot(&mut self, label: &str) {
        label.clone_into(&mut self.snapshot);
    }

    /// All models, retired ones included, sorted by id.
    pub fn models(&self) -> &[Model] {
        &self.models
    }

    /// Iterates over all models, retired ones included, sorted by id.
    pub fn iter(&self) -> std::slice::Iter<'_, Model> {
        self.models.iter()
    }

    /// How many models, retired ones included.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// Whether the catalogue has no models.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// Adds a model or replaces the one with the same id, returning the old entry.
    pub fn insert(&mut self, model: Model) -> Option<Model> {
        match self.models.binary_search_by(|m| m.id.cmp(&model.id)) {
            Ok(i) => Some(std::mem::replace(&mut self.models[i], model)),
            Err(i) => {
                self.models.insert(i, model);
                None
            }
        }
    }

    pub(crate) fn get_mut(&mut self, id: &ModelId) -> Option<&mut Model> {
        let i = self.models.binary_search_by(|m| m.id.cmp(id)).ok()?;
        Some(&mut self.models[i])
    }

    /// The model with this id or alias. Exact names win; failing that, names are
    /// compared ignoring ASCII case, because users type `DeepSeek-OCR`.
    pub fn get(&self, name: &str) -> Option<&Model> {
        if let Ok(i) = self.models.binary_search_by(|m| m.id.as_str().cmp(name)) {
            return Some(&self.models[i]);
        }
        self.models.iter().find(|m| m.answers_to(name)).or_else(|| {
            self.models.iter().find(|m| {
                m.id.as_str().eq_ignore_ascii_case(name)
                    || m.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
            })
        })
    }

    /// The models that match `query`, sorted by id.
    pub fn search(&self, query: &Query) -> Vec<&Model> {
        let terms: Vec<String> = query
            .text
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        self.models
            .iter()
            .filter(|m| query.include_retired || !m.is_retired())
            .filter(|m| query.capabilities.iter().all(|c| m.has(*c)))
            .filter(|m| terms.is_empty() || matches_terms(m, &terms))
            .collect()
    }

    /// Listed models whose end of support falls between `today` and `today + days`
    /// (both included), soonest first. Models already past their end of support
    /// are not "retiring within": see [`Model::state`] for those.
    pub fn retiring_within(&self, today: NaiveDate, days: u32) -> Vec<&Model> {
        let horizon = today
            .checked_add_days(Days::new(u64::from(days)))
            .unwrap_or(NaiveDate::MAX);
        let mut out: Vec<&Model> = self
            .models
            .iter()
            .filter(|m| !m.is_retired())
            .filter(|m| {
                m.lifecycle
                    .end_of_support
                    .is_some_and(|d| today <= d && d <= horizon)
            })
            .collect();
        out.sort_by(|a, b| {
            (a.lifecycle.end_of_support, &a.id).cmp(&(b.lifecycle.end_of_support, &b.id))
        });
        out
    }

    /// Where to go instead of `name`: follows the provider's successor chain to the
    /// first model that is still listed. `None` when the model is unknown, names no
    /// successor, or the chain ends at a retired or unknown model or loops.
    pub fn successor_of(&self, name: &str) -> Option<&Model> {
        let mut current = self.get(name)?;
        let mut seen: HashSet<&ModelId> = HashSet::from([&current.id]);
        loop {
            let next_id = current.lifecycle.successor.as_ref()?;
            let next = self.get(next_id.as_str())?;
            if !seen.insert(&next.id) {
                tracing::warn!(model = name, "the catalogue's successor chain loops");
                return None;
            }
            if !next.is_retired() {
                return Some(next);
            }
            current = next;
        }
    }

    /// A sentence to show beside a model that is ending soon, past its end of
    /// support or retired (with the successor when there is one); `None` for a
    /// live model or an unknown name. Uses the provider's 90-day notice.
    pub fn lifecycle_warning(&self, name: &str, today: NaiveDate) -> Option<String> {
        let model = self.get(name)?;
        let mut text = match model.state(today) {
            LifecycleState::EndingSoon {
                end_of_support,
                days_left,
            } => format!(
                "{} reaches its end of support on {end_of_support} (in {days_left} days)",
                model.id
            ),
            LifecycleState::PastEndOfSupport { end_of_support, .. } => format!(
                "{} passed its end of support on {end_of_support} and may no longer be served",
                model.id
            ),
            LifecycleState::Retired { on } => {
                let note = model
                    .lifecycle
                    .retired
                    .as_ref()
                    .map_or("", |r| r.note.as_str());
                match on {
                    Some(on) => format!("{} was retired on {on} ({note})", model.id),
                    None => format!("{} was retired ({note})", model.id),
                }
            }
            _ => return None,
        };
        if let Some(next) = self.successor_of(name) {
            text = format!("{text}; the provider recommends {}", next.id);
        }
        Some(text)
    }
}

impl<'a> IntoIterator for &'a Catalog {
    type Item = &'a Model;
    type IntoIter = std::slice::Iter<'a, Model>;

    fn into_iter(self) -> Self::IntoIter {
        self.models.iter()
    }
}

/// A catalogue search: every listed capability is required, and every
/// whitespace-separated word of `text` must appear (ignoring case) in the id, an
/// alias, the family, editor, tags, description or details.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Capabilities the model must all have.
    pub capabilities: Vec<Capability>,
    /// Words to look for; `None` or blank matches everything.
    pub text: Option<String>,
    /// Whether retired models are returned too.
    pub include_retired: bool,
}

impl Query {
    /// A query that matches every listed model.
    pub fn new() -> Self {
        Query::default()
    }

    /// Also require `cap`.
    #[must_use]
    pub fn with_capability(mut self, cap: Capability) -> Self {
        self.capabilities.push(cap);
        self
    }

    /// Also require these words.
    #[must_use]
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// Whether retired models are returned too.
    #[must_use]
    pub fn with_retired(mut self, include: bool) -> Self {
        self.include_retired = include;
        self
    }
}

fn matches_terms(m: &Model, terms: &[String]) -> bool {
    let mut hay = String::new();
    for part in [m.id.as_str(), &m.family, &m.editor]
        .into_iter()
        .chain(m.aliases.iter().map(String::as_str))
        .chain(m.tags.iter().map(String::as_str))
        .chain(m.description.as_deref())
        .chain(m.details.as_deref())
    {
        hay.push_str(&part.to_lowercase());
        hay.push('\n');
    }
    terms.iter().all(|t| hay.contains(t.as_str()))
}

fn parse(text: &str, file: &str) -> Result<Catalog, CatalogError> {
    let parse_error = |e: toml::de::Error| CatalogError::Parse {
        file: file.to_owned(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim_end().to_owned(),
    };
    let probe: FormatProbe = toml::from_str(text).map_err(parse_error)?;
    match probe.format {
        None => {
            return Err(CatalogError::Parse {
                file: file.to_owned(),
                line: Some(1),
                message: format!("missing `format = {FORMAT_VERSION}`: not a catalogue file"),
            });
        }
        Some(f) => match f.get_ref().as_integer() {
            Some(FORMAT_VERSION) => {}
            found => {
                return Err(CatalogError::UnsupportedFormat {
                    file: file.to_owned(),
                    line: Some(line_of(text, f.span().start)),
                    found: found.unwrap_or(-1),
                });
            }
        },
    }
    let parsed: CatalogFile = toml::from_str(text).map_err(parse_error)?;
    debug_assert_eq!(*parsed.format.get_ref(), FORMAT_VERSION);
    let snapshot = match parsed.snapshot {
        None => String::new(),
        Some(s) if s.get_ref().is_empty() || is_snapshot_label(s.get_ref()) => s.into_inner(),
        Some(s) => {
            return Err(CatalogError::Parse {
                file: file.to_owned(),
                line: Some(line_of(text, s.span().start)),
                message: format!(
                    "bad snapshot label {:?} (YYYY-MM or YYYY-MM-DD)",
                    s.get_ref()
                ),
            });
        }
    };
    check_names(&parsed.models, text, file)?;
    let mut models = parsed.models;
    models.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Catalog { snapshot, models })
}

/// Rejects empty ids and names claimed twice, naming the line of the culprit.
fn check_names(models: &[Model], text: &str, file: &str) -> Result<(), CatalogError> {
    let mut owner: HashMap<&str, &ModelId> = HashMap::new();
    let mut id_seen: HashMap<&str, usize> = HashMap::new();
    for m in models {
        let nth = id_seen.entry(m.id.as_str()).or_insert(0);
        *nth += 1;
        let line = id_line(text, m.id.as_str(), *nth);
        if m.id.as_str().trim().is_empty() {
            return Err(CatalogError::Parse {
                file: file.to_owned(),
                line,
                message: "a model has an empty id".to_owned(),
            });
        }
        for name in std::iter::once(m.id.as_str()).chain(m.aliases.iter().map(String::as_str)) {
            if owner
                .insert(name, &m.id)
                .is_some_and(|prev| prev != &m.id || *nth > 1)
            {
                return Err(CatalogError::Duplicate {
                    file: file.to_owned(),
                    line,
                    name: name.to_owned(),
                });
            }
        }
    }
    Ok(())
}

/// The line of the `nth` (1-based) `id = "..."` entry for `id`, if it can be found.
fn id_line(text: &str, id: &str, nth: usize) -> Option<usize> {
    let wanted = toml::Value::String(id.to_owned()).to_string();
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            l.trim_start().strip_prefix("id").is_some_and(|rest| {
                rest.trim_start()
                    .strip_prefix('=')
                    .is_some_and(|v| v.trim() == wanted)
            })
        })
        .nth(nth - 1)
        .map(|(i, _)| i + 1)
}

#[cfg(test)]
mod tests;
