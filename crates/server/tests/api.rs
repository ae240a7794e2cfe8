//! The HTTP API end to end: the real router on an ephemeral port, every route, every error code,
//! token scopes, and that bad requests change nothing. Each case runs on SQLite and PostgreSQL.

use crate::support::{code, start, Db, ADMIN};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::Db::Sqlite).await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::Db::Postgres).await } )* }
    };
}

on_both!(
    systems_lifecycle,
    systems_list_pages,
    dependencies_unknown_and_cycles,
    checks_lifecycle_and_target_rules,
    results_move_health_with_backfill,
    results_single_batch_and_listing,
    every_error_code_and_nothing_changes,
    token_scopes,
    operations_endpoints,
);

async fn systems_lifecycle(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let (status, db_sys) = s
        .post("/api/v1/systems", json!({"id": "db", "name": "Database"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{db_sys}");
    assert_eq!(
        db_sys["description"],
        Value::Null,
        "absent values are null, not omitted"
    );
    let (status, api) = s
        .post(
            "/api/v1/systems",
            json!({"id": "api", "name": " API ", "description": "REST", "dependsOn": ["db"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        (api["name"].as_str(), api["dependsOn"].clone()),
        (Some("API"), json!(["db"]))
    );
    let (status, generated) = s.post("/api/v1/systems", json!({"name": "No id"})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(generated["id"].as_str().unwrap().len(), 36);

    let (status, body) = s
        .post("/api/v1/systems", json!({"id": "db", "name": "again"}))
        .await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "conflict"));

    assert_eq!(
        s.get("/api/v1/systems/api").await,
        (StatusCode::OK, api.clone())
    );
    let (status, patched) = s
        .patch("/api/v1/systems/api", json!({"description": null}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            patched["description"].clone(),
            patched["name"].clone(),
            patched["dependsOn"].clone()
        ),
        (Value::Null, json!("API"), json!(["db"]))
    );
    let (status, health) = s.get("/api/v1/systems/api/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        health,
        json!({"systemId": "api", "status": "unknown", "since": null, "checks": []})
    );

    assert_eq!(
        s.delete("/api/v1/systems/db").await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(s.get("/api/v1/systems/db").await.0, StatusCode::NOT_FOUND);
    assert_eq!(s.get("/api/v1/systems/api").await.1["dependsOn"], json!([]));
    let (status, body) = s.delete("/api/v1/systems/db").await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    assert_eq!(
        s.get("/api/v1/systems/db/health").await.0,
        StatusCode::NOT_FOUND
    );
}

async fn systems_list_pages(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    for i in 0..5 {
        s.post(
            "/api/v1/systems",
            json!({"id": format!("sys-{i}"), "name": format!("S{i}")}),
        )
        .await;
    }
    let (_, first) = s.get("/api/v1/systems?limit=2").await;
    assert_eq!(first["systems"].as_array().unwrap().len(), 2);
    let mut ids: Vec<String> = first["systems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    let mut cursor = first["nextCursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let (status, page) = s.get(&format!("/api/v1/systems?limit=2&cursor={c}")).await;
        assert_eq!(status, StatusCode::OK);
        ids.extend(
            page["systems"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_owned()),
        );
        cursor = page["nextCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(ids, ["sys-0", "sys-1", "sys-2", "sys-3", "sys-4"]);
    let (_, all) = s.get("/api/v1/systems").await;
    assert_eq!(all["nextCursor"], Value::Null);
    for bad in ["limit=0", "limit=1001", "limit=abc", "cursor=zz"] {
        let (status, body) = s.get(&format!("/api/v1/systems?{bad}")).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_input"),
            "{bad}"
        );
    }
}

async fn dependencies_unknown_and_cycles(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    s.post("/api/v1/systems", json!({"id": "a", "name": "A"}))
        .await;
    s.post(
        "/api/v1/systems",
        json!({"id": "b", "name": "B", "dependsOn": ["a"]}),
    )
    .await;
    let (status, body) = s
        .post(
            "/api/v1/systems",
            json!({"id": "c", "name": "C", "dependsOn": ["ghost"]}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );
    assert_eq!(body["error"]["details"][0]["field"], "dependsOn");
    let (status, body) = s
        .patch("/api/v1/systems/a", json!({"dependsOn": ["b"]}))
        .await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "conflict"));
    assert_eq!(s.get("/api/v1/systems/a").await.1["dependsOn"], json!([]));
    assert_eq!(s.get("/api/v1/systems/c").await.0, StatusCode::NOT_FOUND);
}

async fn checks_lifecycle_and_target_rules(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    s.post("/api/v1/systems", json!({"id": "web", "name": "Web"}))
        .await;
    let (status, push) = s
        .post(
            "/api/v1/systems/web/checks",
            json!({"name": "agent", "kind": "push"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{push}");
    assert_eq!(
        (
            push["intervalSeconds"].clone(),
            push["timeoutMs"].clone(),
            push["expectStatus"].clone(),
            push["enabled"].clone()
        ),
        (json!(60), json!(5000), json!([200, 299]), json!(true))
    );
    let (status, http) = s.post("/api/v1/systems/web/checks", json!({"name": "home", "kind": "http", "target": "https://example.test/health", "expectStatus": [200, 204]})).await;
    assert_eq!(status, StatusCode::CREATED, "{http}");
    let (status, _) = s.post("/api/v1/systems/web/checks", json!({"name": "port", "kind": "tcp", "target": "db.internal:5432", "intervalSeconds": 30})).await;
    assert_eq!(status, StatusCode::CREATED);

    for (body, field) in [
        (json!({"name": "x", "kind": "http"}), "target"),
        (
            json!({"name": "x", "kind": "http", "target": "ftp://x"}),
            "target",
        ),
        (
            json!({"name": "x", "kind": "tcp", "target": "nohost"}),
            "target",
        ),
        (
            json!({"name": "x", "kind": "tcp", "target": "h:70000"}),
            "target",
        ),
        (
            json!({"name": "x", "kind": "push", "target": "http://x"}),
            "target",
        ),
        (
            json!({"name": "x", "kind": "push", "intervalSeconds": 1}),
            "intervalSeconds",
        ),
        (
            json!({"name": "x", "kind": "push", "timeoutMs": 60001}),
            "timeoutMs",
        ),
        (
            json!({"name": "x", "kind": "push", "expectStatus": [300, 200]}),
            "expectStatus",
        ),
        (json!({"name": "  ", "kind": "push"}), "name"),
    ] {
        let (status, err) = s.post("/api/v1/systems/web/checks", body.clone()).await;
        assert_eq!(
            (status, code(&err)),
            (StatusCode::BAD_REQUEST, "invalid_input"),
            "{body}"
        );
        assert_eq!(err["error"]["details"][0]["field"], field, "{body}");
    }
    let (status, err) = s
        .post(
            "/api/v1/systems/web/checks",
            json!({"name": "x", "kind": "smoke-signal"}),
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );
    assert_eq!(
        s.post(
            "/api/v1/systems/ghost/checks",
            json!({"name": "x", "kind": "push"})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );

    let (_, list) = s.get("/api/v1/systems/web/checks").await;
    assert_eq!(list.as_array().unwrap().len(), 3);
    let id = http["id"].as_str().unwrap();
    let (status, patched) = s
        .patch(
            &format!("/api/v1/checks/{id}"),
            json!({"enabled": false, "timeoutMs": 800}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            patched["enabled"].clone(),
            patched["timeoutMs"].clone(),
            patched["target"].clone()
        ),
        (
            json!(false),
            json!(800),
            json!("https://example.test/health")
        )
    );
    let (status, err) = s
        .patch(&format!("/api/v1/checks/{id}"), json!({"kind": "tcp"}))
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::BAD_REQUEST, "invalid_input"),
        "the kind cannot change"
    );
    assert_eq!(
        s.delete(&format!("/api/v1/checks/{id}")).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.delete(&format!("/api/v1/checks/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.patch(&format!("/api/v1/checks/{id}"), json!({})).await.0,
        StatusCode::NOT_FOUND
    );
}

fn minutes_ago(m: i64) -> String {
    jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_mins(m))
        .unwrap()
        .to_string()
}

async fn push_check(s: &crate::support::TestServer, system: &str) -> String {
    s.post("/api/v1/systems", json!({"id": system, "name": system}))
        .await;
    let (_, check) = s
        .post(
            &format!("/api/v1/systems/{system}/checks"),
            json!({"name": "agent", "kind": "push"}),
        )
        .await;
    check["id"].as_str().unwrap().to_owned()
}

async fn results_move_health_with_backfill(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let check = push_check(&s, "pay").await;
    let batch = json!({"results": [
        {"status": "healthy", "at": minutes_ago(180)},
        {"status": "unhealthy", "at": minutes_ago(120), "latencyMs": 3000, "message": "timeout"},
        {"status": "healthy", "at": minutes_ago(60)},
    ]});
    let (status, body) = s
        .post(&format!("/api/v1/checks/{check}/results"), batch)
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::ACCEPTED, json!({"accepted": 3}))
    );
    let (_, health) = s.get("/api/v1/systems/pay/health").await;
    assert_eq!(health["status"], "healthy");
    let down = s
        .state
        .store
        .down_intervals("pay", None, jiff::Timestamp::UNIX_EPOCH)
        .await
        .unwrap();
    assert_eq!(down.len(), 1);
    let minutes = down[0].end.unwrap().duration_since(down[0].start).as_secs() / 60;
    assert_eq!(
        minutes, 60,
        "a 60-minute down interval at the results' own times"
    );

    let (status, body) = s
        .post(
            &format!("/api/v1/checks/{check}/results"),
            json!({"status": "degraded", "at": minutes_ago(90)}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "conflict"),
        "older than the latest result"
    );
    let (status, _) = s
        .post(
            &format!("/api/v1/checks/{check}/results"),
            json!({"status": "degraded"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        s.get("/api/v1/systems/pay/health").await.1["status"],
        "degraded"
    );
}

async fn results_single_batch_and_listing(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let check = push_check(&s, "svc").await;
    let path = format!("/api/v1/checks/{check}/results");
    for m in [50, 40, 30, 20, 10] {
        let (status, _) = s
            .post(
                &path,
                json!({"status": "healthy", "at": minutes_ago(m), "latencyMs": 1.5}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let (_, all) = s.get(&path).await;
    let results = all["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    assert!(
        results[0]["at"].as_str() > results[4]["at"].as_str(),
        "newest first"
    );
    assert_eq!(results[0]["latencyMs"], 1.5);
    let (_, limited) = s.get(&format!("{path}?limit=2")).await;
    assert_eq!(limited["results"].as_array().unwrap().len(), 2);
    let (_, windowed) = s
        .get(&format!(
            "{path}?from={}&to={}",
            minutes_ago(45),
            minutes_ago(25)
        ))
        .await;
    assert_eq!(windowed["results"].as_array().unwrap().len(), 2);
    let (status, _) = s.get(&format!("{path}?from=yesterday")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let too_many: Vec<Value> = (0..1001).map(|_| json!({"status": "healthy"})).collect();
    let (status, body) = s.post(&path, json!({"results": too_many})).await;
    assert_eq!(
        (status, body["error"]["details"][0]["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("results"))
    );
    let (status, _) = s.post(&path, json!({"results": []})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        s.get("/api/v1/checks/ghost/results").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.post("/api/v1/checks/ghost/results", json!({"status": "healthy"}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

async fn every_error_code_and_nothing_changes(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let check = push_check(&s, "base").await;
    s.post(
        &format!("/api/v1/checks/{check}/results"),
        json!({"status": "healthy", "at": minutes_ago(5)}),
    )
    .await;
    let before = s.snapshot().await;
    let results = format!("/api/v1/checks/{check}/results");

    // 400: malformed JSON, wrong types, unknown fields, out-of-range values.
    for (path, body) in [
        ("/api/v1/systems", "{\"name\": "),
        ("/api/v1/systems", "[1, 2]"),
        ("/api/v1/systems", "{\"name\": 42}"),
        ("/api/v1/systems", "{\"name\": \"x\", \"colour\": \"red\"}"),
        ("/api/v1/systems", "{\"id\": \"Bad Id\", \"name\": \"x\"}"),
        ("/api/v1/systems", "{\"name\": \"\"}"),
        (&results, "{\"status\": \"sideways\"}"),
        (&results, "{\"status\": \"healthy\", \"latencyMs\": -1}"),
        (&results, "{\"status\": \"healthy\", \"at\": \"not a time\"}"),
        (&results, "{\"results\": [{\"status\": \"healthy\"}], \"extra\": 1}"),
        (&results, "{\"results\": [{\"status\": \"healthy\"}, {\"status\": \"unhealthy\", \"at\": \"2000-01-01T00:00:00Z\"}]}"),
    ] {
        let (status, err) = s.post_raw(path, Some("application/json"), body.to_owned()).await;
        let expected = if body.contains("2000-01-01") { (StatusCode::CONFLICT, "conflict") } else { (StatusCode::BAD_REQUEST, "invalid_input") };
        assert_eq!((status, code(&err)), expected, "{body} -> {err}");
        assert!(err["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(err["error"]["details"].is_array());
    }
    let (status, err) = s.patch("/api/v1/systems/base", json!({"name": 7})).await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );
    // 415: no JSON content type. 413: body over 2 MiB.
    let (status, err) = s
        .post_raw("/api/v1/systems", Some("text/plain"), "{\"name\": \"x\"}")
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    let (status, err) = s
        .post_raw("/api/v1/systems", None, "{\"name\": \"x\"}")
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024 + 10));
    let (status, err) = s
        .post_raw("/api/v1/systems", Some("application/json"), huge)
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    // 404: unknown route and unknown entities. 405: wrong method.
    assert_eq!(code(&s.get("/api/v1/nothing-here").await.1), "not_found");
    assert_eq!(
        code(
            &s.patch("/api/v1/systems/ghost", json!({"name": "x"}))
                .await
                .1
        ),
        "not_found"
    );
    let (status, err) = s
        .call(Method::PUT, "/api/v1/systems", Some(json!({})))
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    // 401 / 403 on writes.
    let (status, err) = s
        .call_as(
            None,
            Method::POST,
            "/api/v1/systems",
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let (status, err) = s
        .call_as(Some("wrong"), Method::DELETE, "/api/v1/systems/base", None)
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );

    assert_eq!(
        s.snapshot().await,
        before,
        "no rejected request changed anything"
    );
}

/// (token, method, path, body, expected status)
type Case<'a> = (Option<&'a str>, Method, &'a str, Option<Value>, StatusCode);

async fn token_scopes(db: Db) {
    let Some(s) = start(db, |c| c.public_read = false).await else {
        return;
    };
    let check = push_check(&s, "scoped").await;
    let mint = |scope: slod_store::Scope| {
        let tokens = slod::tokens::Tokens::new(slod::state::Core::of(&s.state));
        async move { tokens.create("t", scope).await.unwrap().1 }
    };
    let read = mint(slod_store::Scope::Read).await;
    let ingest = mint(slod_store::Scope::Ingest).await;
    let manage = mint(slod_store::Scope::Manage).await;
    let results = format!("/api/v1/checks/{check}/results");
    let result = || Some(json!({"status": "healthy"}));
    let create = || Some(json!({"name": "n"}));

    let cases: [Case<'_>; 12] = [
        (
            None,
            Method::GET,
            "/api/v1/systems",
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            Some("slod_unknown"),
            Method::GET,
            "/api/v1/systems",
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            Some(&read),
            Method::GET,
            "/api/v1/systems",
            None,
            StatusCode::OK,
        ),
        (
            Some(&read),
            Method::POST,
            "/api/v1/systems",
            create(),
            StatusCode::FORBIDDEN,
        ),
        (
            Some(&read),
            Method::POST,
            &results,
            result(),
            StatusCode::FORBIDDEN,
        ),
        (
            Some(&ingest),
            Method::POST,
            &results,
            result(),
            StatusCode::ACCEPTED,
        ),
        (
            Some(&ingest),
            Method::GET,
            "/api/v1/systems",
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            Some(&ingest),
            Method::POST,
            "/api/v1/systems",
            create(),
            StatusCode::FORBIDDEN,
        ),
        (Some(&manage), Method::GET, &results, None, StatusCode::OK),
        (
            Some(&manage),
            Method::POST,
            &results,
            result(),
            StatusCode::ACCEPTED,
        ),
        (
            Some(&manage),
            Method::POST,
            "/api/v1/systems",
            create(),
            StatusCode::CREATED,
        ),
        (
            Some(ADMIN),
            Method::GET,
            "/api/v1/systems/scoped",
            None,
            StatusCode::OK,
        ),
    ];
    for (token, method, path, body, expected) in cases {
        let (status, answer) = s.call_as(token, method.clone(), path, body).await;
        assert_eq!(status, expected, "{token:?} {method} {path}: {answer}");
        if status == StatusCode::FORBIDDEN {
            assert_eq!(code(&answer), "forbidden");
        }
    }
    slod::tokens::Tokens::new(slod::state::Core::of(&s.state))
        .revoke("t")
        .await
        .unwrap();
    assert_eq!(
        s.call_as(Some(&manage), Method::GET, "/api/v1/systems", None)
            .await
            .0,
        StatusCode::UNAUTHORIZED,
        "revoked"
    );
}

async fn operations_endpoints(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    assert_eq!(
        s.get("/healthz").await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
    let page = s.client.get(format!("{}/", s.base)).send().await.unwrap();
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("/assets/app.js") && html.contains("/assets/vendor/uPlot.iife.min.js"),
        "the page loads its script and the charting library from the binary"
    );
    let app = s
        .client
        .get(format!("{}/assets/app.js", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        app.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let html = app.text().await.unwrap();
    assert!(
        html.contains("new EventSource(\"/api/v1/signals\"")
            && html.contains("/objectives/bulk-status")
            && html.contains("/incidents?status=open")
            && html.contains("maintenance.changed")
            && html.contains("/budget-history?points=")
            && html.contains("/alerts?state=firing"),
        "the dashboard reads the live API"
    );
    for vendored in [
        "vendor/uPlot.iife.min.js",
        "vendor/uPlot.min.css",
        "vendor/uPlot.LICENSE",
        "style.css",
    ] {
        let r = s
            .client
            .get(format!("{}/assets/{vendored}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{vendored}");
    }
    let (status, missing) = s.get("/assets/nothing.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["error"]["code"], "not_found");
    // The page does not list the signals it refreshes on: the catalogue fills them in.
    let asset = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/http/assets/app.js"
    ))
    .unwrap();
    assert!(asset.contains("const SIGNALS = /*SIGNALS*/[];"));
    assert!(!html.contains("/*SIGNALS*/"), "filled in when served");
    for name in slod::signals::Signal::NAMES {
        // The digest and notification settings and deliveries change nothing a dashboard shows.
        let shown = !matches!(name, "slo.digest" | "notification.changed");
        assert_eq!(
            html.contains(&format!("\"{name}\"")),
            shown,
            "the dashboard refreshes on {name}: {shown}"
        );
    }
    let (status, ready) = s.get("/readyz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        ready,
        json!({"status": "ready", "database": "ok", "cache": {"provider": "memory", "breaker": "closed"}, "signals": "local"})
    );
    s.get("/api/v1/systems").await;
    let text = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            "slod_http_requests_total{method=\"GET\",route=\"/api/v1/systems\",status=\"200\"}"
        ),
        "{text}"
    );
    assert!(text.contains("slod_http_request_duration_seconds_bucket"));
    let (status, doc) = s.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/v1/systems",
        "/api/v1/systems/{id}",
        "/api/v1/systems/{id}/health",
        "/api/v1/checks/{checkId}/results",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    let ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|p| p.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(ids.len(), unique.len(), "operation ids are unique: {ids:?}");
    assert!(doc["components"]["schemas"].get("System").is_some());
}
