//! The hit path of `CachedScope::wrap` on the Redis provider against a raw `GET` of the same
//! bytes through the same kind of connection, in the same run. Needs `REDIS_URL`.
//! `REDIS_URL=redis://127.0.0.1:6379 cargo bench -p slod-cache --features redis --bench redis`

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use slod_cache::{CacheConfig, CacheError, CacheManager};

fn bench(c: &mut Criterion) {
    let Ok(url) = std::env::var("REDIS_URL") else {
        eprintln!("skipped: REDIS_URL is not set");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let namespace = format!("bench-{}", std::process::id());
    let (manager, mut raw) = rt.block_on(async {
        let config = CacheConfig {
            provider: url.clone(),
            namespace: namespace.clone(),
            ..CacheConfig::default()
        };
        let manager = CacheManager::new(&config).unwrap();
        let raw = redis::Client::open(url.as_str())
            .unwrap()
            .get_connection_manager()
            .await
            .unwrap();
        (manager, raw)
    });
    let scope = manager.scope("bench", Duration::from_secs(3600)).unwrap();
    let value: Vec<u64> = (0..32).collect();
    let bytes = rt.block_on(async {
        let v = value.clone();
        let _: Vec<u64> = scope
            .wrap("k", move || async move { Ok::<_, CacheError>(v) })
            .await
            .unwrap();
        let bytes = serde_json::to_vec(&serde_json::json!({"v": 1, "d": value})).unwrap();
        let _: () = redis::cmd("SET")
            .arg("bench-raw")
            .arg(&bytes)
            .query_async(&mut raw)
            .await
            .unwrap();
        bytes
    });

    let mut group = c.benchmark_group("redis_hit");
    group.bench_function("raw_get", |b| {
        b.to_async(&rt).iter(|| {
            let mut raw = raw.clone();
            async move {
                let got: Vec<u8> = redis::cmd("GET")
                    .arg("bench-raw")
                    .query_async(&mut raw)
                    .await
                    .unwrap();
                // The same decode the cache does, so both sides return the value.
                let decoded: serde_json::Value = serde_json::from_slice(&got).unwrap();
                std::hint::black_box(decoded);
            }
        })
    });
    group.bench_function("scope_wrap", |b| {
        b.to_async(&rt).iter(|| async {
            let v: Vec<u64> = scope
                .wrap("k", || async {
                    Err::<Vec<u64>, _>(CacheError::LoaderPanicked)
                })
                .await
                .unwrap();
            std::hint::black_box(v);
        })
    });
    group.finish();
    std::hint::black_box(bytes);
}

criterion_group!(benches, bench);
criterion_main!(benches);
