//! `slod`: the service. A request flows `http` (extract, parse once) -> a domain service ->
//! (`views` for reads | a `work` unit for writes) -> store + engine + cache -> JSON.
//!
//! Layers, each importing only its own and those below it (`tests/layout.rs` checks this, and
//! that no domain imports another):
//!
//! | layer | modules |
//! |---|---|
//! | edge | [`router`], [`openapi`], [`http`] (errors, extractors, auth, SSE, ops, dashboard), each domain's `routes`, [`jobs`], [`probes`], [`demo`], [`startup`], `main.rs` (the CLI) |
//! | domains | [`systems`], [`checks`], [`objectives`], [`incidents`], [`maintenance`], [`alerts`], [`bookkeeping`], [`tokens`]: each a service |
//! | delivery | [`notifications`]: channels, policies and the outbox an alert transition writes to in its own unit of work |
//! | the mutation rule | [`work`] (commit, then invalidate, then signal), [`timeline`] (what a moved timeline affects), [`state`] |
//! | reads | [`views`]: the cached read models, their keys and invalidations |
//! | base | [`signals`], [`error`], [`ids`], [`validation`], [`paging`], [`calendar`], [`config`], [`telemetry`] |

pub mod alerts;
pub mod bookkeeping;
pub mod calendar;
pub mod checks;
pub mod config;
pub mod demo;
pub mod error;
pub mod http;
pub mod ids;
pub mod incidents;
pub mod jobs;
pub mod maintenance;
pub mod notifications;
pub mod objectives;
pub mod openapi;
pub mod paging;
pub mod probes;
pub mod router;
pub mod signals;
pub mod startup;
pub mod state;
pub mod systems;
pub mod telemetry;
pub mod timeline;
pub mod tokens;
pub mod validation;
pub mod views;
pub mod work;

pub use config::Config;
pub use startup::{build, serve, App};
pub use state::AppState;
