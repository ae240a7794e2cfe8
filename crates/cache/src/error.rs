//! Errors of the cache itself. Loader errors are the caller's own type and pass through as is.

/// Something the cache refused or could not do. Never returned for a provider outage on a read
/// (reads fall through to the loader); returned for bad input, failed invalidations and broken
/// batch loaders.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// A scope name outside `[a-z0-9][a-z0-9_-]{0,63}`.
    #[error("invalid cache scope name {0:?}: expected [a-z0-9][a-z0-9_-]{{0,63}}")]
    InvalidScope(String),
    /// An empty or over-long key, one with whitespace or control characters, or one ending in `:`.
    #[error("invalid cache key {0:?}")]
    InvalidKey(String),
    /// A family that does not end with `:` or breaks the key rules.
    #[error("invalid cache family {0:?}: a family is a key prefix ending with ':'")]
    InvalidFamily(String),
    /// A provider URL or kind that is not supported.
    #[error("invalid cache configuration: {0}")]
    InvalidConfig(String),
    /// An invalidation did not reach the provider. The process bypasses the affected keys for one
    /// TTL, so it never serves what it failed to invalidate (G7).
    #[error("cache invalidation failed: {0}")]
    InvalidationFailed(String),
    /// A batch loader returned no entry for some requested ids.
    #[error("batch loader returned no value for {missing} of {requested} ids")]
    IncompleteBatch { missing: usize, requested: usize },
    /// The loader panicked; every waiter receives this error.
    #[error("cache loader panicked")]
    LoaderPanicked,
}
