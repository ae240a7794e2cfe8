//! Alerts evaluated: each kind fires and resolves at the evaluation a hand computation says,
//! resolve-after holds against flapping, upstream outages inhibit downstream alerts and name
//! their root, maintenance and silences mute and end on time, two replicas record each
//! transition once, and bad silences change nothing.
//!
//! Timelines are back-filled relative to the real clock; evaluations then run at chosen
//! instants (`t0 + n seconds`), which is what the lifecycle's clock reads (resolve-after,
//! maintenance, silences).

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use slod::alerts::{Alerts, Evaluated};
use slod::state::Core;

use crate::support::*;

on_both!(
    each_kind_fires_and_resolves_at_the_right_evaluation,
    resolve_after_holds_against_flapping,
    upstream_outages_inhibit_downstream_alerts_and_name_the_root,
    maintenance_and_silences_mute_and_end_on_time,
    two_replicas_record_each_transition_once,
    bad_silences_are_refused_and_change_nothing,
);

async fn evaluate(s: &TestServer, at: Timestamp) -> Evaluated {
    Alerts::of(&s.state)
        .evaluate(at)
        .await
        .expect("the evaluation runs")
}

fn after(t: Timestamp, seconds: i64) -> Timestamp {
    t.checked_add(SignedDuration::from_secs(seconds)).unwrap()
}

