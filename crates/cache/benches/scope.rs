//! The hit path of `CachedScope::wrap` on the memory provider against a raw moka `get` of the
//! same value, in the same run, with 1, 8 and 64 concurrent tasks.
//!
//! Both sides return an owned copy of the value (what a request handler needs) and look up the
//! same 1,000 keys in the same order. `cargo bench -p slod-cache --bench scope`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use serde::{Deserialize, Serialize};
use slod_cache::{CacheConfig, CacheError, CacheManager, CachedScope};

const KEYS: usize = 1_000;

/// Shaped like an objective status: a dozen numbers, a few strings, a short list.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Status {
    objective_id: String,
    system_id: String,
    target: f64,
    window_days: u32,
    availability: f64,
    budget_total: f64,
    budget_consumed: f64,
    budget_remaining_percent: f64,
    burn_rate: Option<f64>,
    breaching: bool,
    tier: String,
    attribution: Vec<(String, f64)>,
}

fn status(i: usize) -> Status {
    Status {
        objective_id: format!("objective-{i}"),
        system_id: format!("system-{i}"),
        target: 99.9,
        window_days: 30,
        availability: 99.95,
        budget_total: 43.2,
        budget_consumed: 12.5,
        budget_remaining_percent: 71.06,
        burn_rate: Some(0.29),
        breaching: false,
        tier: "healthy".into(),
        attribution: vec![("self".into(), 10.0), ("upstream-db".into(), 2.5)],
    }
}

/// Runs `iters` operations split over `tasks` tasks, each task running `worker(task, count)`
/// with handles it cloned once; returns the wall time.
async fn run<F, Fut>(tasks: usize, iters: u64, worker: F) -> Duration
where
    F: Fn(usize, usize) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let per_task = (iters as usize).div_ceil(tasks);
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| tokio::spawn(worker(t, per_task)))
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    start.elapsed()
}

/// The key index the `i`-th operation of task `t` reads.
fn key_index(t: usize, i: usize) -> usize {
    (t * 7919 + i) % KEYS
}

fn hit_path(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();

    let raw: moka::sync::Cache<String, Arc<Status>> = moka::sync::Cache::new(10_000);
    let full_keys: Arc<Vec<String>> =
        Arc::new((0..KEYS).map(|i| format!("bench:objective:{i}")).collect());
    let keys: Arc<Vec<String>> = Arc::new((0..KEYS).map(|i| format!("objective:{i}")).collect());
    for i in 0..KEYS {
        raw.insert(full_keys[i].clone(), Arc::new(status(i)));
    }

    let manager = CacheManager::new(&CacheConfig::default()).unwrap();
    let scope: CachedScope = manager.scope("bench", Duration::from_secs(3600)).unwrap();
    rt.block_on(async {
        for i in 0..KEYS {
            let _: Status = scope
                .wrap(
                    &keys[i],
                    move || async move { Ok::<_, CacheError>(status(i)) },
                )
                .await
                .unwrap();
        }
    });

    let mut group = c.benchmark_group("hit");
    group.measurement_time(Duration::from_secs(4));
    for tasks in [1usize, 8, 64] {
        group.bench_function(BenchmarkId::new("moka_get", tasks), |b| {
            b.iter_custom(|iters| {
                rt.block_on(run(tasks, iters, |t, n| {
                    let (raw, keys) = (raw.clone(), Arc::clone(&full_keys));
                    async move {
                        for i in 0..n {
                            let value = raw
                                .get(keys[key_index(t, i)].as_str())
                                .map(|v| Status::clone(&v));
                            std::hint::black_box(value.expect("warm"));
                        }
                    }
                }))
            })
        });
        group.bench_function(BenchmarkId::new("scope_wrap", tasks), |b| {
            b.iter_custom(|iters| {
                rt.block_on(run(tasks, iters, |t, n| {
                    let (scope, keys) = (scope.clone(), Arc::clone(&keys));
                    async move {
                        for i in 0..n {
                            let value: Status = scope
                                .wrap(&keys[key_index(t, i)], || async {
                                    Err::<Status, _>(CacheError::LoaderPanicked)
                                })
                                .await
                                .expect("warm");
                            std::hint::black_box(value);
                        }
                    }
                }))
            })
        });
    }
    group.finish();

    // The fixed cost of the scope, with a value that costs nothing to copy.
    let raw_small: moka::sync::Cache<String, u64> = moka::sync::Cache::new(10_000);
    let small = manager.scope("small", Duration::from_secs(3600)).unwrap();
    let small_full: Arc<Vec<String>> =
        Arc::new((0..KEYS).map(|i| format!("small:n:{i}")).collect());
    let small_keys: Arc<Vec<String>> = Arc::new((0..KEYS).map(|i| format!("n:{i}")).collect());
    rt.block_on(async {
        for i in 0..KEYS {
            raw_small.insert(small_full[i].clone(), i as u64);
            let _: u64 = small
                .wrap(&small_keys[i], move || async move {
                    Ok::<_, CacheError>(i as u64)
                })
                .await
                .unwrap();
        }
    });
    let mut group = c.benchmark_group("hit_u64");
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("moka_get", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for i in 0..iters as usize {
                std::hint::black_box(raw_small.get(small_full[i % KEYS].as_str()));
            }
            start.elapsed()
        })
    });
    // The same cache, configured as the memory provider configures it (per-entry expiry and a
    // weigher): separates what the scope adds from what per-entry TTLs cost inside moka.
    struct PerEntry;
    impl moka::Expiry<String, u64> for PerEntry {
        fn expire_after_create(&self, _: &String, _: &u64, _: Instant) -> Option<Duration> {
            Some(Duration::from_secs(3600))
        }
    }
    let configured: moka::sync::Cache<String, u64> = moka::sync::Cache::builder()
        .max_capacity(1 << 28)
        .weigher(|_: &String, _: &u64| 2684)
        .expire_after(PerEntry)
        .build();
    for i in 0..KEYS {
        configured.insert(small_full[i].clone(), i as u64);
    }
    group.bench_function("moka_get_per_entry_ttl", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for i in 0..iters as usize {
                std::hint::black_box(configured.get(small_full[i % KEYS].as_str()));
            }
            start.elapsed()
        })
    });
    group.bench_function("scope_wrap", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for i in 0..iters as usize {
                    let v: u64 = small
                        .wrap(&small_keys[i % KEYS], || async {
                            Err::<u64, _>(CacheError::LoaderPanicked)
                        })
                        .await
                        .unwrap();
                    std::hint::black_box(v);
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, hit_path);
criterion_main!(benches);
