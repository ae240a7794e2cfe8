//! `slod-engine`: the SLO rules and math, as pure functions.
//!
//! No I/O, no async, no clock: every function takes `now` as a parameter, so every rule can be
//! tested exactly. The service gathers the inputs (timelines, topology, maintenance) from the
//! store and returns the outputs as JSON.
//!
//! - [`intervals`]: half-open spans and their set operations.
//! - [`derive`]: an objective's downtime from timelines: self vs. upstream, maintenance removed.
//! - [`status`]: budget, availability, tier, multi-window burn rates and alerts.
//! - [`history`]: the error budget's burn-down over the window.
//! - [`window`]: rolling and calendar windows.
//! - [`health`]: health rollup and timeline transitions.
//! - [`streak`], [`achievements`], [`digest`]: the daily and weekly bookkeeping.
//! - [`validate`]: objective input rules, with errors naming the field.

pub mod achievements;
pub mod derive;
pub mod digest;
pub mod health;
pub mod history;
pub mod intervals;
pub mod model;
pub mod status;
pub mod streak;
pub mod validate;
pub mod window;

pub use derive::{upstream_closure, Timelines, Upstream};
pub use history::{budget_history, BudgetHistory, BudgetPoint};
pub use model::*;
pub use status::{downtime, status};

/// What the engine cannot compute.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("unknown IANA time zone {0:?}")]
    UnknownTimeZone(String),
    #[error("calendar arithmetic failed: {0}")]
    Calendar(String),
}

impl EngineError {
    pub(crate) fn calendar(e: jiff::Error) -> Self {
        EngineError::Calendar(e.to_string())
    }
}
