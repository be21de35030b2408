//! The provider's `models_config.yaml` (French): top-level `stats`, `use_cases`,
//! and lists of models under `*_models` keys (`large_models`, `specialized_models`).

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use chrono::NaiveDate;
use llmaas_core::{Capability, ModelId};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::Observation;
use super::table::{parse_dmy, parse_energy, parse_speed};
use crate::error::ImportError;
use crate::model::with_derived_chat;

/// Reads every model entry; the first problem stops the import and names its line.
pub(crate) fn parse(text: &str, file: &str) -> Result<Vec<Observation>, ImportError> {
    let fail = |line: Option<usize>, message: String| ImportError::Yaml {
        file: file.to_owned(),
        line,
        message,
    };
    let sections: Sections = serde_yaml_ng::from_str(text).map_err(|e| {
        let line = e.location().map(|l| l.line());
        // The library appends " at line N column M"; the line is already in front.
        let message = e.to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        fail(line, message)
    })?;
    if sections.0.is_empty() {
        return Err(fail(
            None,
            "no `*_models` list: not a provider models_config file".into(),
        ));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (key, models) in sections.0 {
        for m in models {
            if !seen.insert(m.name.clone()) {
                return Err(fail(None, format!("model `{}` is described twice", m.name)));
            }
            out.push(m.into_observation(section_title(&key)));
        }
    }
    Ok(out)
}

/// The documentation's titles for the YAML's sections, so that both files agree.
fn section_title(key: &str) -> String {
    match key {
        "large_models" => "Modèles de Grande Taille".to_owned(),
        "specialized_models" => "Modèles Spécialisés".to_owned(),
        other => other.to_owned(),
    }
}

/// The model lists, in file order. Hand-written so that unrelated top-level keys
/// (`stats`, `use_cases`, anything new) are skipped, while errors inside a model
/// keep the parser's line numbers (buffering through `Value` would lose them).
struct Sections(Vec<(String, Vec<YamlModel>)>);

impl<'de> Deserialize<'de> for Sections {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Sections;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping with `*_models` lists")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Sections, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key.ends_with("_models") {
                        let models: Option<Vec<YamlModel>> = map.next_value()?;
                        out.push((key, models.unwrap_or_default()));
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Sections(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// One model entry. Keys not listed here (`location`, `parameters`, `is_fast`,
/// `use_cases`) are ignored.
#[derive(Deserialize)]
struct YamlModel {
    name: String,
    editor: Option<Text>,
    dsp: Option<Dmy>,
    parameters_string: Option<Text>,
    context_size: Option<u32>,
    speed: Option<Speed>,
    energy_per_million_tokens: Option<Energy>,
    licence: Option<Text>,
    description: Option<Text>,
    details: Option<Text>,
    supports_tools: Option<bool>,
    supports_vision: Option<bool>,
    supports_reasoning: Option<bool>,
    supports_security: Option<bool>,
    #[serde(default)]
    tags: Option<Vec<String>>,
}

impl YamlModel {
    fn into_observation(self, section: String) -> Observation {
        let mut obs = Observation::new(ModelId::from(self.name.trim()));
        obs.editor = self.editor.and_then(Text::non_empty);
        obs.parameters = self.parameters_string.and_then(Text::non_empty);
        obs.context = self.context_size.filter(|&c| c > 0);
        obs.speed_tps = self.speed.and_then(|s| s.0);
        obs.energy = self.energy_per_million_tokens.and_then(|e| e.0);
        obs.licence = self.licence.and_then(Text::non_empty);
        obs.description = self.description.and_then(Text::non_empty);
        obs.details = self.details.and_then(Text::non_empty);
        obs.end_of_support = self.dsp.and_then(|d| d.0);
        obs.section = Some(section);
        let tags: Vec<String> = self
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
        let flags = [
            (self.supports_tools, Capability::Tools),
            (self.supports_vision, Capability::Vision),
            (self.supports_reasoning, Capability::Reasoning),
            (self.supports_security, Capability::Safety),
        ];
        if flags.iter().any(|(f, _)| f.is_some()) {
            let mut caps: BTreeSet<Capability> = flags
                .iter()
                .filter(|(f, _)| *f == Some(true))
                .map(|(_, c)| *c)
                .collect();
            caps.extend(tags.iter().filter_map(|t| capability_from_tag(t)));
            obs.capabilities = Some(with_derived_chat(caps));
        }
        obs.tags = (!tags.is_empty()).then_some(tags);
        obs
    }
}

/// The YAML has flags only for tools, vision, reasoning and security; the other
/// capabilities show only as tags (an embedder is tagged `Embedding`).
fn capability_from_tag(tag: &str) -> Option<Capability> {
    let cap = match tag.to_lowercase().as_str() {
        "embedding" => Capability::Embedding,
        "ocr" => Capability::Ocr,
        "rerank" | "reranker" => Capability::Rerank,
        "traduction" | "translation" => Capability::Translation,
        "asr" | "audio" => Capability::Audio,
        "image generation" => Capability::ImageGeneration,
        _ => return None,
    };
    Some(cap)
}

/// A scalar read as text: YAML turns `licence: MIT` into a string but
/// `parameters_string: 120` into a number.
struct Text(String);

impl Text {
    fn non_empty(self) -> Option<String> {
        let t = self.0.trim();
        (!t.is_empty()).then(|| t.to_owned())
    }
}

/// Deserialises a scalar as text and converts it with `convert` *inside* the
/// visitor: an error raised there carries the scalar's own line, whereas one
/// raised after the fact would be reported at the start of the model entry.
fn scalar<'de, D, T>(d: D, convert: fn(&str) -> Result<T, String>) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct V<T>(fn(&str) -> Result<T, String>);
    impl<T> Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or a number")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            (self.0)(v).map_err(E::custom)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
            self.visit_str(&v.to_string())
        }
    }
    d.deserialize_any(V(convert))
}

