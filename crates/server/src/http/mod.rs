//! The HTTP edge: the router with each route's scope, the error shape, extractors that parse
//! ids and bodies once, auth, the operations routes, SSE and the dashboard page. A handler
//! extracts, makes one service call, and responds; it never writes to the store, the cache
//! or the signal hub itself. The router and the OpenAPI document, which name every domain's
//! routes, are `crate::router` and `crate::openapi`.

pub mod auth;
pub mod dashboard;
pub mod encoded;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod ops;
pub mod params;
pub mod sse;
pub mod words;
