//! The store's integration tests, one binary: every case on SQLite (a fresh file) and on
//! PostgreSQL (a fresh schema in `DATABASE_URL`).

#[macro_use]
mod support;

mod alerts;
mod conformance;
mod migrations;
mod notifications;
mod operations;
