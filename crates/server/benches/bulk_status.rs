//! Bulk-status for 1,000 systems x 3 objectives, in process, through the dashboard views:
//! warm memory cache against `SLOD_CACHE=none`, same binary, same run, same database.
//! `cargo bench -p slod --bench bulk_status` prints p50/p99 for both and their ratio.

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use slod::Config;
use slod_engine::CheckStatus;
use slod_store::{CheckKind, NewCheck, NewResult, NewSystem, Store};

const SYSTEMS: usize = 1000;
const OBJECTIVES_PER_SYSTEM: usize = 3;

async fn seed(store: &Store) -> Vec<String> {
    let now = Timestamp::now();
    let ago = |h: i64| Some(now.checked_sub(SignedDuration::from_hours(h)).unwrap());
    let mut ids = Vec::with_capacity(SYSTEMS);
    // One transaction for the whole fixture: seeding is not what is measured.
    let mut tx = store.begin().await.unwrap();
    for i in 0..SYSTEMS {
        let id = format!("sys-{i:04}");
        // Every tenth system depends on the one before, so attribution has work to do.
        let depends_on = if i % 10 == 1 {
            vec![format!("sys-{:04}", i - 1)]
        } else {
            vec![]
        };
        tx.create_system(
            NewSystem {
                id: Some(id.clone()),
                name: id.clone(),
                description: None,
                depends_on,
            },
            now,
        )
        .await
        .unwrap();
        let check = NewCheck {
            name: "agent".into(),
            kind: CheckKind::Push,
            target: None,
            interval_seconds: 60,
            timeout_ms: 5000,
            expect_status: [200, 299],
            enabled: true,
        };
        let check = tx.create_check(&id, check, now).await.unwrap();
        let result = |status, at| NewResult {
            status,
            at,
            latency_ms: None,
            message: None,
        };
        let history = [
            result(CheckStatus::Healthy, ago(30)),
            result(CheckStatus::Unhealthy, ago(20)),
            result(CheckStatus::Healthy, ago(19)),
        ];
        tx.record_results(&check.id, &history, now).await.unwrap();
        for (k, (target, days)) in [(99.9, 30), (99.0, 7), (99.5, 90)]
            .into_iter()
            .enumerate()
            .take(OBJECTIVES_PER_SYSTEM)
        {
            let o = slod_engine::Objective {
                id: format!("{id}-o{k}"),
                system_id: id.clone(),
                health_check_id: None,
                name: None,
                target,
                window_days: Some(days),
                window_kind: slod_engine::WindowKind::Rolling,
                time_zone: None,
                dependency_exclusion: slod_engine::DependencyExclusion::SelfOnly,
                excluded_dependency_ids: vec![],
                exclude_maintenance_windows: false,
                burn_rate_thresholds: slod_engine::BurnRateThresholds::default(),
                created_at: now,
                updated_at: now,
            };
            tx.create_objective(&o).await.unwrap();
        }
        ids.push(id);
    }
    tx.commit().await.unwrap();
    ids
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

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
        let warm = measure("memory", &url, &ids, 300).await;
        println!(
            "bulk-status, {SYSTEMS} systems x {OBJECTIVES_PER_SYSTEM} objectives, in process:"
        );
        for (what, i) in [("views", 0), ("whole request", 1)] {
            let ((n50, n99), (w50, w99)) = (none[i], warm[i]);
            println!("  {what}:");
            println!("    SLOD_CACHE=none    p50 {n50:>10.2?}  p99 {n99:>10.2?}  (30 runs)");
            println!("    memory, warm       p50 {w50:>10.2?}  p99 {w99:>10.2?}  (300 runs)");
            let (r50, r99) = (
                n50.as_secs_f64() / w50.as_secs_f64(),
                n99.as_secs_f64() / w99.as_secs_f64(),
            );
            println!("    warm is {r50:.1}x faster at p50, {r99:.1}x at p99");
        }
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    });
}
