//! The guarantee suite on the in-process providers, plus what only they can show.

use crate::suite;

use std::collections::HashMap;
use std::time::Duration;

use crate::support::{Controlled, Counter, Mode, TestError};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use slod_cache::providers::{MemoryLimits, MemoryProvider};
use slod_cache::{BreakerState, CacheConfig, CacheError, CacheManager, PayloadFormat};

struct Memory(CacheManager);

impl suite::Backend for Memory {
    fn replica(&self) -> CacheManager {
        self.0.clone()
    }
}

async fn memory() -> Option<Memory> {
    let config = CacheConfig {
        memory: MemoryLimits {
            max_entries: 1_000_000,
            max_bytes: 1 << 30,
        },
        ..CacheConfig::default()
    };
    Some(Memory(CacheManager::new(&config).unwrap()))
}

guarantee_suite!(memory();
    g1_hit_returns_cached_value_without_loading,
    g1_cached_none_is_a_hit,
    g2_thousand_concurrent_misses_run_one_loader,
    g2_loader_error_reaches_every_waiter_and_is_not_cached,
    g3_invalidate_during_load_refuses_the_stale_write,
    g3_invalidate_prefix_during_load_guards_a_never_invalidated_key,
    g3_invalidated_value_is_not_served,
    g4_prefix_invalidation_cost_does_not_grow_with_keys,
    g5_wrap_many_loads_only_missing_ids_in_one_batch,
    g5_short_batch_result_is_an_error,
    g8_invalidated_keys_leave_no_bookkeeping,
    g9_scopes_are_isolated_and_names_validated,
    g10_value_of_another_shape_is_a_miss,
    g10_callers_get_owned_copies,
    g11_dropped_leader_neither_cancels_nor_hangs_the_load,
    g11_panicking_loader_fails_waiters_without_hanging,
);

/// The same suite through a provider that declares itself remote and stores encoded bytes: the
/// envelope, timeout and breaker paths are exercised by every guarantee test too.
struct Encoded(CacheManager);

impl suite::Backend for Encoded {
    fn replica(&self) -> CacheManager {
        self.0.clone()
    }
}

async fn encoded() -> Option<Encoded> {
    let config = CacheConfig {
        op_timeout: Duration::from_secs(5),
        ..CacheConfig::default()
    };
    Some(Encoded(CacheManager::with_provider(
        Controlled::new(PayloadFormat::Bytes),
        &config,
    )))
}

mod encoded {
    use super::*;
    guarantee_suite!(encoded();
        g1_hit_returns_cached_value_without_loading,
        g2_thousand_concurrent_misses_run_one_loader,
        g2_loader_error_reaches_every_waiter_and_is_not_cached,
        g3_invalidate_during_load_refuses_the_stale_write,
        g3_invalidate_prefix_during_load_guards_a_never_invalidated_key,
        g3_invalidated_value_is_not_served,
        g5_wrap_many_loads_only_missing_ids_in_one_batch,
        g5_short_batch_result_is_an_error,
        g10_value_of_another_shape_is_a_miss,
        g10_callers_get_owned_copies,
        g11_dropped_leader_neither_cancels_nor_hangs_the_load,
    );
}

fn controlled(mode: Mode, config: CacheConfig) -> (std::sync::Arc<Controlled>, CacheManager) {
    let provider = Controlled::new(PayloadFormat::Bytes);
    provider.set(mode);
    let manager = CacheManager::with_provider(provider.clone(), &config);
    (provider, manager)
}

async fn read(scope: &slod_cache::CachedScope, key: &str, calls: &Counter, value: &str) -> String {
    scope
        .wrap(key, suite::loader(calls, value.to_owned()))
        .await
        .unwrap()
}

