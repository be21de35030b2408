//! One catalogue entry and its lifecycle.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use llmaas_core::{Capability, ModelId};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The provider gives three months' notice before it removes a model, so a model
/// whose end of support is this close is flagged as ending soon.
pub const DEFAULT_NOTICE_DAYS: u32 = 90;

/// One model of the provider's catalogue.
///
/// Fields the provider left blank stay empty (`""`, `None`, `[]`) rather than
/// being guessed: retired models in particular are often known only by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// The id the API expects (`gpt-oss:120b`).
    pub id: ModelId,
    /// Other names the API accepts for this model (`deepseek-ai/DeepSeek-OCR`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Model family (`gpt-oss`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub family: String,
    /// Who published the weights (`OpenAI`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub editor: String,
    /// Parameter count as the provider writes it (`120B`, `7B (1B actif)`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub parameters: String,
    /// Context window in tokens, when the provider gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<u32>,
    /// What the model can do; see [`with_derived_chat`] for where `chat` comes from.
    /// Empty means "not known", not "can do nothing".
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub capabilities: BTreeSet<Capability>,
    /// Licence of the weights.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub licence: String,
    /// The section of the provider's documentation that lists the model.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub section: String,
    /// Measured throughput in tokens per second, rounded to a whole number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed_tps: Option<u32>,
    /// Energy per million tokens in kWh, kept as the provider wrote the decimal so
    /// that regenerating the catalogue never adds float noise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy_kwh_per_mtok: Option<String>,
    /// Provider keywords (French), used by text search.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// One-line description (French, from the provider's YAML).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Longer description (French, from the provider's YAML).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Production date, end of support, LTS, successor and retirement.
    #[serde(default)]
    pub lifecycle: Lifecycle,
    /// Which provider snapshots this entry comes from.
    pub source: Source,
}

impl Model {
    /// An entry that knows only its id and where it was first seen.
    pub fn new(id: impl Into<ModelId>, seen_in: SnapshotRef) -> Self {
        Model {
            id: id.into(),
            aliases: Vec::new(),
            family: String::new(),
            editor: String::new(),
            parameters: String::new(),
            context: None,
            capabilities: BTreeSet::new(),
            licence: String::new(),
            section: String::new(),
            speed_tps: None,
            energy_kwh_per_mtok: None,
            tags: Vec::new(),
            description: None,
            details: None,
            lifecycle: Lifecycle::default(),
            source: Source {
                first_listed: seen_in.clone(),
                last_listed: seen_in.clone(),
                figures: seen_in,
                described: None,
            },
        }
    }

    /// Whether the model has `cap`.
    pub fn has(&self, cap: Capability) -> bool {
        self.capabilities.contains(&cap)
    }

    /// Whether the provider has removed the model.
    pub fn is_retired(&self) -> bool {
        self.lifecycle.retired.is_some()
    }

    /// Where the model stands on `today`, with the provider's 90-day notice.
    pub fn state(&self, today: NaiveDate) -> LifecycleState {
        self.lifecycle.state(today, DEFAULT_NOTICE_DAYS)
    }

    /// Whether `name` is this model's id or one of its aliases (exact match).
    pub fn answers_to(&self, name: &str) -> bool {
        self.id.as_str() == name || self.aliases.iter().any(|a| a == name)
    }
}

/// The dates and fate of a model, as the provider's lifecycle table gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lifecycle {
    /// DMP: the day the model went into production.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_date: Option<NaiveDate>,
    /// DSP: the announced end of support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_of_support: Option<NaiveDate>,
    /// Whether the provider marks the model long-term support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lts: Option<bool>,
    /// The model the provider tells users to migrate to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successor: Option<ModelId>,
    /// Set once the provider no longer serves the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired: Option<Retirement>,
}

impl Lifecycle {
    /// Where the model stands on `today`; `notice_days` is how close the end of
    /// support must be to count as [`LifecycleState::EndingSoon`].
    ///
    /// A model whose end of support has passed but that the newest snapshot still
    /// listed is [`LifecycleState::PastEndOfSupport`], not retired: the bundled data
    /// cannot tell whether the provider has removed it since, only the live
    /// `/v1/models` list can.
    pub fn state(&self, today: NaiveDate, notice_days: u32) -> LifecycleState {
        if let Some(r) = &self.retired {
            return LifecycleState::Retired { on: r.on };
        }
        let Some(end) = self.end_of_support else {
            return LifecycleState::Live;
        };
        let days = (end - today).num_days();
        if days < 0 {
            LifecycleState::PastEndOfSupport {
                end_of_support: end,
                days_past: u32::try_from(-days).unwrap_or(u32::MAX),
            }
        } else if days <= i64::from(notice_days) {
            LifecycleState::EndingSoon {
                end_of_support: end,
                days_left: u32::try_from(days).unwrap_or(u32::MAX),
            }
        } else {
            LifecycleState::Live
        }
    }
}

