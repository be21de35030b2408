//! The local models a user has: GGUF files in the models folder, plus the
//! embedded default. Listing reads headers only (see [`crate::gguf`]), so it is
//! cheap enough to redo on every change of the folder.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use llmaas_core::ModelId;
use serde::Serialize;

use crate::gguf::{self, GgufInfo};

/// GGUF architectures mistral.rs 0.8.1 loads. Any other makes it panic
/// instead of failing (BUILD-FACTS.md), so such files are listed as unusable
/// and never handed to the engine.
pub const SUPPORTED_ARCHITECTURES: &[&str] = &[
    "llama",
    "mistral3",
    "phi2",
    "phi3",
    "starcoder2",
    "qwen2",
    "qwen3",
    "qwen3moe",
];

/// Where a local model comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The user's models folder.
    Folder,
    /// The embedded default, provisioned from a registry package.
    Default,
}

/// One model file and what can be done with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalModel {
    /// The id requests name it by: the file name without `.gguf`, lower case
    /// (the embedded default has its manifest's id).
    pub id: ModelId,
    pub path: PathBuf,
    pub size_bytes: u64,
    pub source: Source,
    pub status: Status,
}

/// Whether a file can be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Ready(GgufInfo),
    /// Listed so that the user sees why, never loaded.
    Unusable(String),
}

impl LocalModel {
    pub fn info(&self) -> Option<&GgufInfo> {
        match &self.status {
            Status::Ready(info) => Some(info),
            Status::Unusable(_) => None,
        }
    }

    pub fn is_ready(&self) -> bool {
        matches!(self.status, Status::Ready(_))
    }

    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Reads one file's header and decides its status.
    pub fn inspect(id: ModelId, path: &Path, source: Source) -> LocalModel {
        let size_bytes = std::fs::metadata(path).map_or(0, |m| m.len());
        let status = match gguf::read(path) {
            Ok(info) if !SUPPORTED_ARCHITECTURES.contains(&info.architecture.as_str()) => {
                Status::Unusable(format!(
                    "architecture `{}` is not supported by the local engine (it runs {})",
                    info.architecture,
                    SUPPORTED_ARCHITECTURES.join(", ")
                ))
            }
            Ok(info) => Status::Ready(info),
            Err(e) => Status::Unusable(e.to_string()),
        };
        LocalModel {
            id,
            path: path.to_path_buf(),
            size_bytes,
            source,
            status,
        }
    }
}

/// The id of a file in the models folder: its name without `.gguf`, lower case.
pub fn id_for_file(path: &Path) -> Option<ModelId> {
    let name = path.file_name()?.to_str()?;
    let stem = strip_gguf(name)?;
    (!stem.is_empty()).then(|| ModelId::from(stem.to_lowercase()))
}

fn strip_gguf(name: &str) -> Option<&str> {
    let dot = name.rfind('.')?;
    name[dot + 1..]
        .eq_ignore_ascii_case("gguf")
        .then_some(&name[..dot])
}

/// Whether a folder entry is a model file (not a `.part` download, not hidden).
pub fn is_model_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| !n.starts_with('.') && strip_gguf(n).is_some())
}

#[derive(Debug)]
struct DefaultEntry {
    id: ModelId,
    path: PathBuf,
    /// The size the manifest gives, checked at each listing (cheap, unlike a hash).
    size: Option<u64>,
}

/// The user's models folder and the embedded default, with the last listing kept.
#[derive(Debug)]
pub struct Library {
    /// Changed by [`Library::set_folder`] when the setting changes while the
    /// app runs.
    folder: RwLock<PathBuf>,
    default: Option<DefaultEntry>,
    listing: RwLock<Arc<Vec<LocalModel>>>,
}

impl Library {
    /// A library over `folder` (created when missing). Call [`Library::refresh`] to list it.
    pub fn new(folder: impl Into<PathBuf>) -> Library {
        Library {
            folder: RwLock::new(folder.into()),
            default: None,
            listing: RwLock::new(Arc::new(Vec::new())),
        }
    }

