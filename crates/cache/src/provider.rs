//! The storage contract every cache backend implements.
//!
//! A provider is not a plain key/value store: to make invalidation race-safe it must offer,
//! atomically, (1) a read that returns either the value or a [`Token`] describing the key's
//! current generation, (2) a write that succeeds only while that token is still current, and
//! (3) invalidation of a key or a family that makes every older token stale. `CachedScope` builds
//! read-through, single-flight and fail-open behaviour on top of these three primitives.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::key::{Family, Key, KeyRef};

/// What a provider stores: the typed value itself (in-process providers) or its encoded bytes
/// (providers that cross a process boundary). The provider says which it wants.
#[derive(Clone)]
pub enum Payload {
    /// A shared, immutable typed value; readers receive clones of it, never the value itself.
    Object {
        value: Arc<dyn Any + Send + Sync>,
        /// Approximate encoded size, for byte-bounded providers.
        approx_bytes: usize,
    },
    /// A versioned, serialized envelope (see `envelope`).
    Bytes(Arc<[u8]>),
}

/// Which [`Payload`] form a provider stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadFormat {
    Object,
    Bytes,
}

/// The generation a key was read under. A write-back presents it; the provider accepts the
/// write only if no invalidation of the key or of one of its families happened since.
///
/// Providers may attach a lease that is released when the token is dropped, so that per-key
/// bookkeeping lives exactly as long as a load that may still write back (G8).
pub struct Token {
    generations: Vec<u64>,
    _lease: Option<Box<dyn Send + Sync>>,
}

impl Token {
    /// A token made of the given generation counters.
    pub fn new(generations: Vec<u64>) -> Self {
        Token {
            generations,
            _lease: None,
        }
    }

    /// A token that also holds `lease` until it is dropped.
    pub fn with_lease(generations: Vec<u64>, lease: Box<dyn Send + Sync>) -> Self {
        Token {
            generations,
            _lease: Some(lease),
        }
    }

    /// The counters this token was issued under, in a provider-defined order.
    pub fn generations(&self) -> &[u64] {
        &self.generations
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("generations", &self.generations)
            .finish()
    }
}

/// The answer to a read.
pub enum Read {
    /// A current value.
    Hit(Payload),
    /// A current value, with the version the provider gave it when it was stored and how long
    /// the provider keeps it: what a near cache needs to hold a decoded copy (see
    /// [`CacheProvider::versions`]).
    Versioned {
        payload: Payload,
        version: u64,
        ttl_left: Duration,
    },
    /// No current value; a load may write back under this token.
    Miss(Token),
}

/// What happened to a write-back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The value is stored.
    Stored,
    /// The value is stored, as this version (see [`CacheProvider::versions`]).
    StoredAs(u64),
    /// An invalidation happened after the token was issued: the value would be stale.
    Refused,
    /// The provider keeps nothing (the `none` provider).
    Discarded,
}

/// A provider failed; the cache falls through to the loader (reads) or reports it (invalidation).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProviderError(pub String);

/// A cache backend. See the module documentation for the contract.
#[async_trait]
pub trait CacheProvider: Send + Sync + 'static {
    /// A short name for logs and metrics (`none`, `memory`, `redis`).
    fn kind(&self) -> &'static str;

    /// Whether values are stored as objects or as encoded bytes.
    fn payload_format(&self) -> PayloadFormat;

    /// Whether calls cross a process boundary and so need a timeout and a circuit breaker.
    fn is_remote(&self) -> bool;

    /// Answers a read without awaiting, if the provider can (in-process providers). The hit path
    /// then costs no future allocation and no timer.
    fn read_now(&self, _key: KeyRef<'_>) -> Option<Read> {
        None
    }

    /// Reads a key: its current value, or a miss with the token a write-back must present.
    async fn read(&self, key: &Key) -> Result<Read, ProviderError>;

    /// Reads several keys; providers with round trips should override this with one batch.
    async fn read_many(&self, keys: &[Key]) -> Result<Vec<Read>, ProviderError> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(self.read(key).await?);
        }
        Ok(out)
    }

    /// For each key, the version of its current value (`None`: no current value), in one
    /// round trip and without moving any value. Providers that answer it get a near cache: the
    /// scope keeps decoded values in process and serves one only while the provider says it is
    /// still the current value. `None`: not supported.
    async fn versions(&self, _keys: &[Key]) -> Option<Result<Vec<Option<u64>>, ProviderError>> {
        None
    }

    /// Whether [`CacheProvider::versions`] is answered (and hits are [`Read::Versioned`],
    /// stored writes [`WriteOutcome::StoredAs`]).
    fn has_versions(&self) -> bool {
        false
    }

    /// Stores `payload` under `key` for `ttl`, only if `token` is still current.
    async fn write(
        &self,
        key: &Key,
        token: &Token,
        payload: Payload,
        ttl: Duration,
    ) -> Result<WriteOutcome, ProviderError>;

    /// Makes every token issued for `key` stale and removes its value.
    async fn invalidate(&self, key: &Key) -> Result<(), ProviderError>;

    /// Makes every token and value of every key in `family` stale, in O(1) of the number of keys.
    async fn invalidate_family(&self, family: &Family) -> Result<(), ProviderError>;

    /// Whether a load started under `flight` may serve a reader that just read `reader`: true
    /// unless the key was invalidated in between (a reader never joins an older load).
    fn same_generation(&self, _key: &Key, flight: &Token, reader: &Token) -> bool {
        flight.generations() == reader.generations()
    }

    /// How many per-key or per-family records the provider holds for invalidation, for tests
    /// and diagnostics (G8: bookkeeping must not grow with the number of keys ever seen).
    fn bookkeeping_len(&self) -> usize {
        0
    }
}
