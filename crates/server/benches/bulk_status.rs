//! Bulk-status for 1,000 systems x 3 objectives, in process, through the dashboard views:
//! warm memory cache, and warm Redis when `REDIS_URL` is set, against `SLOD_CACHE=none`, same
//! binary, same run, same database. `cargo bench -p slod --bench bulk_status` prints p50/p99
//! for each and their ratio to no cache.

use std::time::{Duration, Instant};

use slod::Config;
use slod_store::Store;

mod fixture;

use fixture::{percentile, seed, OBJECTIVES_PER_SYSTEM, SYSTEMS};

/// p50 and p99 of the views alone, and of the whole request through the router (JSON body in,
/// JSON out, auth and metrics middleware included).
async fn measure(
    cache: &str,
    database_url: &str,
    ids: &[String],
    runs: usize,
) -> [(Duration, Duration); 2] {
    let config = Config {
        database_url: database_url.to_owned(),
        cache: cache.into(),
        // Each run its own keys on a shared Redis.
        cache_namespace: format!("bench-{}", uuid::Uuid::new_v4().simple()),
        ..Config::default()
    };
    let app = slod::build(config).await.unwrap();
    let views = app.state.views.clone();
    let warm = views.statuses.of_systems(ids).await.unwrap();
    assert_eq!(
        warm.iter().map(|s| s.len()).sum::<usize>(),
        SYSTEMS * OBJECTIVES_PER_SYSTEM
    );
    let body = serde_json::to_vec(&serde_json::json!({ "systemIds": ids })).unwrap();
    let (mut views_times, mut request_times) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..runs {
        let start = Instant::now();
        let answer = views.statuses.of_systems(ids).await.unwrap();
        views_times.push(start.elapsed());
        std::hint::black_box(answer);

        let request = axum::http::Request::post("/api/v1/objectives/bulk-status")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.clone()))
            .unwrap();
        let start = Instant::now();
        let response = tower::ServiceExt::oneshot(app.router.clone(), request)
            .await
            .unwrap();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        request_times.push(start.elapsed());
        std::hint::black_box(bytes);
    }
    views_times.sort_unstable();
    request_times.sort_unstable();
    [views_times, request_times].map(|t| (percentile(&t, 0.5), percentile(&t, 0.99)))
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let path = std::env::temp_dir().join(format!("slod-bench-{}.db", std::process::id()));
        let url = format!("sqlite://{}", path.display());
        let store = Store::open(&url).await.unwrap();
        store.migrate().await.unwrap();
        let seeding = Instant::now();
        let ids = seed(&store).await;
        store.close().await;
        println!(
            "seeded {SYSTEMS} systems x {OBJECTIVES_PER_SYSTEM} objectives in {:.1?}",
            seeding.elapsed()
        );

        let none = measure("none", &url, &ids, 30).await;
        let mut warm = vec![("memory, warm", measure("memory", &url, &ids, 300).await)];
        match std::env::var("REDIS_URL") {
            Ok(redis) => warm.push(("redis, warm", measure(&redis, &url, &ids, 100).await)),
            Err(_) => println!("(REDIS_URL unset: the Redis cache is not measured)"),
        }
        println!(
            "bulk-status, {SYSTEMS} systems x {OBJECTIVES_PER_SYSTEM} objectives, in process:"
        );
        for (what, i) in [("views", 0), ("whole request", 1)] {
            let (n50, n99) = none[i];
            println!("  {what}:");
            println!("    SLOD_CACHE=none    p50 {n50:>10.2?}  p99 {n99:>10.2?}");
            for (name, times) in &warm {
                let (w50, w99) = times[i];
                let (r50, r99) = (
                    n50.as_secs_f64() / w50.as_secs_f64(),
                    n99.as_secs_f64() / w99.as_secs_f64(),
                );
                println!("    {name:<18} p50 {w50:>10.2?}  p99 {w99:>10.2?}  ({r50:.1}x faster than none at p50, {r99:.1}x at p99)");
            }
        }
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    });
}
