//! Objectives end to end: status from back-dated health, attribution, bulk-status, the cache
//! really serving reads, and the rule "a refetch after a signal is never stale".

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both!(
    backdated_outage_breaches_and_new_objectives_show_history,
    strict_and_self_only_with_an_upstream_outage,
    created_while_down_is_degraded,
    objective_routes_and_bad_input,
    bulk_status_answers_every_requested_id,
    refetch_after_every_signal_is_never_stale,
    budget_history_from_the_first_minute,
);

/// The burn-down exists as soon as an objective does (it is derived from the timeline, not
/// from daily snapshots), ends at the current status, drops when an outage is recorded (the
/// cached curve is refetched fresh), and a bad `points` is a 400 naming it.
async fn budget_history_from_the_first_minute(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let check = system_with_check(&s, "checkout", &[]).await;
    results(
        &s,
        &check,
        json!([{"status": "healthy", "at": minutes_ago(180)}]),
    )
    .await;
    let id = objective(
        &s,
        json!({"systemId": "checkout", "target": 99.9, "windowDays": 30}),
    )
    .await;
    let path = format!("/api/v1/objectives/{id}/budget-history?points=5");
    let (status, history) = s.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let points = history["points"].as_array().unwrap();
    assert_eq!(points.len(), 5);
    assert!(points.iter().all(|p| close(&p["remainingPercent"], 100.0)));
    assert!(close(&history["errorBudgetTotalMinutes"], 43.2));
    let (_, default) = s
        .get(&format!("/api/v1/objectives/{id}/budget-history"))
        .await;
    assert_eq!(
        default["points"].as_array().unwrap().len(),
        60,
        "the default"
    );

    // A 22-minute outage, back-filled: about half the budget, and the cached curve moves.
    results(
        &s,
        &check,
        json!([
            {"status": "unhealthy", "at": minutes_ago(50)},
            {"status": "healthy", "at": minutes_ago(28)},
        ]),
    )
    .await;
    let (_, history) = s.get(&path).await;
    let (_, now) = s.get(&format!("/api/v1/objectives/{id}")).await;
    let last = history["points"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert!(close(&last["consumedMinutes"], 22.0), "{last}");
    assert!(
        (last["remainingPercent"].as_f64().unwrap()
            - now["status"]["errorBudgetRemainingPercent"]
                .as_f64()
                .unwrap())
        .abs()
            < 0.01,
        "the last point is the current status: {last} vs {}",
        now["status"]
    );

    let before = s.snapshot().await;
    for bad in ["1", "1001", "0", "x", "-3", "2.5"] {
        let (status, body) = s
            .get(&format!(
                "/api/v1/objectives/{id}/budget-history?points={bad}"
            ))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "points={bad}: {body}");
        assert_eq!(body["error"]["details"][0]["field"], "points", "{body}");
    }
    let (status, body) = s.get("/api/v1/objectives/nope/budget-history").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(code(&body), "not_found");
    assert_eq!(s.snapshot().await, before, "bad input changed nothing");
}

