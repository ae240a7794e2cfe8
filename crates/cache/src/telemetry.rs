//! Per-scope counters through the `metrics` facade (G12). Handles are resolved once when the
//! scope is built, so counting costs an atomic add (or nothing when no recorder is installed).
//! Install the recorder before building scopes.

use metrics::{counter, Counter};

pub(crate) struct ScopeMetrics {
    pub(crate) hits: Counter,
    pub(crate) misses: Counter,
    pub(crate) loads: Counter,
    pub(crate) load_errors: Counter,
    pub(crate) joins: Counter,
    pub(crate) writes_refused: Counter,
    pub(crate) provider_errors: Counter,
    pub(crate) provider_timeouts: Counter,
    pub(crate) breaker_skips: Counter,
    pub(crate) decode_failures: Counter,
    pub(crate) bypassed: Counter,
    pub(crate) invalidation_failures: Counter,
}

impl ScopeMetrics {
    pub(crate) fn new(scope: &str) -> Self {
        let c = |name: &'static str| counter!(name, "scope" => scope.to_owned());
        ScopeMetrics {
            hits: c("slod_cache_hits_total"),
            misses: c("slod_cache_misses_total"),
            loads: c("slod_cache_loads_total"),
            load_errors: c("slod_cache_load_errors_total"),
            joins: c("slod_cache_singleflight_joins_total"),
            writes_refused: c("slod_cache_writes_refused_total"),
            provider_errors: c("slod_cache_provider_errors_total"),
            provider_timeouts: c("slod_cache_provider_timeouts_total"),
            breaker_skips: c("slod_cache_breaker_skips_total"),
            decode_failures: c("slod_cache_decode_failures_total"),
            bypassed: c("slod_cache_bypassed_reads_total"),
            invalidation_failures: c("slod_cache_invalidation_failures_total"),
        }
    }
}