#[tokio::test]
async fn g6_failing_provider_falls_through_to_the_loader() {
    let (_, manager) = controlled(Mode::Failing, CacheConfig::default());
    let scope = manager.scope("g6", suite::TTL).unwrap();
    let calls = Counter::default();
    assert_eq!(read(&scope, "k", &calls, "v1").await, "v1");
    assert_eq!(read(&scope, "k", &calls, "v2").await, "v2");
    let failing: Result<String, TestError> = scope
        .wrap("k", || async { Err(TestError::Loader("db down".into())) })
        .await;
    assert_eq!(
        failing,
        Err(TestError::Loader("db down".into())),
        "loader errors still surface"
    );
}

#[tokio::test]
async fn g6_slow_provider_costs_at_most_the_timeout() {
    let config = CacheConfig {
        op_timeout: Duration::from_millis(50),
        ..CacheConfig::default()
    };
    let (_, manager) = controlled(Mode::Slow(Duration::from_secs(5)), config);
    let scope = manager.scope("g6", suite::TTL).unwrap();
    let calls = Counter::default();
    for i in 0..3 {
        let start = std::time::Instant::now();
        assert_eq!(
            read(&scope, &format!("k{i}"), &calls, "fresh").await,
            "fresh"
        );
        let took = start.elapsed();
        assert!(
            took < Duration::from_millis(500),
            "read took {took:?} with a 5 s provider"
        );
    }
}

#[tokio::test]
async fn g6_breaker_opens_after_failures_and_closes_after_a_good_probe() {
    let config = CacheConfig {
        breaker_threshold: 3,
        breaker_cooldown: Duration::from_millis(200),
        ..CacheConfig::default()
    };
    let (provider, manager) = controlled(Mode::Failing, config);
    let scope = manager.scope("g6", suite::TTL).unwrap();
    let calls = Counter::default();
    for i in 0..3 {
        read(&scope, &format!("k{i}"), &calls, "v").await;
    }
    assert_eq!(manager.breaker_state(), BreakerState::Open);
    let seen = provider.calls();
    for i in 0..20 {
        assert_eq!(read(&scope, &format!("o{i}"), &calls, "v").await, "v");
    }
    assert_eq!(
        provider.calls(),
        seen,
        "an open breaker skips the provider entirely"
    );

    provider.set(Mode::Healthy);
    tokio::time::sleep(Duration::from_millis(250)).await;
    read(&scope, "probe", &calls, "v").await;
    assert_eq!(manager.breaker_state(), BreakerState::Closed);
    let before = calls.get();
    assert_eq!(
        read(&scope, "probe", &calls, "other").await,
        "v",
        "the cache is used again"
    );
    assert_eq!(calls.get(), before);

    // A failed probe re-opens it.
    provider.set(Mode::Failing);
    for i in 0..3 {
        read(&scope, &format!("f{i}"), &calls, "v").await;
    }
    assert_eq!(manager.breaker_state(), BreakerState::Open);
    tokio::time::sleep(Duration::from_millis(250)).await;
    read(&scope, "probe2", &calls, "v").await;
    assert_eq!(manager.breaker_state(), BreakerState::Open);
}

#[tokio::test]
async fn g7_failed_invalidation_is_reported_and_the_key_bypassed_for_one_ttl() {
    let (provider, manager) = controlled(Mode::Healthy, CacheConfig::default());
    let ttl = Duration::from_millis(300);
    let scope = manager.scope("g7", ttl).unwrap();
    let calls = Counter::default();
    assert_eq!(read(&scope, "k", &calls, "old").await, "old");
    assert_eq!(read(&scope, "list:a", &calls, "old").await, "old");

    provider.set(Mode::FailingInvalidations);
    assert!(matches!(
        scope.invalidate("k").await,
        Err(CacheError::InvalidationFailed(_))
    ));
    assert!(matches!(
        scope.invalidate_prefix("list:").await,
        Err(CacheError::InvalidationFailed(_))
    ));
    assert_eq!(manager.bookkeeping().bypassed, 2);
    provider.set(Mode::Healthy);
    // The stale values are still in the provider, but this process does not serve them.
    assert_eq!(read(&scope, "k", &calls, "new").await, "new");
    assert_eq!(read(&scope, "list:a", &calls, "new").await, "new");
    assert_eq!(
        read(&scope, "k", &calls, "newer").await,
        "newer",
        "no write-back while bypassed"
    );
    assert_eq!(read(&scope, "other", &calls, "o").await, "o");
    assert_eq!(
        read(&scope, "other", &calls, "o2").await,
        "o",
        "other keys still cached"
    );

    tokio::time::sleep(ttl + Duration::from_millis(50)).await;
    assert_eq!(read(&scope, "k", &calls, "after").await, "after");
    assert_eq!(
        read(&scope, "k", &calls, "cached?").await,
        "after",
        "cached again after one TTL"
    );
    assert_eq!(manager.bookkeeping().bypassed, 0);
}

