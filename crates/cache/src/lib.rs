//! `slod-cache`: a read-through cache that is safe to put in front of a database that changes.
//!
//! ```text
//! CacheManager (provider: none | memory | remote, breaker, single-flight table)
//!   └─ CachedScope "<name>"   wrap / wrap_many / invalidate / invalidate_prefix
//! ```
//!
//! The rule callers follow: commit the database write, `await` the invalidation of every key and
//! family it affects, then announce the change. A reader that refetches after the announcement
//! sees the new data, because an invalidation that returned `Ok` guarantees that no value loaded
//! before it is served or written back (G3), on every process sharing the provider.
//!
//! The guarantees (G1-G12) are listed in the project's `cache.md`; each has a test named after it.
//! Nothing here knows about SLOs.

mod breaker;
mod envelope;
mod error;
mod flights;
mod key;
mod manager;
mod near;
mod provider;
pub mod providers;
mod scope;
mod telemetry;

pub use breaker::BreakerState;
pub use error::CacheError;
pub use key::{Family, Key, KeyRef, MAX_KEY_LEN};
pub use manager::{Bookkeeping, CacheConfig, CacheManager};
pub use provider::{
    CacheProvider, Payload, PayloadFormat, ProviderError, Read, Token, WriteOutcome,
};
pub use scope::{CacheValue, CachedScope, LoadError};
pub use telemetry::describe_metrics;
