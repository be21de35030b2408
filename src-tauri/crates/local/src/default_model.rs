//! The embedded default models: what `models/local/manifest.toml` lists and
//! where the provisioning step (`scripts/provision-models.py`) puts them.

use std::path::{Path, PathBuf};

use llmaas_core::ModelId;
use serde::Deserialize;

/// The manifest, compiled in: the app and the provisioning step read the same file.
const MANIFEST: &str = include_str!("../../../../models/local/manifest.toml");

/// Overrides where the default chat model is looked for (a file path).
pub const DEFAULT_MODEL_ENV: &str = "LLMAAS_DEFAULT_MODEL";

/// One provisioned model.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DefaultModel {
    pub id: ModelId,
    /// `chat` or `speech`.
    pub kind: String,
    pub description: String,
    pub licence: String,
    /// The registry package it comes from, and its version.
    pub package: String,
    pub version: String,
    /// The file's name in the cache.
    pub file: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Deserialize)]
struct Manifest {
    model: Vec<DefaultModel>,
}

/// Every model of the manifest.
pub fn manifest() -> Vec<DefaultModel> {
    // The manifest is part of the source: a parse failure is a build bug, caught by the tests.
    toml::from_str::<Manifest>(MANIFEST)
        .expect("models/local/manifest.toml is valid")
        .model
}

/// The default chat model.
pub fn chat_default() -> DefaultModel {
    manifest()
        .into_iter()
        .find(|m| m.kind == "chat")
        .expect("the manifest lists a chat model")
}

/// The default speech model (the manifest's first of kind `speech`).
pub fn speech_default() -> DefaultModel {
    manifest()
        .into_iter()
        .find(|m| m.kind == "speech")
        .expect("the manifest lists a speech model")
}

/// Every speech model of the manifest, the default first.
pub fn speech_models() -> Vec<DefaultModel> {
    manifest()
        .into_iter()
        .filter(|m| m.kind == "speech")
        .collect()
}

/// Overrides where the default speech model is looked for (a ggml file path).
pub const SPEECH_MODEL_ENV: &str = "LLMAAS_SPEECH_MODEL";

/// Where the default speech model is: `$LLMAAS_SPEECH_MODEL`, else the cache.
pub fn speech_default_path(cache_dir: &Path) -> PathBuf {
    match std::env::var_os(SPEECH_MODEL_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => cached_path(cache_dir, &speech_default()),
    }
}

/// Where the provisioning step puts `model` under the app's cache folder.
pub fn cached_path(cache_dir: &Path, model: &DefaultModel) -> PathBuf {
    cache_dir
        .join("models")
        .join(model.id.as_str())
        .join(&model.file)
}

/// Where the default chat model is: `$LLMAAS_DEFAULT_MODEL`, else the cache.
pub fn chat_default_path(cache_dir: &Path) -> PathBuf {
    match std::env::var_os(DEFAULT_MODEL_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => cached_path(cache_dir, &chat_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_names_speech_models_default_first() {
        let ids: Vec<String> = speech_models().iter().map(|m| m.id.to_string()).collect();
        assert_eq!(ids, ["whisper-tiny.en", "whisper-base"]);
        assert_eq!(speech_default().file, "ggml-tiny.en.bin");
    }

    #[test]
    fn the_manifest_names_a_chat_model_with_checksums() {
        let m = chat_default();
        assert_eq!(m.id.as_str(), "smollm2-135m-instruct");
        assert_eq!(m.sha256.len(), 64);
        assert!(Path::new(&m.file).extension().is_some_and(|e| e == "gguf"));
        assert_eq!(
            cached_path(Path::new("/c"), &m),
            Path::new("/c/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        );
    }
}
