//! The client against tiny axum servers on 127.0.0.1 serving canned answers.
//! One test binary (faster to link), one module per area.

mod chat;
mod endpoints;
mod errors;
mod hostile;
mod support;
