//! Maintenance windows, incidents and dependency-aware re-signalling, end to end over HTTP on
//! SQLite and PostgreSQL: the numbers, the signals, and reads that are never stale.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both!(
    maintenance_half_covering_an_outage_halves_what_it_consumes,
    maintenance_and_incident_bad_input_changes_nothing,
    incident_override_opens_and_resolving_closes,
    resolving_an_incident_cannot_close_a_health_check_outage,
    an_upstream_change_resignals_every_downstream_objective,
    attribution_through_a_two_level_chain,
    incident_and_maintenance_reads_are_never_stale,
);

async fn get_objective(s: &TestServer, id: &str) -> Value {
    let (status, body) = s.get(&format!("/api/v1/objectives/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn consumed(o: &Value) -> f64 {
    o["status"]["errorBudgetConsumedMinutes"].as_f64().unwrap()
}

/// A 60-minute outage, a maintenance window recorded afterwards covering its second half:
/// 30 minutes consumed by the objective that opts in, 60 by the one that does not; after the
/// window is cancelled it never counts.
async fn maintenance_half_covering_an_outage_halves_what_it_consumes(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let check = system_with_check(&s, "svc", &[]).await;
    results(
        &s,
        &check,
        json!([
            {"status": "healthy", "at": minutes_ago(200)},
            {"status": "unhealthy", "at": minutes_ago(120)},
            {"status": "healthy", "at": minutes_ago(60)},
        ]),
    )
    .await;
    let opted = objective(
        &s,
        json!({"systemId": "svc", "target": 99.0, "windowDays": 7, "excludeMaintenanceWindows": true}),
    )
    .await;
    let plain = objective(
        &s,
        json!({"systemId": "svc", "target": 99.0, "windowDays": 7}),
    )
    .await;
    assert!((consumed(&get_objective(&s, &opted).await) - 60.0).abs() < 0.05);
    let mut events = Events::open(&s, "?systemId=svc").await;

    let (status, window) = s
        .post(
            "/api/v1/maintenances",
            json!({"systemIds": ["svc"], "title": "db upgrade",
                   "startAt": minutes_ago(90), "endAt": minutes_ago(30)}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{window}");
    assert_eq!(window["status"], "completed");
    let window_id = window["id"].as_str().unwrap().to_owned();
    events
        .until(|n, d| n == "maintenance.changed" && d["maintenanceId"] == window_id.as_str())
        .await;
    events
        .until(|n, d| n == "slo.status.changed" && d["objectiveId"] == opted.as_str())
        .await;
    let o = get_objective(&s, &opted).await;
    assert!((consumed(&o) - 30.0).abs() < 0.05, "{o}");
    assert!((consumed(&get_objective(&s, &plain).await) - 60.0).abs() < 0.05);
    let (_, downtime) = s.get(&format!("/api/v1/objectives/{opted}/downtime")).await;
    let events_list = downtime["events"].as_array().unwrap();
    assert_eq!(events_list.len(), 1, "{downtime}");
    assert!((events_list[0]["durationSeconds"].as_f64().unwrap() - 1800.0).abs() < 3.0);

    let (status, cancelled) = s
        .post(
            &format!("/api/v1/maintenances/{window_id}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    events
        .until(|n, d| n == "slo.status.changed" && d["objectiveId"] == opted.as_str())
        .await;
    assert!((consumed(&get_objective(&s, &opted).await) - 60.0).abs() < 0.05);
    let (_, listed) = s.get("/api/v1/maintenances?systemId=svc").await;
    assert_eq!(listed["maintenances"][0]["status"], "cancelled");
}

async fn maintenance_and_incident_bad_input_changes_nothing(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    system_with_check(&s, "svc", &[]).await;
    let now = minutes_ago(0);
    let cases = [
        (
            "/api/v1/maintenances",
            json!({"systemIds": ["svc"], "title": "x", "startAt": now, "endAt": minutes_ago(10)}),
            "endAt",
        ),
        (
            "/api/v1/maintenances",
            json!({"systemIds": ["ghost"], "title": "x", "startAt": minutes_ago(10), "endAt": now}),
            "systemIds",
        ),
        (
            "/api/v1/maintenances",
            json!({"systemIds": [], "title": "x", "startAt": minutes_ago(10), "endAt": now}),
            "systemIds",
        ),
        (
            "/api/v1/maintenances",
            json!({"systemIds": ["svc"], "title": " ", "startAt": minutes_ago(10), "endAt": now}),
            "title",
        ),
        (
            "/api/v1/incidents",
            json!({"systemIds": ["svc"], "title": "x", "healthOverride": "yes"}),
            "",
        ),
        (
            "/api/v1/incidents",
            json!({"systemIds": ["svc"], "title": "x", "severity": 1}),
            "",
        ),
        (
            "/api/v1/incidents",
            json!({"systemIds": ["Not An Id"], "title": "x"}),
            "systemIds",
        ),
    ];
    for (path, body, field) in cases {
        let (status, error) = s.post(path, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {error}");
        assert_eq!(code(&error), "invalid_input");
        if !field.is_empty() {
            assert_eq!(error["error"]["details"][0]["field"], field, "{error}");
        }
    }
    assert_eq!(
        s.get("/api/v1/maintenances").await.1["maintenances"],
        json!([])
    );
    assert_eq!(s.get("/api/v1/incidents").await.1["incidents"], json!([]));
    assert_eq!(
        s.get("/api/v1/systems/svc/health").await.1["status"],
        "unknown"
    );
    for path in [
        "/api/v1/maintenances/nope/cancel",
        "/api/v1/incidents/nope/resolve",
    ] {
        let (status, error) = s.post(path, json!({})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(code(&error), "not_found");
    }
    let (status, _) = s.get("/api/v1/systems/ghost/incidents").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = s.get("/api/v1/incidents?status=maybe").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = s
        .call_as(
            None,
            reqwest::Method::POST,
            "/api/v1/incidents",
            Some(json!({"systemIds": ["svc"], "title": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "writing needs a token");
}

async fn incident_override_opens_and_resolving_closes(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let (_, id) = watched_system(&s, "svc", json!({"target": 99.9, "windowDays": 30})).await;
    let mut events = Events::open(&s, "?systemId=svc").await;
    let (status, incident) = s
        .post(
            "/api/v1/incidents",
            json!({"systemIds": ["svc"], "title": "payments failing", "healthOverride": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{incident}");
    assert_eq!(incident["status"], "open");
    let incident_id = incident["id"].as_str().unwrap().to_owned();
    let signal = events.until(|n, _| n == "health.changed").await;
    assert_eq!(signal["status"], "unhealthy");
    assert_eq!(
        s.get("/api/v1/systems/svc/health").await.1["status"],
        "unhealthy"
    );
    let o = get_objective(&s, &id).await;
    assert_eq!(o["status"]["hasOpenDowntime"], true, "{o}");
    let (_, downtime) = s.get(&format!("/api/v1/objectives/{id}/downtime")).await;
    assert_eq!(downtime["events"][0]["source"], "incident");
    assert_eq!(downtime["events"][0]["end"], Value::Null);
    let (_, open) = s.get("/api/v1/systems/svc/incidents").await;
    assert_eq!(open["incidents"][0]["id"], incident_id.as_str());

    let (status, resolved) = s
        .post(
            &format!("/api/v1/incidents/{incident_id}/resolve"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resolved["status"], "resolved");
    let signal = events.until(|n, _| n == "health.changed").await;
    assert_eq!(signal["status"], "healthy");
    let o = get_objective(&s, &id).await;
    assert_eq!(o["status"]["hasOpenDowntime"], false);
    assert_eq!(
        s.get("/api/v1/systems/svc/incidents").await.1["incidents"],
        json!([])
    );
    let (_, downtime) = s.get(&format!("/api/v1/objectives/{id}/downtime")).await;
    assert_ne!(downtime["events"][0]["end"], Value::Null, "closed");
}

async fn resolving_an_incident_cannot_close_a_health_check_outage(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let check = system_with_check(&s, "svc", &[]).await;
    results(
        &s,
        &check,
        json!([{"status": "unhealthy", "at": minutes_ago(30)}]),
    )
    .await;
    let (_, incident) = s
        .post(
            "/api/v1/incidents",
            json!({"systemIds": ["svc"], "title": "x", "healthOverride": true}),
        )
        .await;
    let incident_id = incident["id"].as_str().unwrap();
    s.post(
        &format!("/api/v1/incidents/{incident_id}/resolve"),
        json!({}),
    )
    .await;
    assert_eq!(
        s.get("/api/v1/systems/svc/health").await.1["status"],
        "unhealthy",
        "the check still says so"
    );
    let id = objective(
        &s,
        json!({"systemId": "svc", "target": 99.9, "windowDays": 30}),
    )
    .await;
    let (_, downtime) = s.get(&format!("/api/v1/objectives/{id}/downtime")).await;
    assert_eq!(downtime["events"][0]["end"], Value::Null);
    assert_eq!(downtime["events"][0]["source"], "healthcheck");
}

/// web -> api -> db. web is down on its own; when db (two levels up) goes down, web's
/// self-only objective is no longer down on its own account: the change of db's timeline
/// must invalidate and re-signal web's objective.
async fn an_upstream_change_resignals_every_downstream_objective(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let db_check = system_with_check(&s, "db", &[]).await;
    system_with_check(&s, "api", &["db"]).await;
    let web_check = system_with_check(&s, "web", &["api"]).await;
    results(
        &s,
        &web_check,
        json!([{"status": "unhealthy", "at": minutes_ago(10)}]),
    )
    .await;
    let id = objective(
        &s,
        json!({"systemId": "web", "target": 99.9, "windowDays": 30, "dependencyExclusion": "self-only"}),
    )
    .await;
    // Warm the cache.
    assert_eq!(
        get_objective(&s, &id).await["status"]["hasOpenDowntime"],
        true
    );
    s.get("/api/v1/systems/web/objectives").await;
    let mut events = Events::open(&s, "?systemId=web").await;
    results(&s, &db_check, json!([{"status": "unhealthy"}])).await;
    let signal = events
        .until(|n, d| n == "slo.status.changed" && d["objectiveId"] == id.as_str())
        .await;
    assert_eq!(signal["systemId"], "web");
    let o = get_objective(&s, &id).await;
    assert_eq!(o["status"]["hasOpenDowntime"], false, "{o}");
    let (_, per_system) = s.get("/api/v1/systems/web/objectives").await;
    assert_eq!(per_system[0]["status"]["hasOpenDowntime"], false);
}

fn attributed(o: &Value, system: Option<&str>) -> f64 {
    o["status"]["attribution"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| match system {
            None => a["sourceType"] == "self",
            Some(id) => a["sourceType"] == "upstream" && a["systemId"] == id,
        })
        .map(|a| a["minutes"].as_f64().unwrap())
        .sum()
}

/// Three outage shapes through web -> api -> db, each read by a strict and a self-only
/// objective on web. Minutes are back-filled, so the expected numbers are exact.
async fn attribution_through_a_two_level_chain(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    struct Case {
        name: &'static str,
        db: (i64, i64),
        api: Option<(i64, i64)>,
        web: (i64, i64),
        // (strict consumed, self-only consumed, db's minutes, api's minutes)
        expect: (f64, f64, f64, f64),
    }
    let cases = [
        Case {
            name: "upstream down first",
            db: (60, 20),
            api: None,
            web: (50, 30),
            expect: (20.0, 0.0, 20.0, 0.0),
        },
        Case {
            name: "downstream down first",
            db: (50, 30),
            api: Some((45, 35)),
            web: (60, 20),
            // The nearest upstream that was down takes the moment: api (one level up) for
            // [-45, -35], db for the rest of [-50, -30].
            expect: (40.0, 20.0, 10.0, 10.0),
        },
        Case {
            name: "upstream recovers first",
            db: (60, 40),
            api: None,
            web: (50, 20),
            expect: (30.0, 20.0, 10.0, 0.0),
        },
    ];
    for (i, case) in cases.iter().enumerate() {
        let (db_id, api_id, web_id) = (format!("db{i}"), format!("api{i}"), format!("web{i}"));
        let db_check = system_with_check(&s, &db_id, &[]).await;
        let api_check = system_with_check(&s, &api_id, &[&db_id]).await;
        let web_check = system_with_check(&s, &web_id, &[&api_id]).await;
        let outage = |(from, to): (i64, i64)| {
            json!([
                {"status": "healthy", "at": minutes_ago(100)},
                {"status": "unhealthy", "at": minutes_ago(from)},
                {"status": "healthy", "at": minutes_ago(to)},
            ])
        };
        results(&s, &db_check, outage(case.db)).await;
        match case.api {
            Some(span) => results(&s, &api_check, outage(span)).await,
            None => {
                results(
                    &s,
                    &api_check,
                    json!([{"status": "healthy", "at": minutes_ago(100)}]),
                )
                .await
            }
        }
        results(&s, &web_check, outage(case.web)).await;
        let strict = objective(
            &s,
            json!({"systemId": web_id, "target": 99.0, "windowDays": 7}),
        )
        .await;
        let self_only = objective(
            &s,
            json!({"systemId": web_id, "target": 99.0, "windowDays": 7, "dependencyExclusion": "self-only"}),
        )
        .await;
        let strict = get_objective(&s, &strict).await;
        let self_only = get_objective(&s, &self_only).await;
        let (total, own, from_db, from_api) = case.expect;
        let near = |a: f64, b: f64| (a - b).abs() < 0.05;
        assert!(
            near(consumed(&strict), total),
            "{}: strict {strict}",
            case.name
        );
        assert!(
            near(consumed(&self_only), own),
            "{}: self-only {self_only}",
            case.name
        );
        assert!(near(attributed(&strict, None), own), "{}", case.name);
        assert!(
            near(attributed(&strict, Some(&db_id)), from_db),
            "{}: {strict}",
            case.name
        );
        assert!(
            near(attributed(&strict, Some(&api_id)), from_api),
            "{}: {strict}",
            case.name
        );
    }
}

/// Every incident and maintenance read (per entity, per system, per list shape) is warmed,
/// then each change is read back at once: the invalidation happened before the answer.
async fn incident_and_maintenance_reads_are_never_stale(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    system_with_check(&s, "svc", &[]).await;
    system_with_check(&s, "other", &[]).await;
    let reads = [
        "/api/v1/incidents",
        "/api/v1/incidents?systemId=svc&status=open",
        "/api/v1/systems/svc/incidents",
        "/api/v1/maintenances?systemId=svc",
        "/api/v1/systems/svc/maintenances",
    ];
    for path in reads {
        let (status, body) = s.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    let (_, incident) = s
        .post(
            "/api/v1/incidents",
            json!({"systemIds": ["svc"], "title": "x"}),
        )
        .await;
    let incident_id = incident["id"].as_str().unwrap().to_owned();
    let (_, window) = s
        .post(
            "/api/v1/maintenances",
            json!({"systemIds": ["svc", "other"], "title": "y",
                   "startAt": minutes_ago(-60), "endAt": minutes_ago(-120)}),
        )
        .await;
    assert_eq!(window["status"], "scheduled", "{window}");
    let window_id = window["id"].as_str().unwrap().to_owned();
    for (path, key) in [
        (reads[0], "incidents"),
        (reads[1], "incidents"),
        (reads[2], "incidents"),
    ] {
        assert_eq!(
            s.get(path).await.1[key][0]["id"],
            incident_id.as_str(),
            "{path}"
        );
    }
    for path in [reads[3], reads[4]] {
        assert_eq!(
            s.get(path).await.1["maintenances"][0]["id"],
            window_id.as_str(),
            "{path}"
        );
    }
    // Warm the entities, then change them.
    s.get(&format!("/api/v1/incidents/{incident_id}")).await;
    s.get(&format!("/api/v1/maintenances/{window_id}")).await;
    s.post(
        &format!("/api/v1/incidents/{incident_id}/resolve"),
        json!({}),
    )
    .await;
    s.post(
        &format!("/api/v1/maintenances/{window_id}/cancel"),
        json!({}),
    )
    .await;
    assert_eq!(
        s.get(&format!("/api/v1/incidents/{incident_id}")).await.1["status"],
        "resolved"
    );
    assert_eq!(
        s.get(&format!("/api/v1/maintenances/{window_id}")).await.1["status"],
        "cancelled"
    );
    assert_eq!(s.get(reads[1]).await.1["incidents"], json!([]));
    assert_eq!(s.get(reads[2]).await.1["incidents"], json!([]));
    assert_eq!(s.get(reads[4]).await.1["maintenances"], json!([]));
    assert_eq!(
        s.get("/api/v1/systems/other/maintenances").await.1["maintenances"],
        json!([])
    );
    // A deleted system's incidents are gone from the lists too.
    s.delete("/api/v1/systems/svc").await;
    assert_eq!(
        s.get(reads[0]).await.1["incidents"][0]["systemIds"],
        json!([])
    );
}

/// The record reads really come from the cache: an incident written behind the cache's back
/// (straight through the store) stays invisible to warm reads, and is seen at once without a
/// cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_and_maintenance_reads_are_served_from_the_cache() {
    for (cache, expect_cached) in [("memory", true), ("none", false)] {
        let s = start(Db::Sqlite, |c| c.cache = cache.into()).await.unwrap();
        system_with_check(&s, "svc", &[]).await;
        let paths = [
            "/api/v1/incidents?systemId=svc",
            "/api/v1/systems/svc/incidents",
            "/api/v1/maintenances",
            "/api/v1/systems/svc/maintenances",
        ];
        let mut warm = Vec::new();
        for path in paths {
            warm.push(s.get(path).await.1);
        }
        let now = jiff::Timestamp::now();
        // Written behind the cache's back: straight to the store, nothing invalidated.
        let mut tx = s.state.store.begin().await.unwrap();
        tx.open_incident(
            &slod_store::NewIncident {
                title: "behind the cache".into(),
                system_ids: vec!["svc".into()],
                health_override: false,
            },
            now,
        )
        .await
        .unwrap();
        tx.create_maintenance(
            &slod_store::NewMaintenance {
                title: "behind the cache".into(),
                system_ids: vec!["svc".into()],
                start_at: now,
                end_at: now
                    .checked_add(jiff::SignedDuration::from_hours(1))
                    .unwrap(),
            },
            now,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        for (path, before) in paths.iter().zip(&warm) {
            let after = s.get(path).await.1;
            assert_eq!(&after == before, expect_cached, "{cache}: {path}: {after}");
        }
    }
}

/// Redis down (nothing listens at the configured address): every read and write keeps
/// working from the database, local dashboards still get their signals, and readiness says
/// what is wrong without failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_reads_writes_and_local_signals_keep_working() {
    let s = start(Db::Sqlite, |c| c.cache = "redis://127.0.0.1:9".into())
        .await
        .unwrap();
    let check = system_with_check(&s, "svc", &[]).await;
    let id = objective(
        &s,
        json!({"systemId": "svc", "target": 99.9, "windowDays": 30}),
    )
    .await;
    let mut events = Events::open(&s, "?systemId=svc").await;
    let started = std::time::Instant::now();
    for round in 0..6 {
        let status = if round % 2 == 0 {
            "unhealthy"
        } else {
            "healthy"
        };
        results(&s, &check, json!([{"status": status}])).await;
        assert_eq!(
            events.until(|n, _| n == "health.changed").await["status"],
            status
        );
        let o = get_objective(&s, &id).await;
        assert_eq!(o["status"]["hasOpenDowntime"], round % 2 == 0, "{o}");
    }
    let (status, incident) = s
        .post(
            "/api/v1/incidents",
            json!({"systemIds": ["svc"], "title": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        s.get("/api/v1/incidents").await.1["incidents"][0]["id"],
        incident["id"]
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "the outage costs little latency: {:?}",
        started.elapsed()
    );
    let (status, ready) = s.get("/readyz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ready["database"], "ok");
    assert_eq!(ready["signals"], "connecting");
    assert_eq!(ready["cache"]["breaker"], "open", "{ready}");
}
