//! Every mutation, then every cached read at once: all fresh.
//!
//! A server with every cache TTL set to an hour (so only invalidation can refresh an entry)
//! serves a small world: three systems in a chain, checks, objectives of every shape, an
//! incident and a maintenance window. For each kind of mutation (`slod::work::Mutation`, matched
//! exhaustively, so a new kind does not compile here until it has a case) the test warms every
//! read a dashboard makes, performs the mutation through that server, and reads everything
//! again at once. Each answer must equal what a second server on the same database with no
//! cache at all answers (statuses: be recomputed after the mutation began, see [`fresh`]).

use reqwest::StatusCode;
use serde_json::{json, Value};
use slod::work::Mutation;

use crate::support::*;

/// The world every case starts from. Returns its ids.
struct World {
    db_check: String,
    api_check: String,
    web_check: String,
    web_objective: String,
    open_incident: String,
    window: String,
    silence: String,
    channel: String,
    spare_channel: String,
    policy: String,
}

async fn world(s: &TestServer) -> World {
    let db_check = system_with_check(s, "db", &[]).await;
    let api_check = system_with_check(s, "api", &["db"]).await;
    let web_check = system_with_check(s, "web", &["api"]).await;
    for (check, down) in [(&db_check, 50), (&api_check, 30), (&web_check, 10)] {
        results(
            s,
            check,
            json!([
                {"status": "healthy", "at": minutes_ago(120)},
                {"status": "unhealthy", "at": minutes_ago(down + 5)},
                {"status": "healthy", "at": minutes_ago(down)}
            ]),
        )
        .await;
    }
    let web_objective = objective(
        s,
        json!({"systemId": "web", "name": "web up", "target": 99.9, "windowDays": 7}),
    )
    .await;
    objective(s, json!({"systemId": "api", "target": 99.0, "windowDays": 1, "dependencyExclusion": "self-only", "excludeMaintenanceWindows": true})).await;
    objective(
        s,
        json!({"systemId": "db", "healthCheckId": db_check, "target": 99.5, "windowDays": 1}),
    )
    .await;
    let (_, incident) = s
        .post(
            "/api/v1/incidents",
            json!({"systemIds": ["web"], "title": "slow pages"}),
        )
        .await;
    let (_, window) = s
        .post(
            "/api/v1/maintenances",
            json!({"systemIds": ["api"], "title": "upgrade", "startAt": minutes_ago(40), "endAt": minutes_ago(-60)}),
        )
        .await;
    // Every alert goes to a webhook nobody listens on (its deliveries stay pending).
    let channel = |name: &str| json!({"name": name, "kind": "webhook", "url": "http://127.0.0.1:9/hook", "secret": "s"});
    let (_, hook) = s
        .post("/api/v1/notification-channels", channel("hook"))
        .await;
    let (_, spare) = s
        .post("/api/v1/notification-channels", channel("spare"))
        .await;
    let (_, policy) = s
        .post(
            "/api/v1/notification-policies",
            json!({"name": "all", "channelIds": [hook["id"]]}),
        )
        .await;
    // Alerts fire for the outages above (evaluated at the real now), and one silence mutes db.
    evaluate(s).await;
    let (_, silence) = s
        .post(
            "/api/v1/silences",
            json!({"systemIds": ["db"], "until": minutes_ago(-60), "reason": "known"}),
        )
        .await;
    World {
        silence: silence["id"].as_str().unwrap().to_owned(),
        channel: hook["id"].as_str().unwrap().to_owned(),
        spare_channel: spare["id"].as_str().unwrap().to_owned(),
        policy: policy["id"].as_str().unwrap().to_owned(),
        db_check,
        api_check,
        web_check,
        web_objective,
        open_incident: incident["id"].as_str().unwrap().to_owned(),
        window: window["id"].as_str().unwrap().to_owned(),
    }
}

async fn evaluate(s: &TestServer) -> slod::alerts::Evaluated {
    slod::alerts::Alerts::of(&s.state)
        .evaluate(jiff::Timestamp::now())
        .await
        .unwrap()
}

