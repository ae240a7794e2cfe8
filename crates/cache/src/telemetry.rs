//! Per-scope counters through the `metrics` facade (G12). Handles are resolved once when the
//! scope is built, so counting costs an atomic add (or nothing when no recorder is installed).
//! Install the recorder before building scopes.

use metrics::{counter, describe_counter, describe_gauge, Counter};

/// Gives every metric of this crate its help text, for exporters that print one (Prometheus's
/// `# HELP`). Idempotent; call it once the recorder is installed.
pub fn describe_metrics() {
    for (name, help) in [
        (
            "slod_cache_hits_total",
            "Reads answered from the cache (G1), by scope.",
        ),
        (
            "slod_cache_near_hits_total",
            "Hits served from a remote provider's near cache after it confirmed their generations (also counted in slod_cache_hits_total), by scope.",
        ),
        (
            "slod_cache_misses_total",
            "Reads the cache could not answer, by scope.",
        ),
        (
            "slod_cache_loads_total",
            "Loader runs after misses (one per single-flight group), by scope.",
        ),
        (
            "slod_cache_load_errors_total",
            "Loader runs that failed (never cached), by scope.",
        ),
        (
            "slod_cache_singleflight_joins_total",
            "Reads that joined a load already in flight (G2), by scope.",
        ),
        (
            "slod_cache_writes_refused_total",
            "Write-backs refused because the key was invalidated during the load (G3), by scope.",
        ),
        (
            "slod_cache_provider_errors_total",
            "Provider calls that failed; the read fell through to the loader (G6), by scope.",
        ),
        (
            "slod_cache_provider_timeouts_total",
            "Provider calls slower than their timeout (G6), by scope.",
        ),
        (
            "slod_cache_breaker_skips_total",
            "Provider calls skipped while the breaker was open (G6), by scope.",
        ),
        (
            "slod_cache_decode_failures_total",
            "Cached values that no longer decode, read as misses (G10), by scope.",
        ),
        (
            "slod_cache_bypassed_reads_total",
            "Reads that bypassed the cache after a failed invalidation (G7), by scope.",
        ),
        (
            "slod_cache_invalidation_failures_total",
            "Invalidations that failed and were reported (G7), by scope.",
        ),
    ] {
        describe_counter!(name, help);
    }
    describe_gauge!(
        "slod_cache_breaker_open",
        "1 while the cache provider's circuit breaker is open (reads go to the loader), else 0."
    );
}

pub(crate) struct ScopeMetrics {
    pub(crate) hits: Counter,
    pub(crate) near_hits: Counter,
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
            near_hits: c("slod_cache_near_hits_total"),
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
