//! The engine's integration tests, one binary: the worked examples of engine.md, attribution in
//! every order of events, the multi-window burn alerts, and properties over random timelines.

mod common;

mod attribution;
mod budget_history;
mod burn_alerts;
mod properties;
mod worked_examples;