/// The provider stopped serving a model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retirement {
    /// The day it was removed, when the provider says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<NaiveDate>,
    /// How we know (`absent from the 2026-05 snapshot ...`).
    pub note: String,
    /// The snapshot label that first showed the retirement; an older snapshot
    /// imported later must not bring the model back.
    pub noticed_in: String,
}

/// Where a model stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LifecycleState {
    /// Served, with no end of support in sight.
    Live,
    /// Served, but its end of support is within the notice period.
    EndingSoon {
        /// The announced end of support.
        end_of_support: NaiveDate,
        /// Days from today to that date (0 on the day itself).
        days_left: u32,
    },
    /// The end of support has passed, yet the newest snapshot still listed it.
    PastEndOfSupport {
        /// The announced end of support.
        end_of_support: NaiveDate,
        /// Days since that date.
        days_past: u32,
    },
    /// Removed by the provider.
    Retired {
        /// The removal date, when known.
        on: Option<NaiveDate>,
    },
}

impl LifecycleState {
    /// Whether the model should still be offered (everything but retired).
    pub fn is_listed(self) -> bool {
        !matches!(self, LifecycleState::Retired { .. })
    }
}

/// Which provider snapshots an entry comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The first snapshot that listed the model.
    pub first_listed: SnapshotRef,
    /// The newest snapshot that listed the model (a retired model's last listing).
    pub last_listed: SnapshotRef,
    /// The snapshot its figures (parameters, context, capabilities, speed, energy,
    /// licence, dates) come from; only an equal or newer file may overwrite them.
    pub figures: SnapshotRef,
    /// The YAML snapshot its description comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub described: Option<SnapshotRef>,
}

/// The two kinds of file the provider publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceKind {
    /// `models_config.yaml`: descriptions and capability flags, but no complete
    /// lifecycle. Ordered before CSV so that, within one snapshot, the table wins.
    Yaml,
    /// The documentation's model table: the complete list with lifecycle dates.
    Csv,
}

impl SourceKind {
    /// `csv` or `yaml`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Yaml => "yaml",
            SourceKind::Csv => "csv",
        }
    }
}

/// A provider file's identity: its snapshot label (`2026-05`) and kind. Written
/// `"2026-05 csv"` in catalog.toml. Ordered by label, then CSV after YAML.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SnapshotRef {
    /// `YYYY-MM` or `YYYY-MM-DD`; these sort as text in date order.
    pub label: String,
    /// Which kind of file.
    pub kind: SourceKind,
}

impl SnapshotRef {
    /// A reference to the `kind` file of snapshot `label`.
    pub fn new(label: impl Into<String>, kind: SourceKind) -> Self {
        SnapshotRef {
            label: label.into(),
            kind,
        }
    }
}

impl Ord for SnapshotRef {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.label.as_str(), self.kind).cmp(&(other.label.as_str(), other.kind))
    }
}

impl PartialOrd for SnapshotRef {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for SnapshotRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.label, self.kind.as_str())
    }
}

impl FromStr for SnapshotRef {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (label, kind) = s
            .split_once(' ')
            .ok_or_else(|| format!("expected \"LABEL csv\" or \"LABEL yaml\", found {s:?}"))?;
        let kind = match kind {
            "csv" => SourceKind::Csv,
            "yaml" => SourceKind::Yaml,
            other => return Err(format!("unknown source kind {other:?} (csv or yaml)")),
        };
        if !is_snapshot_label(label) {
            return Err(format!(
                "bad snapshot label {label:?} (YYYY-MM or YYYY-MM-DD)"
            ));
        }
        Ok(SnapshotRef::new(label, kind))
    }
}

impl Serialize for SnapshotRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SnapshotRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Whether `s` is `YYYY-MM` or `YYYY-MM-DD` with a plausible month and day.
pub fn is_snapshot_label(s: &str) -> bool {
    // Formatting back rejects what chrono's lenient parser lets through (`2025-1-01`).
    let full = if s.len() == 7 {
        format!("{s}-01")
    } else {
        s.to_owned()
    };
    NaiveDate::parse_from_str(&full, "%Y-%m-%d")
        .is_ok_and(|d| d.format("%Y-%m-%d").to_string() == full)
}

