//! The incident and maintenance reads a dashboard polls, in process through the router: warm
//! memory cache against `SLOD_CACHE=none`, same binary, same database, requests alternating
//! between the two so both see the same machine.
//! `cargo bench -p slod --bench record_lists` prints p50/p99 of each and their ratio, on SQLite,
//! and also on PostgreSQL (a fresh schema) when `DATABASE_URL` is set.

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use slod::Config;
use slod_store::{NewIncident, NewMaintenance, NewSystem, Store, StoreOptions};

const SYSTEMS: usize = 500;
const RECORDS: usize = 5000;
const RUNS: usize = 300;

async fn seed(store: &Store) {
    let now = Timestamp::now();
    // One transaction for the whole fixture: seeding is not what is measured.
    let mut tx = store.begin().await.unwrap();
    for i in 0..SYSTEMS {
        let system = NewSystem {
            id: Some(format!("sys-{i:04}")),
            name: format!("System {i}"),
            ..Default::default()
        };
        tx.create_system(system, now).await.unwrap();
    }
    let systems_of = |i: usize| -> Vec<String> {
        (0..1 + i % 3)
            .map(|k| format!("sys-{:04}", (i * 7 + k * 13) % SYSTEMS))
            .collect()
    };
    for i in 0..RECORDS {
        let opened_at = now - SignedDuration::from_mins((RECORDS - i) as i64);
        let new = NewIncident {
            title: format!("incident {i}"),
            system_ids: systems_of(i),
            health_override: false,
        };
        let (incident, _) = tx.open_incident(&new, opened_at).await.unwrap();
        // One in five stays open.
        if i % 5 != 0 {
            tx.resolve_incident(&incident.id, opened_at + SignedDuration::from_mins(30))
                .await
                .unwrap();
        }
        let start = now + SignedDuration::from_mins(i as i64 * 10 - (RECORDS as i64 * 5));
        let window = NewMaintenance {
            title: format!("window {i}"),
            system_ids: systems_of(i + 1),
            start_at: start,
            end_at: start + SignedDuration::from_hours(1),
        };
        tx.create_maintenance(&window, now).await.unwrap();
    }
    tx.commit().await.unwrap();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

async fn get(router: &axum::Router, path: &str) -> Duration {
    let request = axum::http::Request::get(path)
        .body(axum::body::Body::empty())
        .unwrap();
    let start = Instant::now();
    let response = tower::ServiceExt::oneshot(router.clone(), request)
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let elapsed = start.elapsed();
    std::hint::black_box(bytes);
    elapsed
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let path = std::env::temp_dir().join(format!("slod-bench-lists-{}.db", std::process::id()));
        run("SQLite", format!("sqlite://{}", path.display()), None).await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        if let Ok(url) = std::env::var("DATABASE_URL") {
            let schema = format!("bench_{}", std::process::id());
            run("PostgreSQL", url, Some(schema)).await;
        }
    });
}

async fn run(backend: &str, url: String, schema: Option<String>) {
    let options = StoreOptions {
        pg_schema: schema.clone(),
        max_connections: None,
    };
    let store = Store::open_with(&url, options).await.unwrap();
    store.migrate().await.unwrap();
    let seeding = Instant::now();
    seed(&store).await;
    store.close().await;
    if let Some(schema) = &schema {
        // Statistics, as autovacuum would gather them in service: without them PostgreSQL's
        // planner guesses a handful of rows in tables just filled with thousands.
        use sqlx::Executor;
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        for table in [
            "incidents",
            "incident_systems",
            "maintenances",
            "maintenance_systems",
        ] {
            pool.execute(format!("ANALYZE {schema}.{table}").as_str())
                .await
                .unwrap();
        }
        pool.close().await;
    }
    println!(
        "{backend}: seeded {SYSTEMS} systems, {RECORDS} incidents and {RECORDS} maintenance windows in {:.1?}",
        seeding.elapsed()
    );
    let app = |cache: &str| {
        slod::build(Config {
            database_url: url.clone(),
            database_schema: schema.clone(),
            cache: cache.into(),
            jobs: false,
            probes: false,
            ..Config::default()
        })
    };
    let (none, memory) = (app("none").await.unwrap(), app("memory").await.unwrap());
    let paths = [
        "/api/v1/incidents?status=open&limit=100",
        "/api/v1/maintenances?limit=100",
        "/api/v1/systems/sys-0007/incidents",
        "/api/v1/systems/sys-0007/maintenances",
    ];
    println!("{backend}: whole requests through the router, {RUNS} runs each, alternating:");
    for path in paths {
        get(&memory.router, path).await; // warm
        let (mut cold, mut warm) = (Vec::with_capacity(RUNS), Vec::with_capacity(RUNS));
        for _ in 0..RUNS {
            cold.push(get(&none.router, path).await);
            warm.push(get(&memory.router, path).await);
        }
        cold.sort_unstable();
        warm.sort_unstable();
        let (c50, c99) = (percentile(&cold, 0.5), percentile(&cold, 0.99));
        let (w50, w99) = (percentile(&warm, 0.5), percentile(&warm, 0.99));
        println!("  GET {path}");
        println!("    SLOD_CACHE=none  p50 {c50:>10.2?}  p99 {c99:>10.2?}");
        println!("    memory, warm     p50 {w50:>10.2?}  p99 {w99:>10.2?}");
        println!(
            "    warm is {:.1}x faster at p50, {:.1}x at p99",
            c50.as_secs_f64() / w50.as_secs_f64(),
            c99.as_secs_f64() / w99.as_secs_f64()
        );
    }
    none.state.store.close().await;
    memory.state.store.close().await;
}
