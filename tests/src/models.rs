//! The models the simulator serves: the bundled catalogue's live models, plus
//! `whisper-1`, the name the provider's transcription examples send.

use std::collections::BTreeSet;

use llmaas_catalog::Catalog;
use llmaas_core::Capability;
use serde_json::{Value, json};

/// The transcription model of the provider's examples; not in the catalogue.
pub const WHISPER: &str = "whisper-1";

/// Context given to a model whose catalogue entry has none.
const DEFAULT_CONTEXT: u32 = 8192;

/// One served model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimModel {
    pub id: String,
    pub aliases: Vec<String>,
    pub context: u32,
    pub capabilities: BTreeSet<Capability>,
    /// Unix time of the production date, 0 when unknown.
    pub created: i64,
}

impl SimModel {
    fn has(&self, c: Capability) -> bool {
        self.capabilities.contains(&c)
    }

    /// Whether `name` is the id or an alias (exact: the simulator is stricter than
    /// the catalogue's case-insensitive lookup, to catch clients sending a wrong name).
    pub fn answers_to(&self, name: &str) -> bool {
        self.id == name || self.aliases.iter().any(|a| a == name)
    }

    /// Chat and text completions: anything but embedders, rerankers, image
    /// generators and the transcription model.
    pub fn can_chat(&self) -> bool {
        let specialist = [
            Capability::Embedding,
            Capability::Rerank,
            Capability::ImageGeneration,
        ]
        .iter()
        .any(|c| self.has(*c));
        self.id != WHISPER && (self.has(Capability::Chat) || !specialist)
    }

    pub fn can_embed(&self) -> bool {
        self.has(Capability::Embedding)
    }

    pub fn can_transcribe(&self) -> bool {
        self.id == WHISPER || self.has(Capability::Audio)
    }

    pub fn takes_images(&self) -> bool {
        self.has(Capability::Vision) || self.has(Capability::Ocr)
    }

    /// OCR specialists (`deepseek-ocr`) answer with a markdown document.
    pub fn is_ocr(&self) -> bool {
        self.has(Capability::Ocr) && !self.has(Capability::Chat)
    }

    pub fn reasons(&self) -> bool {
        self.has(Capability::Reasoning)
    }

    /// Qwen3 models put their reasoning inline as `<think>…</think>`; the others
    /// use `reasoning_content`.
    pub fn inline_think(&self) -> bool {
        self.id.starts_with("qwen3")
    }

    /// Qwen models honour `/think` and `/nothink`.
    pub fn is_qwen(&self) -> bool {
        self.id.starts_with("qwen") || self.id.starts_with("qwq")
    }

    /// Vector size for embedding models (their published sizes; 768 otherwise).
    pub fn embedding_dims(&self) -> usize {
        match self.id.as_str() {
            "bge-m3:567m" | "qwen3-embedding:0.6b" => 1024,
            "qwen3-embedding:4b" => 2560,
            "qwen3-embedding:8b" => 4096,
            _ => 768,
        }
    }

    /// The `/v1/models` entry.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "model",
            "created": self.created,
            "owned_by": "CloudTemple",
            "root": self.id,
            "parent": null,
            "aliases": self.aliases,
            "max_model_len": self.context,
            "permission": [],
        })
    }
}

/// The served models, sorted by id.
#[derive(Debug, Clone)]
pub struct ModelTable {
    models: Vec<SimModel>,
}

impl ModelTable {
    /// The bundled catalogue's live models plus `whisper-1`.
    pub fn bundled() -> Self {
        let mut models: Vec<SimModel> = Catalog::bundled()
            .iter()
            .filter(|m| !m.is_retired())
            .map(|m| SimModel {
                id: m.id.as_str().to_owned(),
                aliases: m.aliases.clone(),
                context: m.context.unwrap_or(DEFAULT_CONTEXT),
                capabilities: m.capabilities.clone(),
                created: m
                    .lifecycle
                    .production_date
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map_or(0, |t| t.and_utc().timestamp()),
            })
            .collect();
        models.push(SimModel {
            id: WHISPER.to_owned(),
            aliases: Vec::new(),
            context: 448,
            capabilities: BTreeSet::from([Capability::Audio]),
            created: 0,
        });
        models.sort_by(|a, b| a.id.cmp(&b.id));
        ModelTable { models }
    }

    pub fn get(&self, name: &str) -> Option<&SimModel> {
        self.models.iter().find(|m| m.answers_to(name))
    }

    pub fn iter(&self) -> std::slice::Iter<'_, SimModel> {
        self.models.iter()
    }

    pub fn len(&self) -> usize {
        self.models.len()
    }

    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// The `GET /v1/models` body.
    pub fn list_json(&self) -> Value {
        json!({
            "object": "list",
            "data": self.models.iter().map(SimModel::to_json).collect::<Vec<_>>(),
        })
    }
}

impl<'a> IntoIterator for &'a ModelTable {
    type Item = &'a SimModel;
    type IntoIter = std::slice::Iter<'a, SimModel>;

    fn into_iter(self) -> Self::IntoIter {
        self.models.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_models_and_whisper_are_served() {
        let t = ModelTable::bundled();
        let ocr = t.get("deepseek-ai/DeepSeek-OCR").expect("alias resolves");
        assert_eq!(ocr.id, "deepseek-ocr");
        assert!(ocr.is_ocr() && ocr.can_chat() && ocr.takes_images());
        assert!(t.get("DEEPSEEK-OCR").is_none(), "names are exact");
        assert!(t.get(WHISPER).unwrap().can_transcribe());
        assert!(!t.get(WHISPER).unwrap().can_chat());
        let emb = t.get("granite-embedding:278m").unwrap();
        assert!(emb.can_embed() && !emb.can_chat());
        let gpt = t.get("gpt-oss:120b").unwrap();
        assert!(gpt.reasons() && !gpt.inline_think());
        let qwen = t.get("qwen3-2507:235b").unwrap();
        assert!(qwen.reasons() && qwen.inline_think() && qwen.is_qwen());
        let list = t.list_json();
        assert!(list["data"].as_array().unwrap().len() > 20);
        assert_eq!(ocr.to_json()["owned_by"], "CloudTemple");
        assert_eq!(ocr.to_json()["max_model_len"], 8192);
    }
}
