//! The cache's integration tests, one binary: the guarantee suite (G1-G12) on the in-process
//! providers and, with the `redis` feature, on Redis, plus what only each can show.

#[macro_use]
mod suite;
mod support;

mod memory;
#[cfg(feature = "redis")]
mod redis;
