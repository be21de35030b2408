//! Why an export was not written.

/// An export that failed. Formatting itself cannot fail: these are the
/// writer's and the encoders' errors, kept typed so a caller can tell a full
/// disk from a bug.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The destination refused the bytes (disk full, closed pipe…).
    #[error("could not write the export: {0}")]
    Io(#[from] std::io::Error),
    /// The transcript could not be serialised as JSON.
    #[error("could not encode the transcript as JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The DOCX package (a zip archive) could not be assembled.
    #[error("could not build the DOCX package: {0}")]
    Docx(#[from] zip::result::ZipError),
}

/// A format name that is not one of `txt`, `srt`, `vtt`, `json`, `docx`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown export format {0:?}: expected txt, srt, vtt, json or docx")]
pub struct UnknownFormat(pub String);

/// Why a recording could not be transcribed. Each says what happened in
/// words a person can act on; none holds what was said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TranscribeError {
    #[error("{path}: {message}")]
    Io {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("the file is empty")]
    EmptyFile,
    /// Not a container or codec we can read (random bytes, a document).
    #[error("not a recording this app can read: {0}")]
    NotAudio(String),
    /// A video (or container) with no sound in it.
    #[error("the file has no audio track")]
    NoAudioTrack,
    #[error("the audio codec is not supported: {0}")]
    UnsupportedCodec(String),
    /// The stream broke in a way decoding cannot step over.
    #[error("the recording is damaged: {0}")]
    Corrupt(String),
    /// A number in the file passes one of [`crate::limits`]: a crafted or
    /// broken header, never a real recording.
    #[error("the recording's {what} ({found}) is outside this app's limits ({limit})")]
    OverLimit {
        what: &'static str,
        found: String,
        limit: String,
    },
    /// The transcriber (whisper, the cloud) failed on a chunk.
    #[error("transcription failed at {at}: {message}")]
    Transcriber { at: String, message: String },
    /// It must stay on this machine (confidential, policy local), or there
    /// is no key for the cloud, and no local speech model is installed.
    #[error("no local speech model can transcribe this ({why}); nothing was sent")]
    NoLocalModel { why: String },
    /// The cloud route needs a key and there is none.
    #[error("no API key: store one with `llmaas key set` or set LLMAAS_API_KEY")]
    NoApiKey,
    /// The budget guard refused a chunk before it was sent: kept apart from
    /// [`TranscribeError::Transcriber`] so front ends can say "limit reached"
    /// (the CLI's exit code 5) rather than "failed".
    #[error("transcription stopped at {at}: {message}")]
    BudgetRefused { at: String, message: String },
    /// The router would not send it (the key was refused, the cloud is
    /// unreachable and nothing local can take it, …): nothing was sent.
    #[error("refused before sending: {0}")]
    Refused(String),
    #[error("cancelled")]
    Cancelled,
}

/// A transcriber's failure, as the pipeline reports it.
impl From<llmaas_core::SpeechError> for TranscribeError {
    fn from(e: llmaas_core::SpeechError) -> TranscribeError {
        use llmaas_core::SpeechError;
        match e {
            SpeechError::Failed { at, message } => TranscribeError::Transcriber { at, message },
            SpeechError::BudgetRefused { at, message } => {
                TranscribeError::BudgetRefused { at, message }
            }
            SpeechError::NoApiKey => TranscribeError::NoApiKey,
            _ => TranscribeError::Cancelled,
        }
    }
}

impl TranscribeError {
    pub(crate) fn io(path: &std::path::Path, e: &std::io::Error) -> TranscribeError {
        TranscribeError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}
