//! One warm scrape of `GET /metrics/slo` over 1,000 systems x 3 objectives (3,000 objectives,
//! every one with its Sloth-named gauges), against the warm `POST /objectives/bulk-status` of
//! the same objectives: both whole requests through the router, interleaved, same binary, same
//! run. `cargo bench -p slod --bench slo_metrics` prints p50/p99, the body sizes and the ratio.

use std::time::{Duration, Instant};

use slod::Config;
use slod_store::Store;

mod fixture;

use fixture::{percentile, seed, OBJECTIVES_PER_SYSTEM, SYSTEMS};

async fn call(
    router: &axum::Router,
    request: axum::http::Request<axum::body::Body>,
) -> (Duration, usize) {
    let start = Instant::now();
    let response = tower::ServiceExt::oneshot(router.clone(), request)
        .await
        .unwrap();
    assert!(response.status().is_success());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (start.elapsed(), bytes.len())
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let path =
            std::env::temp_dir().join(format!("slod-slo-metrics-bench-{}.db", std::process::id()));
        let url = format!("sqlite://{}", path.display());
        let store = Store::open(&url).await.unwrap();
        store.migrate().await.unwrap();
        let ids = seed(&store).await;
        store.close().await;
        let config = Config {
            database_url: url.clone(),
            cache: "memory".into(),
            jobs: false,
            probes: false,
            alerts: false,
            deliveries: false,
            ..Config::default()
        };
        let app = slod::build(config).await.unwrap();
        let views = app.state.views.clone();
        let body = serde_json::to_vec(&serde_json::json!({ "systemIds": ids })).unwrap();
        let scrape = || {
            axum::http::Request::get("/metrics/slo")
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let bulk = || {
            axum::http::Request::post("/api/v1/objectives/bulk-status")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.clone()))
                .unwrap()
        };
        let (_, scrape_bytes) = call(&app.router, scrape()).await;
        let (_, bulk_bytes) = call(&app.router, bulk()).await;
        let (mut scrapes, mut bulks) = (Vec::new(), Vec::new());
        for _ in 0..60 {
            // Statuses live 15 s in the cache: re-warm outside the timed part.
            std::hint::black_box(views.statuses.of_systems(&ids).await.unwrap());
            scrapes.push(call(&app.router, scrape()).await.0);
            bulks.push(call(&app.router, bulk()).await.0);
        }
        scrapes.sort_unstable();
        bulks.sort_unstable();
        let p = |t: &[Duration]| (percentile(t, 0.5), percentile(t, 0.99));
        let ((s50, s99), (b50, b99)) = (p(&scrapes), p(&bulks));
        let objectives = SYSTEMS * OBJECTIVES_PER_SYSTEM;
        println!("GET /metrics/slo, {objectives} objectives, warm memory cache (60 runs each):");
        println!(
            "  /metrics/slo      p50 {s50:>10.2?}  p99 {s99:>10.2?}  body {:.1} MiB",
            scrape_bytes as f64 / 1048576.0
        );
        println!(
            "  bulk-status       p50 {b50:>10.2?}  p99 {b99:>10.2?}  body {:.1} MiB",
            bulk_bytes as f64 / 1048576.0
        );
        println!(
            "  the scrape takes {:.1}x the bulk-status request at p50 ({:.1}x at p99)",
            s50.as_secs_f64() / b50.as_secs_f64(),
            s99.as_secs_f64() / b99.as_secs_f64()
        );
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    });
}
