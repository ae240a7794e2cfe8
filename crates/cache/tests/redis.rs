//! The guarantee suite on Redis, where each "replica" is its own `CacheManager` with its own
//! connection, plus what only a shared, remote cache can show: stale write-backs refused across
//! replicas under random interleavings, an outage and a recovery, one round trip per hit.

use crate::suite;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::Counter;
use slod_cache::{BreakerState, CacheConfig, CacheManager, CachedScope};

struct Redis {
    url: String,
    namespace: String,
}

impl Redis {
    fn config(&self) -> CacheConfig {
        // Generous timeouts: these tests check semantics, not latency, on a busy CI machine.
        CacheConfig {
            provider: self.url.clone(),
            namespace: self.namespace.clone(),
            op_timeout: Duration::from_secs(2),
            ..CacheConfig::default()
        }
    }
}

impl suite::Backend for Redis {
    fn replica(&self) -> CacheManager {
        CacheManager::new(&self.config()).unwrap()
    }
}

fn required() -> bool {
    std::env::var("SLOD_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

async fn redis() -> Option<Redis> {
    let Ok(url) = std::env::var("REDIS_URL") else {
        assert!(
            !required(),
            "SLOD_REQUIRE_SERVICES=1 but REDIS_URL is not set"
        );
        eprintln!("skipped: REDIS_URL is not set");
        return None;
    };
    Some(Redis {
        url,
        namespace: format!("test-{}", uuid()),
    })
}

fn uuid() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{nanos:x}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

guarantee_suite!(redis();
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
    g9_scopes_are_isolated_and_names_validated,
    g10_value_of_another_shape_is_a_miss,
    g10_callers_get_owned_copies,
    g11_dropped_leader_neither_cancels_nor_hangs_the_load,
    g11_panicking_loader_fails_waiters_without_hanging,
);

fn scope(manager: &CacheManager) -> CachedScope {
    manager.scope("stress", Duration::from_secs(30)).unwrap()
}

/// Replica A loads, replica B invalidates (the key or its family) while A's load is in flight,
/// with random pauses between the steps: A's value is never readable afterwards, from A or B.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn g3_two_replicas_randomized_interleavings_never_serve_a_stale_write() {
    let Some(redis) = redis().await else { return };
    let (a, b) = (
        scope(&suite::Backend::replica(&redis)),
        scope(&suite::Backend::replica(&redis)),
    );
    let mut seed = 0x5eed_u64;
    let mut random = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for round in 0..200u64 {
        let key = format!("list:item-{}", random(20));
        b.invalidate(&key).await.unwrap();
        let calls = Counter::default();
        let stale = format!("stale-{round}");
        let (load, gate) = suite::gated(&calls, Ok(stale.clone()));
        let a_load = tokio::spawn({
            let a = a.clone();
            let key = key.clone();
            async move { a.wrap(&key, load).await }
        });
        gate.started.await.unwrap();
        for _ in 0..random(4) {
            tokio::task::yield_now().await;
        }
        if random(2) == 0 {
            b.invalidate(&key).await.unwrap()
        } else {
            b.invalidate_prefix("list:").await.unwrap()
        }
        if random(2) == 0 {
            tokio::time::sleep(Duration::from_micros(random(500))).await;
        }
        gate.open.send(()).unwrap();
        assert_eq!(
            a_load.await.unwrap().unwrap(),
            stale,
            "A's own caller started before the invalidation"
        );
        for (name, replica) in [("a", &a), ("b", &b)] {
            let fresh = format!("fresh-{round}-{name}");
            let got: String = replica
                .wrap(&key, suite::loader(&Counter::default(), fresh))
                .await
                .unwrap();
            assert_ne!(
                got, stale,
                "round {round}: replica {name} served the write-back that lost the race"
            );
        }
    }
}

/// A Redis of our own on a spare port, so stopping it does not disturb the shared one.
struct OwnRedis {
    port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    fn start(port: u16) -> Option<OwnRedis> {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
                "--bind",
                "127.0.0.1",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match child {
            Ok(child) => child,
            Err(e) => {
                assert!(
                    !required(),
                    "SLOD_REQUIRE_SERVICES=1 but redis-server cannot be started: {e}"
                );
                eprintln!("skipped: redis-server is not installed ({e})");
                return None;
            }
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(OwnRedis {
            port,
            child: Some(child),
        })
    }

    fn spare_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g6_redis_outage_reads_answer_within_the_timeout_and_recovery_needs_no_restart() {
    if redis().await.is_none() {
        return;
    }
    let port = OwnRedis::spare_port();
    let Some(mut server) = OwnRedis::start(port) else {
        return;
    };
    let config = CacheConfig {
        provider: server.url(),
        namespace: "outage".into(),
        op_timeout: Duration::from_millis(50),
        breaker_threshold: 3,
        breaker_cooldown: Duration::from_millis(300),
        ..CacheConfig::default()
    };
    let manager = CacheManager::new(&config).unwrap();
    let scope = scope(&manager);
    let calls = Counter::default();
    let read = |key: &'static str, value: &'static str| {
        let scope = scope.clone();
        let calls = calls.clone();
        async move {
            scope
                .wrap(key, suite::loader(&calls, value.to_owned()))
                .await
                .unwrap()
        }
    };
    assert_eq!(read("k", "v1").await, "v1");
    assert_eq!(read("k", "other").await, "v1", "cached while Redis is up");

    server.stop();
    for i in 0..20 {
        let start = Instant::now();
        let got: String = read("k", "from-db").await;
        assert_eq!(got, "from-db", "read {i} falls through to the loader");
        assert!(
            start.elapsed() < Duration::from_millis(400),
            "read {i} took {:?}",
            start.elapsed()
        );
    }
    assert_eq!(manager.breaker_state(), BreakerState::Open);

    let _server = OwnRedis::start(port).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        tokio::time::sleep(Duration::from_millis(350)).await;
        let _ = read("back", "cached-again").await;
        let before = calls.get();
        if read("back", "second-load").await == "cached-again" && calls.get() == before {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the cache was not used again after Redis came back"
        );
    }
    assert_eq!(manager.breaker_state(), BreakerState::Closed);
}

/// `INFO commandstats` on a Redis of our own: a hit is one round trip. Without the near cache
/// it is one EVALSHA that returns the value; with it (the default), one MGET of the key's
/// counters and its stored stamp and version, and no value moved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hit_costs_one_round_trip() {
    if redis().await.is_none() {
        return;
    }
    let Some(server) = OwnRedis::start(OwnRedis::spare_port()) else {
        return;
    };
    let without_near = hit_commands(&server, 0).await;
    assert_eq!(without_near, [("evalsha".to_owned(), 100)]);
    let with_near = hit_commands(&server, CacheConfig::default().near_entries).await;
    assert_eq!(with_near, [("mget".to_owned(), 100)]);
}

/// The commands Redis ran for 100 hits of one key (the script's own reads inside an EVALSHA
/// not counted), by name.
async fn hit_commands(server: &OwnRedis, near_entries: u64) -> Vec<(String, u64)> {
    let namespace = format!("rt{near_entries}");
    let config = CacheConfig {
        provider: server.url(),
        namespace: namespace.clone(),
        op_timeout: Duration::from_secs(2),
        near_entries,
        ..CacheConfig::default()
    };
    let scope = scope(&CacheManager::new(&config).unwrap());
    let calls = Counter::default();
    let _: String = scope
        .wrap("list:k", suite::loader(&calls, "v".to_owned()))
        .await
        .unwrap();
    let client = redis::Client::open(server.url()).unwrap();
    let mut admin = client.get_multiplexed_async_connection().await.unwrap();
    // Keys are <namespace>:<scope>:<key>.
    let exists: i64 = redis::cmd("EXISTS")
        .arg(format!("{namespace}:stress:list:k"))
        .query_async(&mut admin)
        .await
        .unwrap();
    assert_eq!(exists, 1);
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(&mut admin)
        .await
        .unwrap();
    for _ in 0..100 {
        let _: String = scope
            .wrap("list:k", suite::loader(&calls, "x".to_owned()))
            .await
            .unwrap();
    }
    assert_eq!(calls.get(), 1, "every read after the first is a hit");
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut admin)
        .await
        .unwrap();
    let script_reads = stats.contains("cmdstat_evalsha");
    let mut counts: Vec<(String, u64)> = stats
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest
                .split(',')
                .find_map(|f| f.strip_prefix("calls="))?
                .parse()
                .ok()?;
            Some((name.to_owned(), calls))
        })
        .filter(|(name, _)| !name.starts_with("config") && !name.starts_with("info"))
        // Inside an EVALSHA, MGET and HMGET are the script's own reads, not round trips.
        .filter(|(name, _)| !(script_reads && matches!(name.as_str(), "mget" | "hmget")))
        .collect();
    counts.sort();
    counts
}