/// Blank and `N/A` say nothing.
fn blank(t: &str) -> bool {
    t.trim().is_empty() || t.trim().eq_ignore_ascii_case("N/A")
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar(d, |t| Ok(Text(t.to_owned())))
    }
}

/// `dsp: 31/12/2026`.
struct Dmy(Option<NaiveDate>);

impl<'de> Deserialize<'de> for Dmy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar(d, |t| {
            if blank(t) {
                Ok(Dmy(None))
            } else {
                parse_dmy(t).map(|d| Dmy(Some(d)))
            }
        })
    }
}

/// `speed: 140 tokens/seconde`: the leading number, rounded.
struct Speed(Option<u32>);

impl<'de> Deserialize<'de> for Speed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar(d, |t| {
            let number = t.split_whitespace().next().unwrap_or("");
            if blank(number) {
                Ok(Speed(None))
            } else {
                parse_speed(number).map(|s| Speed(Some(s)))
            }
        })
    }
}

/// `energy_per_million_tokens: 1.69`, kept as written.
struct Energy(Option<String>);

impl<'de> Deserialize<'de> for Energy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar(d, |t| {
            if blank(t) {
                Ok(Energy(None))
            } else {
                parse_energy(t.trim()).map(|e| Energy(Some(e)))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "\
stats:
  total_models: 1
large_models:
  - name: gpt-oss:120b
    editor: OpenAI
    dsp: 31/12/2026
    parameters: 120
    parameters_string: 120B
    context_size: 120000
    speed: 140 tokens/seconde
    energy_per_million_tokens: 1.69
    licence: Apache 2.0
    description: Modèle open-weight.
    supports_tools: true
    supports_vision: false
    supports_reasoning: true
    supports_security: false
    tags:
      - MoE
      - Grand Contexte
specialized_models:
  - name: embeddinggemma:300m
    editor: Google
    supports_tools: false
    supports_vision: false
    supports_reasoning: false
    supports_security: false
    tags: [Embedding, Compact]
use_cases:
  - name: Dialogue
    recommended_models: [whatever]
";

    fn err_line(text: &str) -> (Option<usize>, String) {
        match parse(text, "t.yaml").unwrap_err() {
            ImportError::Yaml { line, message, .. } => (line, message),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn reads_models_from_every_section() {
        let obs = parse(ONE, "t.yaml").unwrap();
        assert_eq!(obs.len(), 2);
        let gpt = &obs[0];
        assert_eq!(gpt.parameters.as_deref(), Some("120B"));
        assert_eq!(gpt.speed_tps, Some(140));
        assert_eq!(gpt.energy.as_deref(), Some("1.69"));
        assert_eq!(gpt.end_of_support, NaiveDate::from_ymd_opt(2026, 12, 31));
        assert_eq!(gpt.section.as_deref(), Some("Modèles de Grande Taille"));
        let caps = gpt.capabilities.as_ref().unwrap();
        assert!(caps.contains(&Capability::Chat) && caps.contains(&Capability::Reasoning));
        let emb = obs[1].capabilities.as_ref().unwrap();
        assert_eq!(
            emb.iter().copied().collect::<Vec<_>>(),
            [Capability::Embedding]
        );
    }

    #[test]
    fn errors_name_the_line() {
        let bad_date = ONE.replace("dsp: 31/12/2026", "dsp: 31/13/2026");
        let (line, msg) = err_line(&bad_date);
        assert_eq!(line, Some(6), "{msg}");
        assert!(msg.contains("31/13/2026"), "{msg}");
        let bad_type = ONE.replace("context_size: 120000", "context_size: lots");
        assert_eq!(err_line(&bad_type).0, Some(9));
        let bad_syntax = ONE.replace("    licence: Apache 2.0", "    licence: [Apache");
        assert!(err_line(&bad_syntax).0.is_some());
        let (line, _) = err_line(&ONE.replace("speed: 140 tokens/seconde", "speed: vite"));
        assert_eq!(line, Some(10));
        assert_eq!(err_line("stats: {}\n").0, None);
        assert!(err_line("- a\n- b\n").0.is_some());
    }
}
