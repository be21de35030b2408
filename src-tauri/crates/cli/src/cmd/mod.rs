//! One module per subcommand.

pub mod catalog;
pub mod chat;
pub mod config;
pub mod embed;
pub mod key;
pub mod limits;
pub mod live;
pub mod local_models;
pub mod models;
pub mod ocr;
pub mod serve;
pub mod spend;
pub mod tokens;
pub mod transcribe;
pub mod watch;
