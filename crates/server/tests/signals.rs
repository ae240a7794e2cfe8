//! Resumable signals on one server: every event has an id, the stream sends a retry hint,
//! and a client that drops its connection while changes happen gets exactly what it missed
//! when it reconnects with `Last-Event-ID`, or `signals.resync` when its id is unknown.
//! (Across two replicas: `replicas.rs`.)

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

/// Flips the check between unhealthy and healthy `times` times (each flip is a
/// `health.changed` and a `slo.status.changed`).
async fn flip(s: &TestServer, check: &str, times: usize, start_down: bool) {
    for i in 0..times {
        let status = if (i % 2 == 0) == start_down {
            "unhealthy"
        } else {
            "healthy"
        };
        let (code, body) = s
            .post(
                &format!("/api/v1/checks/{check}/results"),
                json!({"status": status}),
            )
            .await;
        assert_eq!(code, StatusCode::ACCEPTED, "{body}");
    }
}

/// The next `n` events of `events`, each with the id it came with.
async fn take(events: &mut Events, n: usize) -> Vec<(String, String, Value)> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let (name, data) = events.next().await;
        out.push((
            events.last_id.clone().expect("every event has an id"),
            name,
            data,
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_drops_its_connection_gets_what_it_missed_once() {
    let s = start(Db::Sqlite, |_| {}).await.unwrap();
    let (check, _) = watched_system(&s, "svc", json!({"target": 99.0, "windowDays": 1})).await;
    // A client that stays connected throughout sees the truth.
    let mut steady = Events::open(&s, "").await;
    let mut dropping = Events::open(&s, "").await;
    steady.positioned().await;
    dropping.positioned().await;
    assert_eq!(
        dropping.retry,
        Some(2000),
        "the stream says how soon to reconnect"
    );

    flip(&s, &check, 1, true).await;
    let seen = take(&mut dropping, 2).await;
    let last = dropping.last_id.clone().unwrap();
    drop(dropping);
    // Changes while the client is away.
    flip(&s, &check, 4, false).await;
    let mut back = Events::resume_at(&s.client, &s.base, "", Some(&last)).await;
    // And after it is back.
    flip(&s, &check, 1, false).await;

    let truth = take(&mut steady, 12).await;
    assert_eq!(&truth[..2], &seen[..], "before the drop both saw the same");
    let resumed = take(&mut back, 10).await;
    assert_eq!(
        resumed,
        truth[2..],
        "what was missed, in order, once, then live"
    );
    let names: Vec<&str> = resumed.iter().map(|(_, n, _)| n.as_str()).collect();
    assert!(names.contains(&"health.changed") && names.contains(&"slo.status.changed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_whose_id_is_unknown_or_too_old_is_told_to_resync() {
    let s = start(Db::Sqlite, |_| {}).await.unwrap();
    for unknown in ["1-1", "not-an-id", "99999999999999-0"] {
        let mut events = Events::resume_at(&s.client, &s.base, "", Some(unknown)).await;
        let (name, _) = events.next().await;
        assert_eq!(name, "signals.resync", "Last-Event-ID {unknown:?}");
        assert!(
            events.last_id.is_some(),
            "the resync carries the id to resume from"
        );
    }
    // A filter still lets the resync through, and a resumed client keeps its filter.
    let (check, _) = watched_system(&s, "svc", json!({"target": 99.0, "windowDays": 1})).await;
    system_with_check(&s, "other", &[]).await;
    let mut only_svc = Events::open(&s, "?systemId=svc").await;
    let at = only_svc.positioned().await;
    drop(only_svc);
    flip(&s, &check, 1, true).await;
    let mut back = Events::resume_at(&s.client, &s.base, "?systemId=svc", Some(&at)).await;
    let (name, data) = back.next().await;
    assert_eq!(
        (name.as_str(), data["systemId"].as_str()),
        ("health.changed", Some("svc"))
    );
}
