//! The one error type that crosses IPC: a stable `code` the window can branch
//! on and a `message` for people. Built from each library's typed error here,
//! so no command returns `Result<_, String>` and no message carries a secret
//! (the library errors never hold one; see ARCHITECTURE.md's invariants).

use llmaas_core::BackendError;
use llmaas_router::RouterError;
use serde::Serialize;
use specta::Type;

/// What went wrong, in the categories the window reacts to differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The cloud needs an API key and there is none (Settings).
    NoApiKey,
    /// The provider refused the key (Settings).
    KeyRefused,
    /// The cloud cannot be reached and nothing local can take over.
    Offline,
    /// The model is retired; the message names its successor.
    ModelRetired,
    /// No local model can run it (confidential, policy local, nothing provisioned).
    NoLocalModel,
    /// The budget guard refused before sending.
    BudgetRefused,
    /// The provider rate-limited the request after retries.
    RateLimited,
    /// The input is wrong: a corrupt file, an unsupported format, a bad value.
    BadInput,
    /// A file, model or job that does not exist.
    NotFound,
    /// The user cancelled.
    Cancelled,
    /// The keychain refused or is not available.
    Keychain,
    /// Reading or writing a file failed (disk full, permissions).
    Io,
    /// The backend failed (5xx, cut stream, engine error).
    Backend,
}

/// An error as the window receives it: `{ code, message }`.
#[derive(Debug, Clone, Serialize, Type, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError {
            code,
            message: message.into(),
        }
    }

    pub fn bad_input(message: impl Into<String>) -> AppError {
        AppError::new(ErrorCode::BadInput, message)
    }

    pub fn io(what: &str, e: &std::io::Error) -> AppError {
        AppError::new(ErrorCode::Io, format!("{what}: {e}"))
    }
}

pub type AppResult<T> = Result<T, AppError>;

impl From<BackendError> for AppError {
    fn from(e: BackendError) -> AppError {
        let code = match &e {
            BackendError::Unauthorized(_) => ErrorCode::KeyRefused,
            BackendError::ModelNotFound(_) => ErrorCode::NotFound,
            BackendError::BadRequest(_) | BackendError::PayloadTooLarge(_) => ErrorCode::BadInput,
            BackendError::RateLimited { .. } => ErrorCode::RateLimited,
            BackendError::Offline(_) => ErrorCode::Offline,
            _ => ErrorCode::Backend,
        };
        AppError::new(code, e.to_string())
    }
}

impl From<RouterError> for AppError {
    fn from(e: RouterError) -> AppError {
        let code = match &e {
            RouterError::NoApiKey => ErrorCode::NoApiKey,
            RouterError::KeyRefused => ErrorCode::KeyRefused,
            RouterError::Offline => ErrorCode::Offline,
            RouterError::ModelRetired { .. } => ErrorCode::ModelRetired,
            RouterError::NoLocalEngine { .. } | RouterError::CloudOnly { .. } => {
                ErrorCode::NoLocalModel
            }
            RouterError::BudgetRefused { .. } | RouterError::CapReached { .. } => {
                ErrorCode::BudgetRefused
            }
            RouterError::Backend(b) => return AppError::from(b.clone()),
            _ => ErrorCode::Backend,
        };
        AppError::new(code, e.to_string())
    }
}

impl From<llmaas_ledger::LedgerError> for AppError {
    fn from(e: llmaas_ledger::LedgerError) -> AppError {
        AppError::new(ErrorCode::Io, format!("the spend ledger failed: {e}"))
    }
}

impl From<llmaas_config::ConfigError> for AppError {
    fn from(e: llmaas_config::ConfigError) -> AppError {
        AppError::new(ErrorCode::BadInput, e.to_string())
    }
}

impl From<llmaas_config::SecretError> for AppError {
    fn from(e: llmaas_config::SecretError) -> AppError {
        let code = match e {
            llmaas_config::SecretError::Invalid(_) => ErrorCode::BadInput,
            _ => ErrorCode::Keychain,
        };
        AppError::new(code, e.to_string())
    }
}

impl From<llmaas_local::LocalError> for AppError {
    fn from(e: llmaas_local::LocalError) -> AppError {
        use llmaas_local::LocalError as L;
        let code = match &e {
            L::Io { .. } | L::NoSpace { .. } => ErrorCode::Io,
            L::NotAModel { .. }
            | L::AlreadyExists(_)
            | L::ChecksumMismatch { .. }
            | L::BadList { .. } => ErrorCode::BadInput,
            L::Cancelled => ErrorCode::Cancelled,
            L::ModelNotFound(_) => ErrorCode::NotFound,
            L::Unusable { .. } => ErrorCode::NoLocalModel,
            _ => ErrorCode::Backend,
        };
        AppError::new(code, e.to_string())
    }
}

impl From<llmaas_transcribe::TranscribeError> for AppError {
    fn from(e: llmaas_transcribe::TranscribeError) -> AppError {
        use llmaas_transcribe::TranscribeError as T;
        let code = match &e {
            T::Io { .. } => ErrorCode::Io,
            T::NoLocalModel { .. } => ErrorCode::NoLocalModel,
            T::NoApiKey => ErrorCode::NoApiKey,
            T::BudgetRefused { .. } => ErrorCode::BudgetRefused,
            T::Cancelled => ErrorCode::Cancelled,
            T::Transcriber { .. } => ErrorCode::Backend,
            _ => ErrorCode::BadInput,
        };
        AppError::new(code, e.to_string())
    }
}

impl From<llmaas_ocr::OcrError> for AppError {
    fn from(e: llmaas_ocr::OcrError) -> AppError {
        use llmaas_ocr::OcrError as O;
        let code = match &e {
            O::ConfidentialRefused => ErrorCode::NoLocalModel,
            O::Router(r) => return AppError::new(AppError::from_router_code(r), e.to_string()),
            O::Cancelled { .. } => ErrorCode::Cancelled,
            O::Encode(_) => ErrorCode::Backend,
            _ => ErrorCode::BadInput,
        };
        AppError::new(code, e.to_string())
    }
}

impl AppError {
    fn from_router_code(e: &RouterError) -> ErrorCode {
        match e {
            RouterError::NoApiKey => ErrorCode::NoApiKey,
            RouterError::KeyRefused => ErrorCode::KeyRefused,
            RouterError::Offline => ErrorCode::Offline,
            RouterError::BudgetRefused { .. } | RouterError::CapReached { .. } => {
                ErrorCode::BudgetRefused
            }
            _ => ErrorCode::Backend,
        }
    }
}