    /// Adds the embedded default model, listed first under `id`.
    #[must_use]
    pub fn with_default(mut self, id: impl Into<ModelId>, path: impl Into<PathBuf>) -> Library {
        self.default = Some(DefaultEntry {
            id: id.into(),
            path: path.into(),
            size: None,
        });
        self
    }

    /// Adds a model of the manifest at `path`, checked against its size.
    #[must_use]
    pub fn with_manifest_default(
        self,
        model: &crate::default_model::DefaultModel,
        path: impl Into<PathBuf>,
    ) -> Library {
        let mut lib = self.with_default(model.id.clone(), path);
        if let Some(d) = lib.default.as_mut() {
            d.size = Some(model.size);
        }
        lib
    }

    pub fn folder(&self) -> PathBuf {
        self.folder
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Serves models from another folder from now on (a model already loaded
    /// stays loaded) and lists it.
    pub fn set_folder(&self, folder: impl Into<PathBuf>) -> Arc<Vec<LocalModel>> {
        *self
            .folder
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = folder.into();
        self.refresh()
    }

    /// Reads the folder again and keeps the result. A folder that cannot be
    /// read lists nothing from it (the error is logged), never fails.
    pub fn refresh(&self) -> Arc<Vec<LocalModel>> {
        let listing = Arc::new(self.scan());
        *self
            .listing
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::clone(&listing);
        listing
    }

    /// The last listing.
    pub fn models(&self) -> Arc<Vec<LocalModel>> {
        Arc::clone(
            &self
                .listing
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// A model of the last listing by id (case-insensitive).
    pub fn get(&self, id: &ModelId) -> Option<LocalModel> {
        self.models()
            .iter()
            .find(|m| m.id.as_str().eq_ignore_ascii_case(id.as_str()))
            .cloned()
    }

    fn scan(&self) -> Vec<LocalModel> {
        let mut out = Vec::new();
        if let Some(DefaultEntry { id, path, size }) = &self.default {
            if path.exists() {
                let mut model = LocalModel::inspect(id.clone(), path, Source::Default);
                if let Some(expected) = size
                    && model.size_bytes != *expected
                {
                    model.status = Status::Unusable(format!(
                        "damaged or incomplete ({} bytes, expected {expected}): run `bash scripts/setup.sh` again",
                        model.size_bytes
                    ));
                }
                out.push(model);
            } else {
                out.push(LocalModel {
                    id: id.clone(),
                    path: path.clone(),
                    size_bytes: 0,
                    source: Source::Default,
                    status: Status::Unusable(
                        "not provisioned yet: run `bash scripts/setup.sh`".to_owned(),
                    ),
                });
            }
        }
        let folder = self.folder();
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) => {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(folder = %folder.display(), error = %e, "cannot list the models folder");
                }
                return out;
            }
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| is_model_file(p) && p.is_file())
            .collect();
        // By id, as listings show them (file names differ in case).
        paths.sort_by_key(|p| p.file_name().map(|n| n.to_string_lossy().to_lowercase()));
        for path in paths {
            let Some(id) = id_for_file(&path) else {
                continue;
            };
            let mut model = LocalModel::inspect(id, &path, Source::Folder);
            if out.iter().any(|m: &LocalModel| m.id == model.id) {
                model.status = Status::Unusable(format!(
                    "another model is already called `{}`: rename the file",
                    model.id
                ));
            }
            out.push(model);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llmaas_gguf::build::{TestValue, gguf_bytes, tiny_llama};

    #[test]
    fn a_crafted_header_is_listed_as_unusable() {
        let dir = tempfile::tempdir().unwrap();
        let crafted = llmaas_gguf::build::nested_arrays(300_000);
        std::fs::write(dir.path().join("deep.gguf"), crafted).unwrap();
        std::fs::write(dir.path().join("fine.gguf"), tiny_llama()).unwrap();
        let models = Library::new(dir.path()).refresh();
        assert_eq!(models.len(), 2);
        match &models[0].status {
            Status::Unusable(why) => assert!(why.contains("array nesting"), "{why}"),
            Status::Ready(_) => panic!("a crafted file listed as ready"),
        }
        assert!(models[1].is_ready());
    }

    #[test]
    fn a_new_folder_is_served_at_once() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::write(a.path().join("first.gguf"), tiny_llama()).unwrap();
        std::fs::write(b.path().join("second.gguf"), tiny_llama()).unwrap();
        let lib = Library::new(a.path());
        lib.refresh();
        assert!(lib.get(&ModelId::new("first")).is_some());
        let listed = lib.set_folder(b.path());
        assert_eq!(lib.folder(), b.path());
        let ids: Vec<&str> = listed.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["second"]);
        assert!(lib.get(&ModelId::new("first")).is_none());
    }

    #[test]
    fn lists_ready_and_unusable_files_with_reasons() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Tiny-Chat.Q4_1.gguf"), tiny_llama()).unwrap();
        let whole = tiny_llama();
        std::fs::write(dir.path().join("cut.gguf"), &whole[..whole.len() / 2]).unwrap();
        std::fs::write(
            dir.path().join("random.gguf"),
            b"\x00\x01\x02\x03 not a model",
        )
        .unwrap();
        std::fs::write(dir.path().join("empty.gguf"), b"").unwrap();
        let gemma = gguf_bytes(
            &[("general.architecture", TestValue::Str("gemma3"))],
            &[("w", &[32], 0)],
        );
        std::fs::write(dir.path().join("gemma.gguf"), gemma).unwrap();
        // Not models: a partial download, a hidden file, a note.
        std::fs::write(dir.path().join("x.gguf.part"), tiny_llama()).unwrap();
        std::fs::write(dir.path().join(".hidden.gguf"), tiny_llama()).unwrap();
        std::fs::write(dir.path().join("README.txt"), b"hi").unwrap();

        let lib = Library::new(dir.path());
        let models = lib.refresh();
        let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["cut", "empty", "gemma", "random", "tiny-chat.q4_1"]);
        let reason = |id: &str| match &models.iter().find(|m| m.id.as_str() == id).unwrap().status {
            Status::Unusable(r) => r.clone(),
            Status::Ready(_) => String::new(),
        };
        assert!(reason("cut").contains("truncated"), "{}", reason("cut"));
        assert!(reason("empty").contains("empty"));
        assert!(reason("random").contains("not a GGUF"));
        assert!(reason("gemma").contains("gemma3"), "{}", reason("gemma"));
        let ready = lib.get(&ModelId::from("TINY-CHAT.Q4_1")).unwrap();
        assert_eq!(ready.info().unwrap().quantisation, "Q4_1");
        assert_eq!(ready.source, Source::Folder);
    }

    #[test]
    fn the_default_comes_first_and_says_when_it_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let lib = Library::new(dir.path().join("none"))
            .with_default("smollm2-135m-instruct", dir.path().join("absent.gguf"));
        let models = lib.refresh();
        assert_eq!(models.len(), 1);
        assert!(matches!(&models[0].status, Status::Unusable(r) if r.contains("setup")));
        std::fs::write(dir.path().join("absent.gguf"), tiny_llama()).unwrap();
        assert!(lib.refresh()[0].is_ready());
    }

    #[test]
    fn ids_come_from_file_names() {
        assert_eq!(
            id_for_file(Path::new("/m/Qwen2.5-0.5B-Instruct-Q4_K_M.GGUF"))
                .unwrap()
                .as_str(),
            "qwen2.5-0.5b-instruct-q4_k_m"
        );
        assert!(id_for_file(Path::new("/m/.gguf")).is_none());
        assert!(!is_model_file(Path::new("/m/a.gguf.part")));
        assert!(is_model_file(Path::new("/m/a.gguf")));
    }
}