/// Every alert matching `query`, newest first.
async fn alerts(s: &TestServer, query: &str) -> Vec<Value> {
    let (status, body) = s.get(&format!("/api/v1/alerts?limit=1000&{query}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["alerts"].as_array().unwrap().clone()
}

/// The active alerts as `"<subject id> <kind> <severity>" -> alert`.
async fn active(s: &TestServer) -> BTreeMap<String, Value> {
    alerts(s, "")
        .await
        .into_iter()
        .filter(|a| a["endsAt"].is_null())
        .map(|a| {
            (
                format!(
                    "{} {} {}",
                    a["subject"]["id"].as_str().unwrap(),
                    a["kind"].as_str().unwrap(),
                    a["severity"].as_str().unwrap()
                ),
                a,
            )
        })
        .collect()
}

fn states(active: &BTreeMap<String, Value>) -> BTreeMap<String, String> {
    active
        .iter()
        .map(|(k, a)| (k.clone(), a["state"].as_str().unwrap().to_owned()))
        .collect()
}

fn at_ms(t: Timestamp) -> String {
    Timestamp::from_millisecond(t.as_millisecond())
        .unwrap()
        .to_string()
}

async fn each_kind_fires_and_resolves_at_the_right_evaluation(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let timeline = |points: &[(&str, i64)]| {
        Value::Array(
            points
                .iter()
                .map(|(status, ago)| json!({"status": status, "at": minutes_ago(*ago)}))
                .collect(),
        )
    };
    // pay, 99.9 % over 30 days, down for the last 10 minutes: the 1h/5m rule burns at 166x
    // and 1000x (above 14.4), the 1d/2h rule at 6.9x and 83x (above 3): a page and its
    // ticket; 10 of 43.2 minutes spent is no budget alert.
    let pay_check = system_with_check(&s, "pay", &[]).await;
    results(
        &s,
        &pay_check,
        timeline(&[("healthy", 60), ("unhealthy", 10)]),
    )
    .await;
    let pay = objective(
        &s,
        json!({"systemId": "pay", "target": 99.9, "windowDays": 30}),
    )
    .await;
    // cart, 99.9 % over 30 days, down 90..40 minutes ago: both short page windows (5m, 30m)
    // have recovered, the 2h ticket window has not (416x > 3): a ticket without a page; and
    // 50 minutes > 43.2 breaches.
    let cart_check = system_with_check(&s, "cart", &[]).await;
    results(
        &s,
        &cart_check,
        timeline(&[("healthy", 120), ("unhealthy", 90), ("healthy", 40)]),
    )
    .await;
    let cart = objective(
        &s,
        json!({"systemId": "cart", "target": 99.9, "windowDays": 30}),
    )
    .await;
    // feed, 99 % over 1 day (14.4 minutes), down 12 minutes ending 7 h ago: 16.7 % left,
    // and no burn window shorter than 7 h burns: budget_low only.
    let feed_check = system_with_check(&s, "feed", &[]).await;
    results(
        &s,
        &feed_check,
        timeline(&[("healthy", 600), ("unhealthy", 432), ("healthy", 420)]),
    )
    .await;
    let feed = objective(
        &s,
        json!({"systemId": "feed", "target": 99, "windowDays": 1}),
    )
    .await;
    // mail, the same objective, down 20 minutes: breaching only.
    let mail_check = system_with_check(&s, "mail", &[]).await;
    results(
        &s,
        &mail_check,
        timeline(&[("healthy", 600), ("unhealthy", 440), ("healthy", 420)]),
    )
    .await;
    let mail = objective(
        &s,
        json!({"systemId": "mail", "target": 99, "windowDays": 1}),
    )
    .await;
    let (_, incident) = s
        .post(
            "/api/v1/incidents",
            json!({"systemIds": ["feed", "mail"], "title": "mail queue stuck"}),
        )
        .await;
    let incident = incident["id"].as_str().unwrap().to_owned();

    let t0 = Timestamp::now();
    let done = evaluate(&s, t0).await;
    let expected: BTreeMap<String, String> = [
        format!("{pay} burn_rate page"),
        format!("{pay} burn_rate ticket"),
        "pay health ticket".to_owned(),
        format!("{cart} burn_rate ticket"),
        format!("{cart} breaching ticket"),
        format!("{feed} budget_low ticket"),
        format!("{mail} breaching ticket"),
        format!("{incident} incident ticket"),
    ]
    .into_iter()
    .map(|k| (k, "firing".to_owned()))
    .collect();
    let now_active = active(&s).await;
    assert_eq!(states(&now_active), expected);
    assert_eq!(done.fired, expected.len());
    for alert in now_active.values() {
        assert_eq!(alert["startsAt"], at_ms(t0));
        assert_eq!(alert["fingerprint"].as_str().unwrap().len(), 16);
        assert!(!alert["summary"].as_str().unwrap().is_empty());
        assert!(alert["inhibitedBy"].is_null() && alert["silencedBy"].is_null());
    }
    let page = &now_active[&format!("{pay} burn_rate page")];
    assert_eq!(page["objectiveId"], pay.as_str());
    assert_eq!(page["systemIds"], json!(["pay"]));
    assert_eq!(page["subject"], json!({"type": "objective", "id": pay}));
    assert_eq!(
        now_active[&format!("{incident} incident ticket")]["systemIds"],
        json!(["feed", "mail"])
    );

    // The same world again: nothing changes.
    assert_eq!(evaluate(&s, after(t0, 30)).await, Evaluated::default());

    // Filters.
    assert_eq!(alerts(&s, "kind=burn_rate").await.len(), 3);
    assert_eq!(alerts(&s, "systemId=mail").await.len(), 2);
    assert_eq!(alerts(&s, &format!("objectiveId={cart}")).await.len(), 2);
    assert_eq!(alerts(&s, "state=resolved").await.len(), 0);
    let (status, one) = s
        .get(&format!("/api/v1/alerts/{}", page["id"].as_str().unwrap()))
        .await;
    assert_eq!((status, &one), (StatusCode::OK, page));

    // pay's target loosens to 90 % (1h burns 1.7x, 2h 0.8x: no rule fires) and the incident
    // is resolved: their alerts note when their condition stopped, and resolve once that is
    // 300 seconds old.
    let (status, _) = s
        .patch(&format!("/api/v1/objectives/{pay}"), json!({"target": 90}))
        .await;
    assert_eq!(status, StatusCode::OK);
    s.post(&format!("/api/v1/incidents/{incident}/resolve"), json!({}))
        .await;
    let t1 = after(t0, 60);
    let done = evaluate(&s, t1).await;
    assert_eq!((done.moved, done.resolved), (3, 0));
    let lapsed = [
        format!("{pay} burn_rate page"),
        format!("{pay} burn_rate ticket"),
        format!("{incident} incident ticket"),
    ];
    let now_active = active(&s).await;
    for key in &lapsed {
        assert_eq!(now_active[key]["state"], "firing", "{key}");
        assert_eq!(now_active[key]["conditionFalseSince"], at_ms(t1), "{key}");
    }
    assert_eq!(evaluate(&s, after(t1, 299)).await, Evaluated::default());
    let done = evaluate(&s, after(t1, 300)).await;
    assert_eq!(done.resolved, 3);
    let resolved = alerts(&s, "state=resolved").await;
    assert_eq!(resolved.len(), 3);
    for alert in &resolved {
        assert_eq!(alert["endsAt"], at_ms(after(t1, 300)));
    }
    assert_eq!(
        states(&active(&s).await).len(),
        expected.len() - 3,
        "the others still fire"
    );
}

async fn resolve_after_holds_against_flapping(db: Db) {
    let Some(s) = start(db, |c| c.alerts_resolve_after = 60).await else {
        return;
    };
    let check = system_with_check(&s, "api", &[]).await;
    let push = |status: &'static str| {
        let (s, check) = (&s, check.clone());
        async move { results(s, &check, json!([{ "status": status }])).await }
    };
    let mut events = Events::open(&s, "").await;
    events.positioned().await;

    push("unhealthy").await;
    let t0 = Timestamp::now();
    assert_eq!(evaluate(&s, t0).await.fired, 1);
    let first = active(&s).await["api health ticket"].clone();
    let id = first["id"].as_str().unwrap().to_owned();
    // The signal comes after the commit: a refetch then reads the alert.
    let signal = events
        .until(|name, data| name == "alert.changed" && data["alertId"] == id.as_str())
        .await;
    assert_eq!(signal["state"], "firing");
    assert_eq!(signal["systemId"], "api");
    let (status, read) = s.get(&format!("/api/v1/alerts/{id}")).await;
    assert_eq!(
        (status, read["state"].as_str()),
        (StatusCode::OK, Some("firing"))
    );

    // Healthy for 10 seconds, then down again: the same alert, still firing.
    push("healthy").await;
    assert_eq!(evaluate(&s, after(t0, 10)).await.moved, 1);
    assert_eq!(
        active(&s).await["api health ticket"]["conditionFalseSince"],
        at_ms(after(t0, 10))
    );
    push("unhealthy").await;
    assert_eq!(evaluate(&s, after(t0, 20)).await.moved, 1);
    let again = active(&s).await["api health ticket"].clone();
    assert_eq!(
        (again["id"].as_str(), again["state"].as_str()),
        (Some(id.as_str()), Some("firing"))
    );
    assert!(again["conditionFalseSince"].is_null());

    // Healthy for good: still firing 59 seconds on, resolved at 60.
    push("healthy").await;
    evaluate(&s, after(t0, 30)).await;
    assert_eq!(evaluate(&s, after(t0, 89)).await, Evaluated::default());
    assert_eq!(evaluate(&s, after(t0, 90)).await.resolved, 1);
    let (_, resolved) = s.get(&format!("/api/v1/alerts/{id}")).await;
    assert_eq!(resolved["state"], "resolved");
    assert_eq!(resolved["endsAt"], at_ms(after(t0, 90)));
    assert!(active(&s).await.is_empty());

    // Down again later: a new episode of the same condition.
    push("unhealthy").await;
    assert_eq!(evaluate(&s, after(t0, 100)).await.fired, 1);
    let next = active(&s).await["api health ticket"].clone();
    assert_ne!(next["id"], first["id"]);
    assert_eq!(next["fingerprint"], first["fingerprint"]);
    assert_eq!(alerts(&s, "systemId=api").await.len(), 2);
}

async fn upstream_outages_inhibit_downstream_alerts_and_name_the_root(db: Db) {
    let Some(s) = start(db, |c| c.alerts_resolve_after = 0).await else {
        return;
    };
    // web -> api -> db, each with a push check, all healthy two hours ago and all down for
    // the last 10 minutes: the database took everything with it.
    let mut checks = BTreeMap::new();
    for (id, deps) in [("db", vec![]), ("api", vec!["db"]), ("web", vec!["api"])] {
        let check = system_with_check(&s, id, &deps).await;
        results(
            &s,
            &check,
            json!([{"status": "healthy", "at": minutes_ago(120)}, {"status": "unhealthy", "at": minutes_ago(10)}]),
        )
        .await;
        checks.insert(id, check);
    }
    let api = objective(
        &s,
        json!({"systemId": "api", "target": 99.9, "windowDays": 30}),
    )
    .await;
    let web = objective(
        &s,
        json!({"systemId": "web", "target": 99.9, "windowDays": 30}),
    )
    .await;
    // solo -> base: solo was down on its own for 30 minutes an hour ago, then went down with
    // base 10 minutes ago. Its own 30 minutes outweigh the upstream's 10 in every firing
    // window, so its objective pages although base alerts.
    let base_check = system_with_check(&s, "base", &[]).await;
    results(
        &s,
        &base_check,
        json!([{"status": "healthy", "at": minutes_ago(120)}, {"status": "unhealthy", "at": minutes_ago(10)}]),
    )
    .await;
    let solo_check = system_with_check(&s, "solo", &["base"]).await;
    results(
        &s,
        &solo_check,
        json!([
            {"status": "healthy", "at": minutes_ago(120)},
            {"status": "unhealthy", "at": minutes_ago(60)},
            {"status": "healthy", "at": minutes_ago(30)},
            {"status": "unhealthy", "at": minutes_ago(10)}
        ]),
    )
    .await;
    let solo = objective(
        &s,
        json!({"systemId": "solo", "target": 99.9, "windowDays": 30}),
    )
    .await;

    let t0 = Timestamp::now();
    evaluate(&s, t0).await;
    let now_active = active(&s).await;
    let db_health = &now_active["db health ticket"];
    assert_eq!(db_health["state"], "firing");
    let root = json!({
        "systemId": "db",
        "alertId": db_health["id"],
        "kind": "health",
        "severity": "ticket",
    });
    for key in [
        "api health ticket".to_owned(),
        format!("{api} burn_rate page"),
        format!("{api} burn_rate ticket"),
        "web health ticket".to_owned(),
        format!("{web} burn_rate page"),
        format!("{web} burn_rate ticket"),
    ] {
        assert_eq!(now_active[&key]["state"], "inhibited", "{key}");
        assert_eq!(
            now_active[&key]["inhibitedBy"], root,
            "{key} names the root, db"
        );
    }
    assert_eq!(now_active["base health ticket"]["state"], "firing");
    assert_eq!(
        now_active[&format!("{solo} burn_rate page")]["state"],
        "firing",
        "its own downtime dominates"
    );
    assert_eq!(now_active["solo health ticket"]["state"], "inhibited");

    // The database recovers; api stays down on its own. db's alert resolves, and api's alerts
    // fire (the same alerts, moved); web's are now inhibited by api, its new root.
    results(&s, &checks["db"], json!([{"status": "healthy"}])).await;
    evaluate(&s, after(t0, 30)).await;
    let later = active(&s).await;
    assert!(!later.contains_key("db health ticket"));
    for key in [
        "api health ticket".to_owned(),
        format!("{api} burn_rate page"),
        format!("{api} burn_rate ticket"),
    ] {
        assert_eq!(later[&key]["state"], "firing", "{key}");
        assert_eq!(
            later[&key]["id"], now_active[&key]["id"],
            "{key} moved, not refired"
        );
        assert!(later[&key]["inhibitedBy"].is_null());
    }
    let web_page = &later[&format!("{web} burn_rate page")];
    assert_eq!(web_page["state"], "inhibited");
    assert_eq!(web_page["inhibitedBy"]["systemId"], "api");
    assert_eq!(
        web_page["inhibitedBy"]["alertId"],
        later[&format!("{api} burn_rate page")]["id"],
        "api's page explains web's best"
    );
    assert_eq!(
        later["web health ticket"]["inhibitedBy"]["alertId"],
        later["api health ticket"]["id"]
    );
}

async fn maintenance_and_silences_mute_and_end_on_time(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let check = system_with_check(&s, "batch", &[]).await;
    results(&s, &check, json!([{"status": "unhealthy"}])).await;
    let (_, window) = s
        .post(
            "/api/v1/maintenances",
            json!({"systemIds": ["batch"], "title": "disk swap", "startAt": minutes_ago(5), "endAt": minutes_ago(-30)}),
        )
        .await;
    let t0 = Timestamp::now();
    evaluate(&s, t0).await;
    let alert = active(&s).await["batch health ticket"].clone();
    assert_eq!(alert["state"], "silenced");
    assert_eq!(
        alert["silencedBy"],
        json!({"type": "maintenance", "id": window["id"]})
    );
    // The window ends 30 minutes after t0.
    evaluate(&s, after(t0, 31 * 60)).await;
    let alert = active(&s).await["batch health ticket"].clone();
    assert_eq!(alert["state"], "firing");
    assert!(alert["silencedBy"].is_null());

    // A silence by a token named ops-bot, until an hour after t0.
    let tokens = slod::tokens::Tokens::new(Core::of(&s.state));
    let (_, secret) = tokens
        .create("ops-bot", slod_store::Scope::Manage)
        .await
        .unwrap();
    let until = after(t0, 3600).to_string();
    let (status, silence) = s
        .call_as(
            Some(&secret),
            reqwest::Method::POST,
            "/api/v1/silences",
            Some(json!({"systemIds": ["batch"], "kinds": ["health"], "until": until, "reason": "migrating the queue"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{silence}");
    assert_eq!(silence["createdBy"], "ops-bot");
    assert_eq!(silence["status"], "active");
    evaluate(&s, after(t0, 32 * 60)).await;
    let alert = active(&s).await["batch health ticket"].clone();
    assert_eq!(alert["state"], "silenced");
    assert_eq!(
        alert["silencedBy"],
        json!({"type": "silence", "id": silence["id"]})
    );
    evaluate(&s, after(t0, 3601)).await;
    assert_eq!(active(&s).await["batch health ticket"]["state"], "firing");

    // A silence ended early.
    let (_, second) = s
        .post(
            "/api/v1/silences",
            json!({"systemIds": ["batch"], "until": after(t0, 7200).to_string(), "reason": "noise"}),
        )
        .await;
    assert_eq!(second["createdBy"], "admin");
    evaluate(&s, after(t0, 3602)).await;
    assert_eq!(active(&s).await["batch health ticket"]["state"], "silenced");
    let id = second["id"].as_str().unwrap();
    let (status, ended) = s.delete(&format!("/api/v1/silences/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ended["status"], "ended");
    assert!(ended["endedAt"].is_string());
    evaluate(&s, after(t0, 3603)).await;
    assert_eq!(active(&s).await["batch health ticket"]["state"], "firing");
    let (_, listed) = s.get("/api/v1/silences").await;
    assert_eq!(listed["silences"].as_array().unwrap().len(), 2);
    assert_eq!(s.get(&format!("/api/v1/silences/{id}")).await.1, ended);
}

async fn two_replicas_record_each_transition_once(db: Db) {
    // Replicas share a Redis cache, as they must (a memory cache per replica would serve each
    // its own stale statuses).
    let Some(redis) = redis_url() else {
        return;
    };
    let namespace = format!("alerts-{}", uuid::Uuid::new_v4().simple());
    let shared = |c: &mut slod::Config| {
        c.cache = redis.clone();
        c.cache_namespace = namespace.clone();
    };
    let Some(a) = start(db, shared).await else {
        return;
    };
    let b = replica_of(&a, shared).await;
    for id in ["one", "two", "three"] {
        let check = system_with_check(&a, id, &[]).await;
        results(
            &a,
            &check,
            json!([{"status": "healthy", "at": minutes_ago(60)}, {"status": "unhealthy", "at": minutes_ago(10)}]),
        )
        .await;
        objective(
            &a,
            json!({"systemId": id, "target": 99.9, "windowDays": 30}),
        )
        .await;
    }
    // Each system: health, burn_rate page and ticket.
    let t0 = Timestamp::now();
    let (x, y) = tokio::join!(evaluate(&a, t0), evaluate(&b, t0));
    assert_eq!(x.fired + y.fired, 9, "{x:?} {y:?}");
    let (x, y) = tokio::join!(evaluate(&a, after(t0, 1)), evaluate(&b, after(t0, 1)));
    assert_eq!((x, y), (Evaluated::default(), Evaluated::default()));
    assert_eq!(alerts(&a, "").await.len(), 9);
    assert_eq!(alerts(&b, "").await.len(), 9);

    // Everything recovers and the objectives loosen: every alert lapses once and resolves once.
    for id in ["one", "two", "three"] {
        let (_, checks) = a.get(&format!("/api/v1/systems/{id}/checks")).await;
        results(
            &a,
            checks[0]["id"].as_str().unwrap(),
            json!([{"status": "healthy"}]),
        )
        .await;
        let (_, objectives) = a.get(&format!("/api/v1/systems/{id}/objectives")).await;
        let objective = objectives[0]["objective"]["id"].as_str().unwrap();
        a.patch(
            &format!("/api/v1/objectives/{objective}"),
            json!({"target": 50}),
        )
        .await;
    }
    let t1 = after(t0, 10);
    let (x, y) = tokio::join!(evaluate(&a, t1), evaluate(&b, t1));
    assert_eq!(x.moved + y.moved, 9, "{x:?} {y:?}");
    let t2 = after(t1, 300);
    let (x, y) = tokio::join!(evaluate(&a, t2), evaluate(&b, t2));
    assert_eq!(x.resolved + y.resolved, 9, "{x:?} {y:?}");
    let all = alerts(&b, "").await;
    assert_eq!(all.len(), 9);
    assert!(all.iter().all(|a| a["state"] == "resolved"
        && a["endsAt"] == at_ms(t2)
        && a["conditionFalseSince"] == at_ms(t1)));
}

async fn bad_silences_are_refused_and_change_nothing(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    system_with_check(&s, "api", &[]).await;
    let future = minutes_ago(-60);
    let cases = [
        (
            json!({"systemIds": ["api"], "kinds": ["latency"], "until": future, "reason": "x"}),
            "kinds[0]",
        ),
        (
            json!({"systemIds": ["api"], "until": minutes_ago(1), "reason": "x"}),
            "until",
        ),
        (
            json!({"systemIds": ["api"], "until": "tomorrow", "reason": "x"}),
            "until",
        ),
        (
            json!({"systemIds": ["nope"], "until": future, "reason": "x"}),
            "systemIds",
        ),
        (
            json!({"systemIds": ["Not An Id"], "until": future, "reason": "x"}),
            "systemIds",
        ),
        (
            json!({"objectiveIds": ["0e0d3f0c-8b8b-4a4a-9c9c-123456789abc"], "until": future, "reason": "x"}),
            "objectiveIds",
        ),
        (
            json!({"until": future, "reason": "everything"}),
            "systemIds",
        ),
        (
            json!({"systemIds": ["api"], "until": future, "reason": " "}),
            "reason",
        ),
        (json!({"systemIds": ["api"], "until": future}), "reason"),
        (
            json!({"systemIds": ["api"], "until": minutes_ago(-60 * 24 * 400), "reason": "x"}),
            "until",
        ),
        (
            json!({"systemIds": ["api"], "until": future, "reason": "x", "matchers": []}),
            "matchers",
        ),
    ];
    for (body, field) in cases {
        let (status, error) = s.post("/api/v1/silences", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {error}");
        assert_eq!(code(&error), "invalid_input", "{body}: {error}");
        let fields: Vec<&str> = error["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{body}: {error}");
    }
    let (_, listed) = s.get("/api/v1/silences").await;
    assert_eq!(listed["silences"], json!([]), "nothing stored");

    for query in [
        "state=burning",
        "kind=latency",
        "systemId=Not%20An%20Id",
        "objectiveId=x",
    ] {
        let (status, error) = s.get(&format!("/api/v1/alerts?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {error}");
        let field = query.split('=').next().unwrap();
        assert_eq!(
            error["error"]["details"][0]["field"], field,
            "{query}: {error}"
        );
    }
    for path in [
        "/api/v1/alerts/not-an-id",
        "/api/v1/alerts/0e0d3f0c-8b8b-4a4a-9c9c-123456789abc",
        "/api/v1/silences/0e0d3f0c-8b8b-4a4a-9c9c-123456789abc",
    ] {
        assert_eq!(s.get(path).await.0, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) = s
        .delete("/api/v1/silences/0e0d3f0c-8b8b-4a4a-9c9c-123456789abc")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = s
        .call_as(
            None,
            reqwest::Method::POST,
            "/api/v1/silences",
            Some(json!({"systemIds": ["api"], "until": future, "reason": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "silencing needs a token");
}