#[tokio::test]
async fn g8_memory_provider_is_bounded_by_entries_and_bytes() {
    let by_entries = MemoryProvider::new(MemoryLimits {
        max_entries: 500,
        max_bytes: 1 << 30,
    });
    let by_bytes = MemoryProvider::new(MemoryLimits {
        max_entries: 1_000_000,
        max_bytes: 64 * 1024,
    });
    for (provider, limit) in [
        (by_entries.clone(), 500),
        (by_bytes.clone(), 64 * 1024 / 1024),
    ] {
        let manager = CacheManager::with_provider(
            std::sync::Arc::new(provider.clone()),
            &CacheConfig::default(),
        );
        let scope = manager.scope("bounded", suite::TTL).unwrap();
        let calls = Counter::default();
        for i in 0..5_000 {
            // About 1 KiB each.
            read(&scope, &format!("k{i}"), &calls, &"x".repeat(1000)).await;
        }
        let held = provider.entry_count();
        assert!(held <= limit, "{held} entries held, limit {limit}");
        assert!(held > 0);
    }
}

#[tokio::test]
async fn g8_entries_expire_after_their_ttl() {
    let manager = CacheManager::new(&CacheConfig::default()).unwrap();
    let scope = manager.scope("ttl", Duration::from_millis(100)).unwrap();
    let calls = Counter::default();
    read(&scope, "k", &calls, "v1").await;
    assert_eq!(read(&scope, "k", &calls, "v2").await, "v1");
    let per_call: String = scope
        .wrap_with_ttl(
            "long",
            Duration::from_secs(60),
            suite::loader(&calls, "l1".to_owned()),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(read(&scope, "k", &calls, "v2").await, "v2");
    assert_eq!(
        read(&scope, "long", &calls, "l2").await,
        per_call,
        "per-call TTL respected"
    );
}

#[tokio::test]
async fn g10_undecodable_bytes_are_a_miss() {
    let (provider, manager) = controlled(Mode::Healthy, CacheConfig::default());
    let scope = manager.scope("g10", suite::TTL).unwrap();
    let calls = Counter::default();
    let garbage = slod_cache::Key::from_parts("g10", "garbage").unwrap();
    provider.plant_bytes(&garbage, b"\x00\xff not json").await;
    let future = slod_cache::Key::from_parts("g10", "future").unwrap();
    provider
        .plant_bytes(&future, br#"{"v":99,"d":"from a newer build"}"#)
        .await;
    assert_eq!(read(&scope, "garbage", &calls, "fresh").await, "fresh");
    assert_eq!(read(&scope, "future", &calls, "fresh").await, "fresh");
    assert_eq!(calls.get(), 2);
    // The bad entries were dropped, so the next load is written back and served.
    tokio::time::sleep(Duration::from_millis(20)).await;
    read(&scope, "garbage", &calls, "fresh").await;
    assert_eq!(read(&scope, "garbage", &calls, "other").await, "fresh");
}

fn counter_value(
    snapshot: &[(metrics_util::CompositeKey, DebugValue)],
    name: &str,
    scope: &str,
) -> u64 {
    snapshot
        .iter()
        .find(|(key, _)| {
            key.key().name() == name
                && key
                    .key()
                    .labels()
                    .any(|l| l.key() == "scope" && l.value() == scope)
        })
        .map(|(_, value)| match value {
            DebugValue::Counter(n) => *n,
            other => panic!("{name} is {other:?}"),
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g12_counters_are_exported_per_scope() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let (provider, manager, scope, other) = metrics::with_local_recorder(&recorder, || {
        let (provider, manager) = controlled(Mode::Healthy, CacheConfig::default());
        let scope = manager.scope("observed", suite::TTL).unwrap();
        let other = manager.scope("other", suite::TTL).unwrap();
        (provider, manager, scope, other)
    });
    let calls = Counter::default();
    read(&scope, "k", &calls, "v").await; // miss + load
    read(&scope, "k", &calls, "v").await; // hit
    read(&other, "k", &calls, "v").await; // another scope
    let _: Result<String, _> = scope
        .wrap("e", || async { Err(TestError::Loader("x".into())) })
        .await;

    // A join and a refused write-back.
    let (load, gate) = suite::gated(&calls, Ok("old".to_owned()));
    let leader = tokio::spawn({
        let scope = scope.clone();
        async move { scope.wrap("race", load).await }
    });
    gate.started.await.unwrap();
    let joiner = tokio::spawn({
        let scope = scope.clone();
        let calls = calls.clone();
        async move { read(&scope, "race", &calls, "x").await }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    scope.invalidate("race").await.unwrap();
    gate.open.send(()).unwrap();
    leader.await.unwrap().unwrap();
    joiner.await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;

    provider.set(Mode::Failing);
    read(&scope, "down", &calls, "v").await;
    provider.set(Mode::Slow(Duration::from_secs(1)));
    read(&scope, "slow", &calls, "v").await;
    let _ = manager;

    let snapshot: Vec<_> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| (key, value))
        .collect();
    let get = |name: &str| counter_value(&snapshot, name, "observed");
    assert_eq!(get("slod_cache_hits_total"), 1);
    assert_eq!(get("slod_cache_loads_total"), 5);
    assert_eq!(get("slod_cache_load_errors_total"), 1);
    assert_eq!(get("slod_cache_singleflight_joins_total"), 1);
    assert_eq!(get("slod_cache_writes_refused_total"), 1);
    assert!(get("slod_cache_provider_errors_total") >= 1);
    assert!(get("slod_cache_provider_timeouts_total") >= 1);
    assert!(get("slod_cache_misses_total") >= 5);
    assert_eq!(
        counter_value(&snapshot, "slod_cache_misses_total", "other"),
        1
    );
    assert!(snapshot
        .iter()
        .any(|(key, _)| key.key().name() == "slod_cache_breaker_open"));
}

#[tokio::test]
async fn none_provider_never_caches_but_still_single_flights() {
    let manager = CacheManager::new(&CacheConfig {
        provider: "none".into(),
        ..CacheConfig::default()
    })
    .unwrap();
    let scope = manager.scope("off", suite::TTL).unwrap();
    let calls = Counter::default();
    read(&scope, "k", &calls, "a").await;
    assert_eq!(read(&scope, "k", &calls, "b").await, "b");
    let many: Vec<u32> = scope
        .wrap_many(
            &[1u32, 2],
            |id| format!("n:{id}"),
            |ids: Vec<u32>| async move {
                Ok::<_, TestError>(
                    ids.into_iter()
                        .map(|i| (i, i * 10))
                        .collect::<HashMap<_, _>>(),
                )
            },
        )
        .await
        .unwrap();
    assert_eq!(many, [10, 20]);
    assert!(matches!(
        CacheManager::new(&CacheConfig {
            provider: "carrier-pigeon".into(),
            ..CacheConfig::default()
        }),
        Err(CacheError::InvalidConfig(_))
    ));
}
