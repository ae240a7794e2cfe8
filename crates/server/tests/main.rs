//! The service's integration tests, one binary (one link of the whole server instead of one per
//! file): HTTP end to end on SQLite and PostgreSQL, the CLI, jobs, probes, replicas, the
//! freshness of every cached read after every mutation, and the layout's import rules.

#[macro_use]
mod support;

mod alerts;
mod api;
mod cli;
mod contracts;
mod dashboard;
mod exports;
mod faults;
mod freshness;
mod jobs;
mod layout;
mod notifications;
mod numbers;
mod objectives;
mod operations;
mod probes;
mod replicas;
mod signals;