/// Adds [`Capability::Chat`] to a text-generation model's capabilities.
///
/// The provider has no "chat" flag, so it is derived: a model chats unless every
/// capability it lists is a specialist one (embedding, rerank, audio, image
/// generation, translation, safety classification, OCR). A model that also lists
/// tools or reasoning is a general model with extras (`qwen3-omni` hears audio,
/// `mistral-small3.2` is safety-tuned, `qwen3-vl` does OCR) and chats. An empty
/// list means a plain text model (`olmo-3:7b`), which chats. This keeps
/// `deepseek-ocr`, the guardians, embedders, rerankers, translators, `voxtral` and
/// `z-image` out of chat pickers.
pub fn with_derived_chat(mut caps: BTreeSet<Capability>) -> BTreeSet<Capability> {
    const SPECIALIST: [Capability; 7] = [
        Capability::Embedding,
        Capability::Rerank,
        Capability::Audio,
        Capability::ImageGeneration,
        Capability::Translation,
        Capability::Safety,
        Capability::Ocr,
    ];
    let general = caps.contains(&Capability::Tools) || caps.contains(&Capability::Reasoning);
    let specialist = caps.iter().any(|c| SPECIALIST.contains(c));
    if general || !specialist {
        caps.insert(Capability::Chat);
    }
    caps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn caps(list: &[Capability]) -> BTreeSet<Capability> {
        list.iter().copied().collect()
    }

    #[test]
    fn chat_is_derived_for_text_models_only() {
        use Capability::*;
        assert!(with_derived_chat(caps(&[])).contains(&Chat));
        assert!(with_derived_chat(caps(&[Tools, Vision, Safety])).contains(&Chat));
        assert!(with_derived_chat(caps(&[Tools, Vision, Reasoning, Audio])).contains(&Chat));
        assert!(with_derived_chat(caps(&[Vision])).contains(&Chat));
        assert!(with_derived_chat(caps(&[Reasoning, Safety])).contains(&Chat));
        for only in [
            caps(&[Embedding]),
            caps(&[Rerank]),
            caps(&[Audio]),
            caps(&[ImageGeneration]),
            caps(&[Translation]),
            caps(&[Safety]),
            caps(&[Vision, Ocr]),
        ] {
            assert!(!with_derived_chat(only.clone()).contains(&Chat), "{only:?}");
        }
    }

    #[test]
    fn lifecycle_states_around_the_end_of_support() {
        let life = Lifecycle {
            end_of_support: Some(date("2026-12-30")),
            ..Lifecycle::default()
        };
        assert_eq!(life.state(date("2026-06-01"), 90), LifecycleState::Live);
        assert_eq!(
            life.state(date("2026-11-26"), 90),
            LifecycleState::EndingSoon {
                end_of_support: date("2026-12-30"),
                days_left: 34
            }
        );
        assert_eq!(
            life.state(date("2026-12-30"), 90),
            LifecycleState::EndingSoon {
                end_of_support: date("2026-12-30"),
                days_left: 0
            }
        );
        assert_eq!(
            life.state(date("2026-12-31"), 90),
            LifecycleState::PastEndOfSupport {
                end_of_support: date("2026-12-30"),
                days_past: 1
            }
        );
        assert_eq!(
            Lifecycle::default().state(date("2026-11-26"), 90),
            LifecycleState::Live
        );
        let gone = Lifecycle {
            retired: Some(Retirement {
                on: Some(date("2026-03-30")),
                note: String::new(),
                noticed_in: "2026-05".into(),
            }),
            ..life
        };
        let state = gone.state(date("2026-01-01"), 90);
        assert_eq!(
            state,
            LifecycleState::Retired {
                on: Some(date("2026-03-30"))
            }
        );
        assert!(!state.is_listed());
    }

    #[test]
    fn snapshot_refs_order_by_label_then_csv_last() {
        let r = |s: &str| s.parse::<SnapshotRef>().unwrap();
        assert!(r("2025-11 csv") < r("2026-05 yaml"));
        assert!(r("2026-05 yaml") < r("2026-05 csv"));
        assert!(r("2026-05 csv") < r("2026-05-14 yaml"));
        assert_eq!(r("2025-11 yaml").to_string(), "2025-11 yaml");
        for bad in [
            "2025-11",
            "2025-13 csv",
            "2025-11 xml",
            "25-11 csv",
            "2025-02-30 csv",
        ] {
            assert!(bad.parse::<SnapshotRef>().is_err(), "{bad}");
        }
    }
}
