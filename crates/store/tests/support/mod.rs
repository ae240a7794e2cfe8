//! What every store test file shares: a fresh store on each backend, the `conformance!` macro
//! that runs a case on both, and small builders.

#![allow(dead_code)]

use jiff::{Timestamp, ToSpan};
use slod_engine::CheckStatus;
use slod_store::*;

pub async fn sqlite() -> Option<Store> {
    let path = std::env::temp_dir().join(format!("slod-test-{}.db", uuid::Uuid::new_v4()));
    let store = Store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    Some(store)
}

pub async fn postgres() -> Option<Store> {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        if std::env::var("SLOD_REQUIRE_SERVICES").is_ok_and(|v| v == "1") {
            panic!("SLOD_REQUIRE_SERVICES=1 but DATABASE_URL is not set");
        }
        eprintln!("skipped: DATABASE_URL is not set");
        return None;
    };
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let options = StoreOptions {
        pg_schema: Some(schema),
        max_connections: Some(8),
    };
    let store = Store::open_with(&url, options)
        .await
        .expect("DATABASE_URL must be reachable");
    store.migrate().await.unwrap();
    Some(store)
}

/// Each case as `sqlite_<name>` and `postgres_<name>`.
#[macro_export]
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { if let Some(s) = $crate::support::sqlite().await { super::$name(s).await } } )* }
        mod on_postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { if let Some(s) = $crate::support::postgres().await { super::$name(s).await } } )* }
    };
}

pub fn now() -> Timestamp {
    "2026-06-30T12:00:00Z".parse().unwrap()
}

pub fn mins(m: i64) -> Timestamp {
    now().checked_add(m.minutes()).unwrap()
}

pub fn system(id: &str, deps: &[&str]) -> NewSystem {
    NewSystem {
        id: Some(id.into()),
        name: format!("System {id}"),
        description: None,
        depends_on: deps.iter().map(|d| d.to_string()).collect(),
    }
}

pub fn push_check(name: &str) -> NewCheck {
    NewCheck {
        name: name.into(),
        kind: CheckKind::Push,
        target: None,
        interval_seconds: 60,
        timeout_ms: 5000,
        expect_status: [200, 299],
        enabled: true,
    }
}

pub fn result(status: CheckStatus, at: Timestamp) -> NewResult {
    NewResult {
        status,
        at: Some(at),
        latency_ms: Some(12.5),
        message: None,
    }
}

/// An objective on `system` with every optional field set.
pub fn objective(id: &str, system: &str) -> slod_engine::Objective {
    slod_engine::Objective {
        id: id.into(),
        system_id: system.into(),
        health_check_id: None,
        name: Some(format!("{id} up")),
        target: 99.9,
        window_days: Some(30),
        window_kind: slod_engine::WindowKind::Rolling,
        time_zone: None,
        dependency_exclusion: slod_engine::DependencyExclusion::SelfOnly,
        excluded_dependency_ids: vec!["x".into(), "y".into()],
        exclude_maintenance_windows: true,
        burn_rate_thresholds: slod_engine::BurnRateThresholds::default(),
        created_at: now(),
        updated_at: now(),
    }
}

/// Runs one store mutation in a transaction of its own, committed when it succeeds:
/// `tx!(store, create_system(system("db", &[]), now()))`.
#[macro_export]
macro_rules! tx {
    ($store:expr, $method:ident ( $($arg:expr),* $(,)? )) => {{
        let mut tx = $store.begin().await.expect("a write transaction");
        let result = tx.$method($($arg),*).await;
        if result.is_ok() {
            tx.commit().await.expect("the transaction commits");
        }
        result
    }};
}
