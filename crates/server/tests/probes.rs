//! slod's own http and tcp probes against real local targets, and "once per interval" with
//! several replicas.

use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

on_both!(
    http_and_tcp_probes_move_health,
    two_replicas_probe_a_check_once_per_interval,
);

/// A local HTTP target answering every request with the status in `code`.
struct Target {
    url: String,
    code: Arc<AtomicU16>,
    hits: Arc<AtomicUsize>,
}

async fn http_target() -> Target {
    let code = Arc::new(AtomicU16::new(200));
    let hits = Arc::new(AtomicUsize::new(0));
    let (c, h) = (code.clone(), hits.clone());
    let app = axum::Router::new().route(
        "/health",
        axum::routing::get(move || {
            let (c, h) = (c.clone(), h.clone());
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                axum::http::StatusCode::from_u16(c.load(Ordering::SeqCst)).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/health", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Target { url, code, hits }
}

async fn create_system(s: &TestServer, id: &str) {
    let (status, body) = s
        .post("/api/v1/systems", json!({"id": id, "name": id}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn create_check(s: &TestServer, system: &str, kind: &str, target: &str) -> String {
    let (status, check) = s
        .post(
            &format!("/api/v1/systems/{system}/checks"),
            json!({"name": kind, "kind": kind, "target": target, "intervalSeconds": 5, "timeoutMs": 1000}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{check}");
    check["id"].as_str().unwrap().to_owned()
}

async fn http_and_tcp_probes_move_health(db: Db) {
    let Some(s) = start(db, |c| c.probes = true).await else {
        return;
    };
    let target = http_target().await;
    let port = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tcp_target = port.local_addr().unwrap().to_string();
    create_system(&s, "web").await;
    create_system(&s, "db").await;
    let mut events = Events::open(&s, "").await;
    let http = create_check(&s, "web", "http", &target.url).await;
    create_check(&s, "db", "tcp", &tcp_target).await;
    let mut seen = std::collections::HashMap::new();
    while seen.len() < 2 {
        let signal = events.until(|n, _| n == "health.changed").await;
        seen.insert(
            signal["systemId"].as_str().unwrap().to_owned(),
            signal["status"].clone(),
        );
    }
    assert_eq!(seen["web"], "healthy");
    assert_eq!(seen["db"], "healthy");

    // The target starts failing and the port closes: the next probes see it.
    target.code.store(503, Ordering::SeqCst);
    drop(port);
    let mut seen = std::collections::HashMap::new();
    while seen.len() < 2 {
        let signal = events.until(|n, _| n == "health.changed").await;
        seen.insert(
            signal["systemId"].as_str().unwrap().to_owned(),
            signal["status"].clone(),
        );
    }
    assert_eq!(seen["web"], "unhealthy");
    assert_eq!(seen["db"], "unhealthy");
    let (_, results) = s.get(&format!("/api/v1/checks/{http}/results")).await;
    let latest = &results["results"][0];
    assert_eq!(latest["status"], "unhealthy");
    assert_eq!(latest["message"], "HTTP 503, expected 200-299");
    assert!(latest["latencyMs"].as_f64().unwrap() >= 0.0);
}

async fn two_replicas_probe_a_check_once_per_interval(db: Db) {
    let Some(a) = start(db, |c| c.probes = true).await else {
        return;
    };
    let _b = replica_of(&a, |c| c.probes = true).await;
    let target = http_target().await;
    create_system(&a, "web").await;
    let check = create_check(&a, "web", "http", &target.url).await;
    // Both replicas look for due checks every second; within one 5 s interval the check is
    // probed once, not once per replica.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(target.hits.load(Ordering::SeqCst), 1);
    let (_, results) = a.get(&format!("/api/v1/checks/{check}/results")).await;
    assert_eq!(results["results"].as_array().unwrap().len(), 1);
}
