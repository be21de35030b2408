//! Model identities and capabilities, shared by the catalogue, the router and the UI.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A model id as the provider spells it (`gpt-oss:120b`, `deepseek-ocr`) or a
/// local model's file stem. Compared exactly; aliases are resolved by the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ModelId(String);

impl ModelId {
    pub fn new(id: impl Into<String>) -> Self {
        ModelId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ModelId {
    fn from(s: &str) -> Self {
        ModelId(s.to_owned())
    }
}

impl From<String> for ModelId {
    fn from(s: String) -> Self {
        ModelId(s)
    }
}

/// What a model can do. The provider's catalogue flags map onto these
/// (`security` becomes [`Capability::Safety`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Capability {
    /// Conversational text generation through chat completions.
    Chat,
    /// Function / tool calling.
    Tools,
    /// Image inputs.
    Vision,
    /// Produces a separate reasoning channel.
    Reasoning,
    /// Text embeddings.
    Embedding,
    /// Document OCR (image in, markdown out).
    Ocr,
    /// Speech in (transcription) or audio understanding.
    Audio,
    /// Safety classification or safety-tuned answers (the provider's "security").
    Safety,
    /// Reranking of passages.
    Rerank,
    /// Machine translation.
    Translation,
    /// Image generation.
    ImageGeneration,
}

impl Capability {
    pub const ALL: [Capability; 11] = [
        Capability::Chat,
        Capability::Tools,
        Capability::Vision,
        Capability::Reasoning,
        Capability::Embedding,
        Capability::Ocr,
        Capability::Audio,
        Capability::Safety,
        Capability::Rerank,
        Capability::Translation,
        Capability::ImageGeneration,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Chat => "chat",
            Capability::Tools => "tools",
            Capability::Vision => "vision",
            Capability::Reasoning => "reasoning",
            Capability::Embedding => "embedding",
            Capability::Ocr => "ocr",
            Capability::Audio => "audio",
            Capability::Safety => "safety",
            Capability::Rerank => "rerank",
            Capability::Translation => "translation",
            Capability::ImageGeneration => "image-generation",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A capability name that is not one of [`Capability::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown capability `{0}` (known: chat, tools, vision, reasoning, embedding, ocr, audio, safety, rerank, translation, image-generation)"
)]
pub struct UnknownCapability(pub String);

impl FromStr for Capability {
    type Err = UnknownCapability;

    /// Accepts our names and the provider's spellings (`security`, `image-gen`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let cap = match lower.as_str() {
            "chat" => Capability::Chat,
            "tools" | "tool" | "function-calling" => Capability::Tools,
            "vision" | "image" => Capability::Vision,
            "reasoning" => Capability::Reasoning,
            "embedding" | "embeddings" => Capability::Embedding,
            "ocr" => Capability::Ocr,
            "audio" | "transcription" | "asr" => Capability::Audio,
            "safety" | "security" => Capability::Safety,
            "rerank" | "reranking" => Capability::Rerank,
            "translation" => Capability::Translation,
            "image-generation" | "image-gen" => Capability::ImageGeneration,
            _ => return Err(UnknownCapability(s.to_owned())),
        };
        Ok(cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_names_round_trip() {
        for cap in Capability::ALL {
            assert_eq!(cap.as_str().parse::<Capability>().unwrap(), cap);
            let json = serde_json::to_string(&cap).unwrap();
            assert_eq!(json, format!("\"{}\"", cap.as_str()));
        }
        assert_eq!(
            "security".parse::<Capability>().unwrap(),
            Capability::Safety
        );
        assert_eq!(
            "image-gen".parse::<Capability>().unwrap(),
            Capability::ImageGeneration
        );
        assert!("telepathy".parse::<Capability>().is_err());
    }
}
