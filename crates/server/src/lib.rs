//! `slod`: the service. Configuration, HTTP API, auth, telemetry, and the domain modules that
//! join the store, the engine and the cache.
//!
//! A request flows route -> (validation) -> store -> JSON; every error leaves as the one JSON
//! error shape of `error.rs`.

pub mod app;
pub mod auth;
mod bookkeeping;
mod checks;
pub mod config;
mod dashboard;
pub mod demo;
mod error;
mod extract;
mod fanout;
mod incidents;
pub mod jobs;
mod maintenance;
mod objectives;
mod openapi;
mod ops;
pub mod probes;
mod record_cache;
pub mod signals;
mod systems;
pub mod telemetry;
mod validate;
pub mod views;

pub use app::{build, serve, App, AppState};
pub use config::Config;
