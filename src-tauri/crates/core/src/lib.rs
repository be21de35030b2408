//! The shared vocabulary of LLMaaS Desktop.
//!
//! Every other crate speaks in these types: [`Money`] (integer nano-euros),
//! [`ModelId`] and [`Capability`], [`Route`] and [`RoutePolicy`], the
//! [`RequestKind`] and [`RequestStatus`] of a ledger row, [`Usage`], and the
//! [`Clock`] that budgets read. This crate does no I/O.

mod model;
mod money;
mod request;
mod tier;

pub use model::{Capability, ModelId, UnknownCapability};
pub use money::{Money, NANOS_PER_EUR, ParseMoneyError};
pub use request::{
    Clock, FixedClock, ParseNameError, RequestKind, RequestStatus, Route, RoutePolicy, SystemClock,
    Usage,
};
pub use tier::Tier;