/// Every read a dashboard makes of the current data, as (method, path, body).
async fn reads(truth: &TestServer) -> Vec<(reqwest::Method, String, Option<Value>)> {
    let get = |p: String| (reqwest::Method::GET, p, None);
    let mut out = vec![
        get("/api/v1/systems".into()),
        get("/api/v1/systems?limit=2".into()),
        get("/api/v1/objectives".into()),
        get("/api/v1/objectives?limit=1".into()),
        get("/api/v1/incidents".into()),
        get("/api/v1/incidents?status=open".into()),
        get("/api/v1/maintenances".into()),
        get("/api/v1/streaks".into()),
        get("/api/v1/milestones".into()),
        get("/api/v1/alerts".into()),
        get("/api/v1/alerts?state=firing".into()),
        get("/api/v1/alerts?kind=health&limit=2".into()),
        get("/api/v1/silences".into()),
        get("/api/v1/notification-channels".into()),
        get("/api/v1/notification-policies".into()),
        get("/api/v1/notification-deliveries".into()),
        get("/api/v1/notification-deliveries?status=pending".into()),
    ];
    let (_, systems) = truth.get("/api/v1/systems?limit=1000").await;
    let ids: Vec<String> = systems["systems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    let mut bulk = ids.clone();
    bulk.push("gone".into());
    out.push((
        reqwest::Method::POST,
        "/api/v1/objectives/bulk-status".into(),
        Some(json!({"systemIds": bulk})),
    ));
    for id in ["db", "api", "web", "new"]
        .iter()
        .map(|s| s.to_string())
        .chain(ids)
    {
        for suffix in [
            "",
            "/health",
            "/checks",
            "/objectives",
            "/incidents",
            "/maintenances",
            "/achievements",
        ] {
            out.push(get(format!("/api/v1/systems/{id}{suffix}")));
        }
        out.push(get(format!("/api/v1/incidents?systemId={id}")));
        out.push(get(format!("/api/v1/maintenances?systemId={id}")));
        out.push(get(format!("/api/v1/alerts?systemId={id}")));
        let (_, checks) = truth.get(&format!("/api/v1/systems/{id}/checks")).await;
        for check in checks.as_array().into_iter().flatten() {
            out.push(get(format!(
                "/api/v1/checks/{}/results",
                check["id"].as_str().unwrap()
            )));
        }
    }
    let (_, objectives) = truth.get("/api/v1/objectives?limit=1000").await;
    for o in objectives["objectives"].as_array().unwrap() {
        let id = o["objective"]["id"].as_str().unwrap();
        for suffix in ["", "/downtime", "/snapshots", "/budget-history?points=10"] {
            out.push(get(format!("/api/v1/objectives/{id}{suffix}")));
        }
    }
    let (_, incidents) = truth.get("/api/v1/incidents?limit=1000").await;
    for i in incidents["incidents"].as_array().unwrap() {
        out.push(get(format!(
            "/api/v1/incidents/{}",
            i["id"].as_str().unwrap()
        )));
    }
    let (_, alerts) = truth.get("/api/v1/alerts?limit=1000").await;
    for a in alerts["alerts"].as_array().unwrap() {
        out.push(get(format!("/api/v1/alerts/{}", a["id"].as_str().unwrap())));
    }
    let (_, silences) = truth.get("/api/v1/silences?limit=1000").await;
    for a in silences["silences"].as_array().unwrap() {
        out.push(get(format!(
            "/api/v1/silences/{}",
            a["id"].as_str().unwrap()
        )));
    }
    let (_, windows) = truth.get("/api/v1/maintenances?limit=1000").await;
    for m in windows["maintenances"].as_array().unwrap() {
        out.push(get(format!(
            "/api/v1/maintenances/{}",
            m["id"].as_str().unwrap()
        )));
    }
    out
}

/// Whether a cached answer is fresh: equal to the uncached one, except for statuses computed
/// after the mutation began. Those were loaded after its invalidation (nothing else loads in
/// this test, and the cache refuses the write-back of a load that began earlier: G3), so they
/// read the committed change; their numbers may differ from the uncached ones only by the
/// milliseconds an open outage grew between the two computations.
fn fresh(cached: &Value, uncached: &Value, mutation_began: jiff::Timestamp) -> bool {
    match (cached, uncached) {
        (Value::Object(x), Value::Object(y)) => {
            let computed_after = x
                .get("computedAt")
                .and_then(Value::as_str)
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                .is_some_and(|t| t >= mutation_began);
            if computed_after {
                return x.get("objectiveId") == y.get("objectiveId");
            }
            // An open downtime segment's duration grows between the two reads.
            let open_segment =
                x.get("end") == Some(&Value::Null) && x.contains_key("durationSeconds");
            let burn_down_point = x.contains_key("remainingPercent");
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    // When a status or a burn-down was computed, and the instants of a
                    // burn-down, move with the clock, not with the data.
                    matches!(k.as_str(), "computedAt" | "windowStart" | "windowEnd")
                        || (burn_down_point && k == "at")
                        || (open_segment && k == "durationSeconds")
                        || y.get(k).is_some_and(|w| fresh(v, w, mutation_began))
                })
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| fresh(v, w, mutation_began))
        }
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        _ => cached == uncached,
    }
}

