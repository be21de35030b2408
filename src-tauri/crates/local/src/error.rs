use std::path::{Path, PathBuf};

/// What can go wrong with local models. Messages name the file and say what
/// to do; none holds a prompt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LocalError {
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("cannot watch the models folder: {0}")]
    Watch(String),
    /// The file is not a model the engine can run.
    #[error("{path} is not a usable model: {reason}")]
    NotAModel { path: PathBuf, reason: String },
    #[error("{0} exists already: remove it or choose another name")]
    AlreadyExists(PathBuf),
    #[error("download failed: {0}")]
    Download(String),
    /// A download the disk cannot take (measured before it starts).
    #[error(
        "{path}: not enough free space: the download needs {need} bytes (with a margin), the disk has {free}; free some space or choose another models folder"
    )]
    NoSpace { path: PathBuf, need: u64, free: u64 },
    /// A list of downloadable models that cannot be used.
    #[error("{path}: not a usable list of downloadable models: {reason}")]
    BadList { path: PathBuf, reason: String },
    #[error("checksum mismatch: expected sha256 {expected}, got {actual}; the file was deleted")]
    ChecksumMismatch { expected: String, actual: String },
    #[error("no local model `{0}` (see `llmaas models --local`)")]
    ModelNotFound(String),
    #[error("local model `{id}` cannot be used: {reason}")]
    Unusable { id: String, reason: String },
    /// mistral.rs failed to load the file (or panicked doing so).
    #[error("loading `{id}` failed: {message}")]
    Load { id: String, message: String },
    /// The engine stopped (its thread ended) or refused a request.
    #[error("local engine: {0}")]
    Engine(String),
    #[error("cancelled")]
    Cancelled,
}

impl LocalError {
    pub(crate) fn io(path: &Path, e: &std::io::Error) -> LocalError {
        LocalError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}