/// The write guard on its own: a stale write-back that loses the race must not displace the
/// fresh value another replica stored meanwhile (reads would still never serve it, thanks to
/// the stamp check, but every reader would pay a load until the next write).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g3_a_stale_write_back_does_not_displace_a_fresh_value() {
    let Some(redis) = redis().await else { return };
    let (a, b) = (
        scope(&suite::Backend::replica(&redis)),
        scope(&suite::Backend::replica(&redis)),
    );
    let calls = Counter::default();
    let (load, gate) = suite::gated(&calls, Ok("stale".to_owned()));
    let a_load = tokio::spawn({
        let a = a.clone();
        async move { a.wrap("k", load).await }
    });
    gate.started.await.unwrap();
    b.invalidate("k").await.unwrap();
    let fresh: String = b
        .wrap("k", suite::loader(&calls, "fresh".to_owned()))
        .await
        .unwrap();
    assert_eq!(fresh, "fresh");
    gate.open.send(()).unwrap();
    a_load.await.unwrap().unwrap();
    let before = calls.get();
    let again: String = b
        .wrap("k", suite::loader(&calls, "reloaded".to_owned()))
        .await
        .unwrap();
    assert_eq!(
        (again.as_str(), calls.get()),
        ("fresh", before),
        "the fresh value is still cached"
    );
}
