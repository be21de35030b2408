//! One module per subcommand.

pub mod catalog;
pub mod config;
pub mod key;
pub mod limits;
pub mod models;
pub mod spend;