async fn read_all(
    s: &TestServer,
    reads: &[(reqwest::Method, String, Option<Value>)],
) -> Vec<(StatusCode, Value)> {
    let mut out = Vec::with_capacity(reads.len());
    for (method, path, body) in reads {
        out.push(s.call(method.clone(), path, body.clone()).await);
    }
    out
}

/// Performs one mutation of `kind` on `s` (the cached server).
async fn mutate(kind: Mutation, s: &TestServer, w: &World) {
    let ok = |(status, body): (StatusCode, Value)| {
        assert!(status.is_success(), "{kind:?}: {status} {body}");
    };
    match kind {
        Mutation::CreateSystem => ok(s.post("/api/v1/systems", json!({"id": "new", "name": "New", "dependsOn": ["db"]})).await),
        Mutation::UpdateSystem => ok(s.patch("/api/v1/systems/web", json!({"name": "Web shop", "dependsOn": ["db"]})).await),
        Mutation::DeleteSystem => ok(s.delete("/api/v1/systems/api").await),
        Mutation::CreateCheck => ok(s.post("/api/v1/systems/api/checks", json!({"name": "second", "kind": "push"})).await),
        Mutation::UpdateCheck => ok(s.patch(&format!("/api/v1/checks/{}", w.web_check), json!({"name": "renamed", "enabled": false})).await),
        Mutation::DeleteCheck => ok(s.delete(&format!("/api/v1/checks/{}", w.db_check)).await),
        Mutation::RecordResults => {
            // One result that moves the timeline (db goes down, and with it everything
            // downstream), one that only changes what the health view shows.
            ok(s.post(&format!("/api/v1/checks/{}/results", w.db_check), json!({"status": "unhealthy", "message": "disk full"})).await);
            ok(s.post(&format!("/api/v1/checks/{}/results", w.api_check), json!({"status": "healthy", "latencyMs": 7})).await);
        }
        Mutation::CreateObjective => ok(s.post("/api/v1/objectives", json!({"systemId": "web", "target": 95, "windowDays": 3})).await),
        Mutation::UpdateObjective => ok(s.patch(&format!("/api/v1/objectives/{}", w.web_objective), json!({"target": 99.99, "dependencyExclusion": "self-only"})).await),
        Mutation::DeleteObjective => ok(s.delete(&format!("/api/v1/objectives/{}", w.web_objective)).await),
        Mutation::OpenIncident => ok(s.post("/api/v1/incidents", json!({"systemIds": ["db", "api"], "title": "outage", "healthOverride": true})).await),
        Mutation::ResolveIncident => ok(s.post(&format!("/api/v1/incidents/{}/resolve", w.open_incident), json!({})).await),
        Mutation::CreateMaintenance => ok(s.post("/api/v1/maintenances", json!({"systemIds": ["web", "api"], "title": "late record", "startAt": minutes_ago(20), "endAt": minutes_ago(5)})).await),
        Mutation::CancelMaintenance => ok(s.post(&format!("/api/v1/maintenances/{}/cancel", w.window), json!({})).await),
        Mutation::RecordDay | Mutation::PruneResults => {
            let yesterday = slod::jobs::day_of(jiff::Timestamp::now()).yesterday().unwrap();
            slod::jobs::run_daily(&s.state, yesterday, jiff::Timestamp::now(), true).await.unwrap();
        }
        Mutation::SendDigest => {
            let monday = slod::jobs::monday_of(slod::jobs::day_of(jiff::Timestamp::now()));
            slod::jobs::run_digest(&s.state, monday, jiff::Timestamp::now(), true).await.unwrap();
        }
        Mutation::FireAlert => {
            // db's check goes down: a health alert fires for it (silenced) and its upstreams'.
            ok(s.post(&format!("/api/v1/checks/{}/results", w.db_check), json!({"status": "unhealthy"})).await);
            assert!(evaluate(s).await.fired > 0);
        }
        Mutation::MoveAlert => {
            // web's objective loosens: its burn alerts lapse.
            ok(s.patch(&format!("/api/v1/objectives/{}", w.web_objective), json!({"target": 50})).await);
            assert!(evaluate(s).await.moved > 0);
        }
        Mutation::CreateSilence => ok(s.post("/api/v1/silences", json!({"kinds": ["burn_rate"], "until": minutes_ago(-5), "reason": "deploy"})).await),
        Mutation::EndSilence => ok(s.delete(&format!("/api/v1/silences/{}", w.silence)).await),
        Mutation::CreateChannel => ok(s.post("/api/v1/notification-channels", json!({"name": "chat", "kind": "slack", "url": "http://127.0.0.1:9/slack"})).await),
        Mutation::UpdateChannel => ok(s.call(reqwest::Method::PUT, &format!("/api/v1/notification-channels/{}", w.channel), Some(json!({"name": "renamed", "kind": "webhook", "url": "http://127.0.0.1:9/other"}))).await),
        Mutation::DeleteChannel => ok(s.delete(&format!("/api/v1/notification-channels/{}", w.spare_channel)).await),
        Mutation::CreatePolicy => ok(s.post("/api/v1/notification-policies", json!({"name": "db pages", "channelIds": [w.spare_channel], "systemIds": ["db"], "includeDownstream": true, "minSeverity": "page"})).await),
        Mutation::UpdatePolicy => ok(s.call(reqwest::Method::PUT, &format!("/api/v1/notification-policies/{}", w.policy), Some(json!({"name": "health", "channelIds": [w.channel], "kinds": ["health"]}))).await),
        Mutation::DeletePolicy => ok(s.delete(&format!("/api/v1/notification-policies/{}", w.policy)).await),
        Mutation::ClaimDeliveries | Mutation::RecordDelivery => {
            // One claimed delivery is sent (to nobody: refused) and its attempt recorded.
            let n: slod::notifications::Notifications = axum::extract::FromRef::from_ref(&s.state);
            let (claim, claimed) = n.claim(1, std::time::Duration::from_secs(60), &[]).await.unwrap();
            assert_eq!(claimed.len(), 1);
            let recorded = n.deliver(claimed.into_iter().next().unwrap(), &claim).await.unwrap();
            assert_eq!(recorded.unwrap().attempts, 1);
        }
        Mutation::RemindAlerts => {
            // Reminders every minute; ten minutes later every firing alert is due one.
            ok(s.call(reqwest::Method::PUT, &format!("/api/v1/notification-policies/{}", w.policy), Some(json!({"name": "all", "channelIds": [w.channel], "repeatIntervalSeconds": 60}))).await);
            let later = jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_mins(10)).unwrap();
            slod::alerts::Alerts::of(&s.state).evaluate(later).await.unwrap();
            let (_, body) = s.get("/api/v1/notification-deliveries?limit=1000").await;
            assert!(body["deliveries"].as_array().unwrap().iter().any(|d| d["event"] == "repeat"), "{body}");
        }
        Mutation::CreateToken | Mutation::RevokeToken => {
            let tokens = slod::tokens::Tokens::new(slod::state::Core::of(&s.state));
            tokens.create("fresh", slod_store::Scope::Read).await.unwrap();
            assert_eq!(tokens.revoke("fresh").await.unwrap(), 1);
        }
    }
}

async fn every_read_is_fresh_after_every_mutation(db: Db) {
    for &kind in Mutation::ALL {
        let Some(s) = start(db, |c| c.cache_ttl_seconds = Some(3600)).await else {
            return;
        };
        let w = world(&s).await;
        let truth = replica_of(&s, |c| c.cache = "none".into()).await;
        let reads = reads(&truth).await;
        // Warm every entry (twice: the second read is surely a hit).
        read_all(&s, &reads).await;
        read_all(&s, &reads).await;
        let began = jiff::Timestamp::now();
        mutate(kind, &s, &w).await;
        for (method, path, body) in &reads {
            let (cs, cv) = s.call(method.clone(), path, body.clone()).await;
            let (fs, fv) = truth.call(method.clone(), path, body.clone()).await;
            assert!(
                cs == fs && fresh(&cv, &fv, began),
                "after {kind:?}, {method} {path} is stale:\n  cached {cs} {cv}\n  fresh  {fs} {fv}"
            );
        }
    }
}

on_both!(every_read_is_fresh_after_every_mutation);