async fn backdated_outage_breaches_and_new_objectives_show_history(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let check = system_with_check(&s, "checkout", &[]).await;
    results(
        &s,
        &check,
        json!([
            {"status": "healthy", "at": minutes_ago(180)},
            {"status": "unhealthy", "at": minutes_ago(120)},
            {"status": "healthy", "at": minutes_ago(60)},
        ]),
    )
    .await;
    // Created after the outage: the window's history is there at once.
    let id = objective(
        &s,
        json!({"systemId": "checkout", "name": "Checkout up", "target": 99.9, "windowDays": 30}),
    )
    .await;
    let (status, body) = s.get(&format!("/api/v1/objectives/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let st = &body["status"];
    assert!(close(&st["errorBudgetTotalMinutes"], 43.2), "{st}");
    assert!(close(&st["errorBudgetConsumedMinutes"], 60.0), "{st}");
    assert_eq!(
        (
            st["isBreaching"].clone(),
            st["tier"].clone(),
            st["hasOpenDowntime"].clone()
        ),
        (json!(true), json!("breaching"), json!(false))
    );
    assert_eq!(body["objective"]["name"], "Checkout up");
    let (_, downtime) = s.get(&format!("/api/v1/objectives/{id}/downtime")).await;
    let events = downtime["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert!(close(&events[0]["durationSeconds"], 3600.0));
    assert_eq!(events[0]["attributionType"], "self");
    // A check-scoped objective reads its check's timeline.
    let scoped = objective(
        &s,
        json!({"systemId": "checkout", "healthCheckId": check, "target": 99.0, "windowDays": 7}),
    )
    .await;
    let (_, body) = s.get(&format!("/api/v1/objectives/{scoped}")).await;
    assert!(close(&body["status"]["errorBudgetConsumedMinutes"], 60.0));
}

async fn strict_and_self_only_with_an_upstream_outage(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let db_check = system_with_check(&s, "db", &[]).await;
    let api_check = system_with_check(&s, "api", &["db"]).await;
    // db down 3h..1h ago; api down 2h..30m ago: 60 min upstream, 30 min own.
    results(&s, &db_check, json!([{"status": "unhealthy", "at": minutes_ago(180)}, {"status": "healthy", "at": minutes_ago(60)}])).await;
    results(&s, &api_check, json!([{"status": "unhealthy", "at": minutes_ago(120)}, {"status": "healthy", "at": minutes_ago(30)}])).await;
    let strict = objective(
        &s,
        json!({"systemId": "api", "target": 99.9, "windowDays": 30}),
    )
    .await;
    let own = objective(&s, json!({"systemId": "api", "target": 99.9, "windowDays": 30, "dependencyExclusion": "self-only"})).await;
    let (_, strict) = s.get(&format!("/api/v1/objectives/{strict}")).await;
    let (_, own) = s.get(&format!("/api/v1/objectives/{own}")).await;
    assert!(
        close(&strict["status"]["errorBudgetConsumedMinutes"], 90.0),
        "{strict}"
    );
    assert!(
        close(&own["status"]["errorBudgetConsumedMinutes"], 30.0),
        "{own}"
    );
    let attribution = own["status"]["attribution"].as_array().unwrap();
    assert_eq!(attribution.len(), 2);
    assert_eq!(
        (
            attribution[1]["sourceType"].clone(),
            attribution[1]["systemId"].clone()
        ),
        (json!("upstream"), json!("db"))
    );
    assert!(close(&attribution[1]["minutes"], 60.0));
    // Excluding db makes its outage api's own.
    let (status, _) = s
        .patch(
            &format!(
                "/api/v1/objectives/{}",
                own["objective"]["id"].as_str().unwrap()
            ),
            json!({"excludedDependencyIds": ["db"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, again) = s
        .get(&format!(
            "/api/v1/objectives/{}",
            own["objective"]["id"].as_str().unwrap()
        ))
        .await;
    assert!(
        close(&again["status"]["errorBudgetConsumedMinutes"], 90.0),
        "{again}"
    );
}

async fn created_while_down_is_degraded(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let check = system_with_check(&s, "pay", &[]).await;
    results(
        &s,
        &check,
        json!([{"status": "degraded", "at": minutes_ago(1)}]),
    )
    .await;
    let id = objective(
        &s,
        json!({"systemId": "pay", "target": 99.0, "windowDays": 30}),
    )
    .await;
    let (_, body) = s.get(&format!("/api/v1/objectives/{id}")).await;
    assert_eq!(
        (
            body["status"]["hasOpenDowntime"].clone(),
            body["status"]["tier"].clone()
        ),
        (json!(true), json!("degraded"))
    );
    let (_, downtime) = s.get(&format!("/api/v1/objectives/{id}/downtime")).await;
    assert_eq!(
        downtime["events"][0]["end"],
        Value::Null,
        "the open event has no end"
    );
}

async fn objective_routes_and_bad_input(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    system_with_check(&s, "web", &[]).await;
    let id = objective(&s, json!({"systemId": "web", "name": "n", "target": 99.5, "windowDays": 14, "burnRateThresholds": {"warningPercent": 40}})).await;
    let (_, got) = s.get(&format!("/api/v1/objectives/{id}")).await;
    assert_eq!(
        got["objective"]["burnRateThresholds"],
        json!({"warningPercent": 40.0, "criticalPercent": 80.0, "fastBurnMultiplier": 14.4})
    );
    assert_eq!(got["objective"]["windowKind"], "rolling");
    assert_eq!(got["objective"]["healthCheckId"], Value::Null);

    let (status, patched) = s
        .patch(
            &format!("/api/v1/objectives/{id}"),
            json!({"burnRateThresholds": {"criticalPercent": 90}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(
        patched["burnRateThresholds"],
        json!({"warningPercent": 40.0, "criticalPercent": 90.0, "fastBurnMultiplier": 14.4}),
        "omitted fields keep their values"
    );
    assert_eq!(
        (patched["target"].clone(), patched["name"].clone()),
        (json!(99.5), json!("n"))
    );

    let before = s.get(&format!("/api/v1/objectives/{id}")).await;
    for (body, field) in [
        (json!({"target": 100.5}), "target"),
        (json!({"windowDays": 0}), "windowDays"),
        (json!({"timeZone": "Atlantis/Capital"}), "timeZone"),
        (json!({"systemId": "other"}), "systemId"),
        (
            json!({"burnRateThresholds": {"warningPercent": 95}}),
            "burnRateThresholds.criticalPercent",
        ),
    ] {
        let (status, err) = s
            .patch(&format!("/api/v1/objectives/{id}"), body.clone())
            .await;
        assert_eq!(
            (status, code(&err)),
            (StatusCode::BAD_REQUEST, "invalid_input"),
            "{body}"
        );
        assert_eq!(err["error"]["details"][0]["field"], field, "{body}: {err}");
    }
    let (status, _) = s
        .patch(
            &format!("/api/v1/objectives/{id}"),
            json!({"windowDays": 1.5}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "windowDays must be an integer"
    );
    let (status, err) = s
        .post(
            "/api/v1/objectives",
            json!({"systemId": "web", "target": 99, "windowDays": 30, "healthCheckId": "nope"}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["details"][0]["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("healthCheckId"))
    );
    let (status, _) = s
        .post(
            "/api/v1/objectives",
            json!({"systemId": "ghost", "target": 99, "windowDays": 30}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = s
        .post(
            "/api/v1/objectives",
            json!({"systemId": "web", "target": 99, "windowDays": 30, "color": "red"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        s.get(&format!("/api/v1/objectives/{id}")).await,
        before,
        "bad input changed nothing"
    );

    let (_, list) = s.get("/api/v1/objectives").await;
    assert_eq!(
        (
            list["objectives"].as_array().unwrap().len(),
            list["nextCursor"].clone()
        ),
        (1, Value::Null)
    );
    let (_, for_system) = s.get("/api/v1/systems/web/objectives").await;
    assert_eq!(for_system.as_array().unwrap().len(), 1);
    assert_eq!(
        s.get("/api/v1/systems/ghost/objectives").await.0,
        StatusCode::NOT_FOUND
    );

    assert_eq!(
        s.delete(&format!("/api/v1/objectives/{id}")).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.get(&format!("/api/v1/objectives/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.delete(&format!("/api/v1/objectives/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.get("/api/v1/objectives/not%20an%20id").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(s.get("/api/v1/systems/web/objectives").await.1, json!([]));
}

async fn bulk_status_answers_every_requested_id(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    system_with_check(&s, "a", &[]).await;
    system_with_check(&s, "b", &[]).await;
    objective(
        &s,
        json!({"systemId": "a", "target": 99.9, "windowDays": 30}),
    )
    .await;
    objective(
        &s,
        json!({"systemId": "a", "target": 99.0, "windowDays": 7}),
    )
    .await;
    let (status, body) = s
        .post(
            "/api/v1/objectives/bulk-status",
            json!({"systemIds": ["a", "b", "ghost", "a", "Not Valid"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let systems = body["systems"].as_object().unwrap();
    assert_eq!(systems.len(), 4);
    assert_eq!(systems["a"].as_array().unwrap().len(), 2);
    assert_eq!(
        (
            systems["b"].clone(),
            systems["ghost"].clone(),
            systems["Not Valid"].clone()
        ),
        (json!([]), json!([]), json!([]))
    );
    let too_many: Vec<String> = (0..1001).map(|i| format!("s{i}")).collect();
    assert_eq!(
        s.post(
            "/api/v1/objectives/bulk-status",
            json!({"systemIds": too_many})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
}

/// Reads through the cache, then changes the timeline behind its back (straight through the
/// store, without invalidating): a cached read still shows the old status, proving it did not
/// touch the store; with `SLOD_CACHE=none` the same read sees the change at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_served_from_the_cache_not_the_store() {
    for (cache, expect_cached) in [("memory", true), ("none", false)] {
        let s = start(Db::Sqlite, |c| c.cache = cache.into()).await.unwrap();
        let check = system_with_check(&s, "svc", &[]).await;
        let id = objective(
            &s,
            json!({"systemId": "svc", "target": 99.9, "windowDays": 30}),
        )
        .await;
        let paths = [
            format!("/api/v1/objectives/{id}"),
            "/api/v1/systems/svc/objectives".to_owned(),
            "/api/v1/systems/svc/health".to_owned(),
        ];
        let mut warm = Vec::new();
        for path in &paths {
            warm.push(s.get(path).await.1);
        }
        let outage = [slod_store::NewResult {
            status: slod_engine::CheckStatus::Unhealthy,
            at: None,
            latency_ms: None,
            message: None,
        }];
        // Written behind the cache's back: straight to the store, nothing invalidated.
        let mut tx = s.state.store.begin().await.unwrap();
        tx.record_results(&check, &outage, jiff::Timestamp::now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        for _ in 0..20 {
            for (path, before) in paths.iter().zip(&warm) {
                let now = s.get(path).await.1;
                assert_eq!(&now == before, expect_cached, "{cache}: {path}");
            }
        }
    }
}

async fn refetch_after_every_signal_is_never_stale(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    refetch_rounds(&s).await;
}

/// 100 rounds of alternating objective updates and upstream health changes; after each signal
/// every read route is re-read and must show the change.
async fn refetch_rounds(s: &TestServer) {
    let db_check = system_with_check(s, "db", &[]).await;
    system_with_check(s, "api", &["db"]).await;
    let id = objective(
        s,
        json!({"systemId": "api", "name": "round-0", "target": 99.9, "windowDays": 30}),
    )
    .await;
    let mut events = Events::open(s, "").await;
    let mut filtered = Events::open(s, "?systemId=db").await;
    let read_all = || async {
        let (_, one) = s.get(&format!("/api/v1/objectives/{id}")).await;
        let (_, per_system) = s.get("/api/v1/systems/api/objectives").await;
        let (_, bulk) = s
            .post(
                "/api/v1/objectives/bulk-status",
                json!({"systemIds": ["api", "db"]}),
            )
            .await;
        let (_, list) = s.get("/api/v1/objectives").await;
        let (_, health) = s.get("/api/v1/systems/db/health").await;
        (
            one,
            per_system[0].clone(),
            bulk["systems"]["api"][0].clone(),
            list["objectives"][0].clone(),
            health,
        )
    };
    // Warm every read route before the first change.
    read_all().await;
    for round in 1..=100 {
        if round % 2 == 1 {
            let name = format!("round-{round}");
            let (status, _) = s
                .patch(&format!("/api/v1/objectives/{id}"), json!({"name": name}))
                .await;
            assert_eq!(status, StatusCode::OK);
            events
                .until(|n, d| n == "slo.status.changed" && d["objectiveId"] == id.as_str())
                .await;
            let (one, per_system, bulk, list, _) = read_all().await;
            for view in [&one, &per_system, &bulk, &list] {
                assert_eq!(
                    view["objective"]["name"],
                    name.as_str(),
                    "stale after the signal in round {round}: {view}"
                );
            }
        } else {
            // The upstream db flips; api's objective (strict, own timeline healthy) keeps its
            // numbers but db's health must be fresh.
            let status = if round % 4 == 0 {
                "healthy"
            } else {
                "unhealthy"
            };
            results(s, &db_check, json!([{"status": status}])).await;
            let signal = events
                .until(|n, d| n == "health.changed" && d["systemId"] == "db")
                .await;
            assert_eq!(signal["status"], status);
            assert_eq!(
                filtered.until(|n, _| n == "health.changed").await["status"],
                status,
                "the filtered stream sees db's signals"
            );
            let (.., health) = read_all().await;
            assert_eq!(
                health["status"], status,
                "stale health after the signal in round {round}"
            );
        }
    }
}

/// The same invariant with the Redis cache (when `REDIS_URL` is set).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refetch_after_every_signal_is_never_stale_on_redis() {
    let Ok(url) = std::env::var("REDIS_URL") else {
        assert!(
            std::env::var("SLOD_REQUIRE_SERVICES").map_or(true, |v| v != "1"),
            "SLOD_REQUIRE_SERVICES=1 but REDIS_URL is not set"
        );
        eprintln!("skipped: REDIS_URL is not set");
        return;
    };
    let namespace = format!("http-{}", uuid::Uuid::new_v4().simple());
    let s = start(Db::Sqlite, |c| {
        c.cache = url;
        c.cache_namespace = namespace;
    })
    .await
    .unwrap();
    assert_eq!(s.get("/readyz").await.1["cache"]["provider"], "redis");
    refetch_rounds(&s).await;
}
