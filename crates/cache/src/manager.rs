//! `CacheManager`: builds the configured provider and hands out scopes that share it, its
//! single-flight table, its circuit breaker and its bypass list.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::breaker::{Breaker, BreakerState, Unavailable};
use crate::flights::Flights;
use crate::key::{validate_scope, KeyRef};
use crate::near::Near;
use crate::provider::{CacheProvider, ProviderError};
use crate::providers::{MemoryLimits, MemoryProvider, NoneProvider};
use crate::{CacheError, CachedScope};

/// How the cache is built. `Default` gives the embedded defaults (`memory`).
#[derive(Clone, Debug)]
pub struct CacheConfig {
    /// `memory`, `none`, or a provider URL.
    pub provider: String,
    /// Separates deployments that share one remote cache.
    pub namespace: String,
    /// Longest a remote provider call may take before the read falls through (G6).
    pub op_timeout: Duration,
    /// Consecutive remote failures that open the circuit breaker.
    pub breaker_threshold: u32,
    /// How long an open breaker bypasses the provider before probing it again.
    pub breaker_cooldown: Duration,
    /// Bounds of the memory provider.
    pub memory: MemoryLimits,
    /// Most decoded values a remote provider's near cache keeps in process (0: none).
    pub near_entries: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            provider: "memory".into(),
            namespace: "slod".into(),
            op_timeout: Duration::from_millis(50),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(5),
            memory: MemoryLimits::default(),
            near_entries: crate::near::NEAR_ENTRIES,
        }
    }
}

/// Counts of what the cache keeps for bookkeeping; all return to zero when idle (G8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bookkeeping {
    /// Loads in flight.
    pub in_flight: usize,
    /// Keys and families bypassed after a failed invalidation.
    pub bypassed: usize,
    /// The provider's own invalidation records.
    pub provider: usize,
}

/// Keys and families this process must not read or write back, after their invalidation failed.
#[derive(Default)]
pub(crate) struct Bypass {
    active: AtomicUsize,
    until: Mutex<HashMap<String, Instant>>,
}

impl Bypass {
    pub(crate) fn add(&self, key_or_family: &str, duration: Duration) {
        let mut until = self.until.lock().unwrap_or_else(|e| e.into_inner());
        let end = Instant::now() + duration;
        let slot = until.entry(key_or_family.to_owned()).or_insert(end);
        *slot = (*slot).max(end);
        self.active.store(until.len(), Ordering::Release);
    }

    pub(crate) fn covers(&self, key: KeyRef<'_>) -> bool {
        if self.active.load(Ordering::Acquire) == 0 {
            return false;
        }
        let mut until = self.until.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        until.retain(|_, end| *end > now);
        self.active.store(until.len(), Ordering::Release);
        until.contains_key(key.as_str()) || key.families().any(|f| until.contains_key(f))
    }

    fn len(&self) -> usize {
        let mut until = self.until.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        until.retain(|_, end| *end > now);
        until.len()
    }
}

/// What every scope of one manager shares.
pub(crate) struct Core {
    pub(crate) provider: Arc<dyn CacheProvider>,
    pub(crate) flights: Arc<Flights>,
    pub(crate) bypass: Bypass,
    /// Present for remote providers only: in-process providers cannot be slow or down.
    breaker: Option<Breaker>,
    /// Decoded copies of a remote provider's values, served once it confirms they are still
    /// current (see `near`); present when the provider answers versions.
    pub(crate) near: Option<Near>,
}

impl Core {
    /// Runs a provider call, under the timeout and breaker when the provider is remote.
    pub(crate) async fn call<R>(
        &self,
        call: impl Future<Output = Result<R, ProviderError>>,
    ) -> Result<R, Unavailable> {
        match &self.breaker {
            Some(breaker) => breaker.call(call).await,
            None => call.await.map_err(Unavailable::Failed),
        }
    }

    /// As [`Core::call`], for one call over `items` keys: its timeout grows with the batch.
    pub(crate) async fn call_batch<R>(
        &self,
        items: usize,
        call: impl Future<Output = Result<R, ProviderError>>,
    ) -> Result<R, Unavailable> {
        match &self.breaker {
            Some(breaker) => breaker.call_batch(items, call).await,
            None => call.await.map_err(Unavailable::Failed),
        }
    }
}

/// Owns the provider. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct CacheManager {
    core: Arc<Core>,
}

impl CacheManager {
    /// Builds the provider named by `config.provider`: `memory`, `none`, or (with the `redis`
    /// feature) a `redis://` URL. Must run inside a tokio runtime for Redis (it connects lazily).
    pub fn new(config: &CacheConfig) -> Result<Self, CacheError> {
        let provider: Arc<dyn CacheProvider> = match config.provider.as_str() {
            "memory" => Arc::new(MemoryProvider::new(config.memory)),
            "none" => Arc::new(NoneProvider),
            #[cfg(feature = "redis")]
            url if url.starts_with("redis://") || url.starts_with("rediss://") => {
                Arc::new(crate::providers::RedisProvider::connect(url, &config.namespace)?)
            }
            other => {
                return Err(CacheError::InvalidConfig(format!(
                    "unknown cache provider {other:?} (expected \"memory\", \"none\" or a redis:// URL)"
                )))
            }
        };
        Ok(Self::with_provider(provider, config))
    }

    /// Uses a provider built elsewhere (another backend, or a test double of a failing one).
    pub fn with_provider(provider: Arc<dyn CacheProvider>, config: &CacheConfig) -> Self {
        let breaker = provider.is_remote().then(|| {
            Breaker::new(
                config.breaker_threshold,
                config.breaker_cooldown,
                config.op_timeout,
                provider.kind(),
            )
        });
        CacheManager {
            core: Arc::new(Core {
                near: (provider.has_versions() && config.near_entries > 0)
                    .then(|| Near::new(config.near_entries)),
                provider,
                flights: Arc::default(),
                bypass: Bypass::default(),
                breaker,
            }),
        }
    }

    /// A scope whose keys live under `<name>:`, with `default_ttl` for `wrap`.
    pub fn scope(&self, name: &str, default_ttl: Duration) -> Result<CachedScope, CacheError> {
        validate_scope(name)?;
        Ok(CachedScope::new(Arc::clone(&self.core), name, default_ttl))
    }

    /// The provider's kind (`memory`, `none`, ...), for logs and readiness reports.
    pub fn provider_kind(&self) -> &'static str {
        self.core.provider.kind()
    }

    /// The circuit breaker's state; always closed for in-process providers.
    pub fn breaker_state(&self) -> BreakerState {
        self.core
            .breaker
            .as_ref()
            .map_or(BreakerState::Closed, Breaker::state)
    }

    /// What is currently kept for bookkeeping.
    pub fn bookkeeping(&self) -> Bookkeeping {
        Bookkeeping {
            in_flight: self.core.flights.len(),
            bypassed: self.core.bypass.len(),
            provider: self.core.provider.bookkeeping_len(),
        }
    }
}
