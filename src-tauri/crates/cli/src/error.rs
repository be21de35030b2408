//! Errors of the `llmaas` command and the exit codes scripts can rely on.

use std::process::ExitCode;

/// Exit codes, as documented in `llmaas --help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Failure = 1,
    Usage = 2,
    NotFound = 3,
    KeychainUnavailable = 4,
    LimitReached = 5,
    /// Stopped by Ctrl-C, as shells expect (128 + SIGINT).
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// Why a command failed. The message is for a person; the kind picks the exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Config(#[from] llmaas_config::ConfigError),
    #[error(transparent)]
    Secret(#[from] llmaas_config::SecretError),
    #[error(transparent)]
    Catalog(#[from] llmaas_catalog::CatalogError),
    #[error(transparent)]
    Import(#[from] llmaas_catalog::ImportError),
    #[error(transparent)]
    Router(#[from] llmaas_router::RouterError),
    #[error(transparent)]
    Ocr(#[from] llmaas_ocr::OcrError),
    #[error(transparent)]
    Cloud(#[from] llmaas_cloud::CloudError),
    #[error(transparent)]
    Ledger(#[from] llmaas_ledger::LedgerError),
    #[error(transparent)]
    Gateway(#[from] llmaas_gateway::GatewayError),
    #[error(transparent)]
    Tokens(#[from] llmaas_gateway::TokenError),
    #[error(transparent)]
    Local(#[from] llmaas_local::LocalError),
    #[error(transparent)]
    Transcribe(#[from] llmaas_transcribe::TranscribeError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

impl CliError {
    pub fn exit(&self) -> Exit {
        use llmaas_config::{ConfigError, SecretError};
        use llmaas_gateway::TokenError;
        match self {
            CliError::Usage(_)
            | CliError::Config(ConfigError::UnknownKey(_) | ConfigError::InvalidValue { .. })
            | CliError::Secret(SecretError::Invalid(_))
            | CliError::Tokens(TokenError::NameTaken(_) | TokenError::InvalidName(_)) => {
                Exit::Usage
            }
            CliError::Local(
                llmaas_local::LocalError::NotAModel { .. }
                | llmaas_local::LocalError::AlreadyExists(_),
            ) => Exit::Usage,
            CliError::NotFound(_)
            | CliError::Local(llmaas_local::LocalError::ModelNotFound(_))
            | CliError::Router(llmaas_router::RouterError::NoApiKey)
            | CliError::Tokens(TokenError::UnknownName(_)) => Exit::NotFound,
            CliError::Router(
                llmaas_router::RouterError::BudgetRefused { .. }
                | llmaas_router::RouterError::CapReached { .. },
            ) => Exit::LimitReached,
            CliError::Secret(SecretError::Unavailable(_) | SecretError::Locked(_)) => {
                Exit::KeychainUnavailable
            }
            CliError::Ocr(e) => ocr_exit(e),
            CliError::Transcribe(e) => transcribe_exit(e),
            _ => Exit::Failure,
        }
    }

    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> CliError {
        let context = context.into();
        move |source| CliError::Io { context, source }
    }
}

/// Bad input is a usage error (nothing was sent); the router's refusals keep
/// the codes they have elsewhere.
fn ocr_exit(e: &llmaas_ocr::OcrError) -> Exit {
    use llmaas_ocr::OcrError;
    match e {
        OcrError::Router(llmaas_router::RouterError::NoApiKey) => Exit::NotFound,
        OcrError::Router(llmaas_router::RouterError::BudgetRefused { .. }) => Exit::LimitReached,
        OcrError::Cancelled { .. } => Exit::Interrupted,
        OcrError::NotADocument
        | OcrError::Unsupported { .. }
        | OcrError::Corrupt { .. }
        | OcrError::TooLarge { .. }
        | OcrError::NoPages
        | OcrError::Encrypted
        | OcrError::PageOutOfRange { .. }
        | OcrError::BadPageSelection(_) => Exit::Usage,
        _ => Exit::Failure,
    }
}

/// A recording that cannot be read is a usage error (nothing was sent);
/// refusals keep the codes they have elsewhere.
fn transcribe_exit(e: &llmaas_transcribe::TranscribeError) -> Exit {
    use llmaas_transcribe::TranscribeError;
    match e {
        TranscribeError::EmptyFile
        | TranscribeError::NotAudio(_)
        | TranscribeError::NoAudioTrack
        | TranscribeError::UnsupportedCodec(_)
        | TranscribeError::Corrupt(_) => Exit::Usage,
        TranscribeError::NoApiKey | TranscribeError::NoLocalModel { .. } => Exit::NotFound,
        TranscribeError::BudgetRefused { .. } => Exit::LimitReached,
        TranscribeError::Cancelled => Exit::Interrupted,
        _ => Exit::Failure,
    }
}

impl From<llmaas_setup::SetupError> for CliError {
    fn from(e: llmaas_setup::SetupError) -> CliError {
        match e {
            llmaas_setup::SetupError::Settings(e) => CliError::Config(e),
            llmaas_setup::SetupError::Catalog(e) => CliError::Catalog(e),
            other => CliError::Usage(other.to_string()),
        }
    }
}
