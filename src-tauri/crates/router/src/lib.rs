//! The router: the one API every front end of LLMaaS Desktop calls.
//!
//! For each request it decides the route ([`RouteReason`] says why: policy
//! `cloud` / `local` / `auto`, a `confidential` flag that forbids the cloud,
//! availability of key, network and model), runs the budget guard before
//! anything is sent (worst case: estimated input + `max_tokens`), runs the
//! request on the cloud client or the local engine, streams its events to the
//! caller, falls back to local under `auto` when the cloud fails before
//! answering, and records exactly one ledger row whatever the ending: done,
//! cancelled, cut or failed, with estimated tokens (marked) when the backend
//! did not report them.
//!
//! A request refused before sending (confidential without a local engine, over
//! budget, no key under policy cloud) is an error and leaves no row: nothing
//! was sent, nothing is owed.

mod decide;
mod drive;
mod embed;
mod error;
mod flight;
mod router;
mod speech;
mod state;

pub use decide::RouteReason;
pub use drive::{ChatHandle, Collected, RouterEvent, Summary};
pub use embed::{Completed, Embedded, Transcribed};
pub use error::RouterError;
pub use speech::{LocalRun, SpeechRoute};
pub use state::{
    Caller, KEY_PAUSE, KeySource, RequestOptions, Router, RouterBuilder, RouterConfig,
};
