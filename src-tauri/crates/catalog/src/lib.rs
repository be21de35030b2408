//! The LLMaaS model catalogue: what each of the provider's models is, can do and
//! costs in energy, and where it stands in its lifecycle.
//!
//! * [`Catalog::bundled`] is the catalogue compiled into the app
//!   (`models/catalog.toml`), generated from the provider's published files in
//!   `models/provider/` by the [`import`] module (`llmaas catalog import FILE`).
//! * Queries: [`Catalog::get`] (id or alias), [`Catalog::search`] (capabilities and
//!   text), [`Catalog::retiring_within`], [`Catalog::successor_of`],
//!   [`Catalog::lifecycle_warning`].
//! * Lifecycle questions take `today` from the caller: this crate never reads the
//!   clock, so that answers are reproducible and testable.
//!
//! This crate knows nothing about HTTP: merging the live `/v1/models` list is the
//! caller's business, through [`Catalog::insert`] and [`Model::aliases`].

mod catalog;
mod error;
pub mod import;
mod live;
mod model;

pub use catalog::{Catalog, FORMAT_VERSION, Query};
pub use error::{CatalogError, ImportError};
pub use import::{ImportReport, ProviderFormat};
pub use live::{LiveComparison, LiveModel, LiveRow};
pub use model::{
    DEFAULT_NOTICE_DAYS, Lifecycle, LifecycleState, Model, Retirement, SnapshotRef, Source,
    SourceKind, is_snapshot_label, with_derived_chat,
};
