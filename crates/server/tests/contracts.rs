//! The API's contract with clients nobody on the project wrote: bodies of the wrong shape are
//! refused (every body is a JSON object, nested objects too), integers accept integral numbers,
//! an empty cursor is the first page on every list. Each refusal changes nothing.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

/// Every route that takes a body, with a valid body for it.
fn bodies(check: &str, objective: &str) -> Vec<(Method, String, Value)> {
    vec![
        (
            Method::POST,
            "/api/v1/systems".into(),
            json!({"id": "web", "name": "Web shop", "description": "a description"}),
        ),
        (
            Method::PATCH,
            "/api/v1/systems/svc".into(),
            json!({"name": "Service"}),
        ),
        (
            Method::POST,
            "/api/v1/systems/svc/checks".into(),
            json!({"name": "probe", "kind": "push"}),
        ),
        (
            Method::PATCH,
            format!("/api/v1/checks/{check}"),
            json!({"name": "renamed"}),
        ),
        (
            Method::POST,
            format!("/api/v1/checks/{check}/results"),
            json!({"status": "healthy"}),
        ),
        (
            Method::POST,
            "/api/v1/objectives".into(),
            json!({"systemId": "svc", "target": 99.0, "windowDays": 7}),
        ),
        (
            Method::PATCH,
            format!("/api/v1/objectives/{objective}"),
            json!({"target": 99.5}),
        ),
        (
            Method::POST,
            "/api/v1/objectives/bulk-status".into(),
            json!({"systemIds": ["svc"]}),
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            json!({"systemIds": ["svc"], "title": "slow"}),
        ),
        (
            Method::POST,
            "/api/v1/maintenances".into(),
            json!({"systemIds": ["svc"], "title": "upgrade", "startAt": minutes_ago(10), "endAt": minutes_ago(5)}),
        ),
    ]
}

/// The same fields as an array, in order: what serde reads as the struct unless told not to.
fn as_array(body: &Value) -> Value {
    Value::Array(body.as_object().unwrap().values().cloned().collect())
}

async fn bodies_of_the_wrong_shape_are_refused_and_change_nothing(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let (check, objective) =
        watched_system(&s, "svc", json!({"target": 99.0, "windowDays": 7})).await;
    let before = s.snapshot().await;
    for (method, path, body) in bodies(&check, &objective) {
        for wrong in [
            as_array(&body),
            json!("text"),
            json!(42),
            json!(null),
            json!([]),
        ] {
            let (status, err) = s.call(method.clone(), &path, Some(wrong.clone())).await;
            assert_eq!(
                (status, code(&err)),
                (StatusCode::BAD_REQUEST, "invalid_input"),
                "{method} {path} with {wrong}: {err}"
            );
            assert!(
                err["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("JSON object"),
                "{err}"
            );
        }
    }
    // A nested object must be one too.
    let (status, err) = s
        .post(
            "/api/v1/objectives",
            json!({"systemId": "svc", "target": 99.0, "windowDays": 7, "burnRateThresholds": [50, 80, 14.4]}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["details"][0]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("burnRateThresholds")),
        "{err}"
    );
    assert_eq!(
        s.snapshot().await,
        before,
        "no refused body changed anything"
    );
}

async fn integers_accept_integral_numbers_and_refuse_fractions(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    system_with_check(&s, "svc", &[]).await;
    let (status, created) = s
        .post(
            "/api/v1/objectives",
            json!({"systemId": "svc", "target": 99.0, "windowDays": 2831.0}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["windowDays"], 2831);
    let (status, err) = s
        .post(
            "/api/v1/objectives",
            json!({"systemId": "svc", "target": 99.0, "windowDays": 30.5}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["details"][0]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("windowDays")),
        "{err}"
    );
    let (status, check) = s
        .post("/api/v1/systems/svc/checks", json!({"name": "web", "kind": "http", "target": "http://x/", "intervalSeconds": 60.0, "expectStatus": [200.0, 204]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{check}");
    assert_eq!(
        (
            check["intervalSeconds"].clone(),
            check["expectStatus"].clone()
        ),
        (json!(60), json!([200, 204]))
    );
}

async fn an_empty_cursor_is_the_first_page_and_any_hex_a_position(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    watched_system(&s, "svc", json!({"target": 99.0, "windowDays": 7})).await;
    s.post(
        "/api/v1/incidents",
        json!({"systemIds": ["svc"], "title": "slow"}),
    )
    .await;
    s.post(
        "/api/v1/maintenances",
        json!({"systemIds": ["svc"], "title": "upgrade", "startAt": minutes_ago(10), "endAt": minutes_ago(5)}),
    )
    .await;
    for list in [
        "/api/v1/systems",
        "/api/v1/objectives",
        "/api/v1/incidents",
        "/api/v1/maintenances",
    ] {
        let (status, first) = s.get(list).await;
        assert_eq!(status, StatusCode::OK);
        let (status, empty) = s.get(&format!("{list}?cursor=")).await;
        assert_eq!((status, &empty), (StatusCode::OK, &first), "{list}?cursor=");
        // Any hex is a position, also one that decodes to control characters or no UTF-8.
        for odd in ["9d1808", "14442807", "00"] {
            let (status, page) = s.get(&format!("{list}?cursor={odd}")).await;
            assert_eq!(status, StatusCode::OK, "{list}?cursor={odd}: {page}");
        }
        let (status, err) = s.get(&format!("{list}?cursor=xyz")).await;
        assert_eq!(
            (status, code(&err)),
            (StatusCode::BAD_REQUEST, "invalid_input")
        );
    }
}

on_both!(
    control_characters_are_refused_in_every_text_field,
    bodies_of_the_wrong_shape_are_refused_and_change_nothing,
    integers_accept_integral_numbers_and_refuse_fractions,
    an_empty_cursor_is_the_first_page_and_any_hex_a_position,
);

/// `/metrics` after the service did a bit of everything: every family has `# HELP` and
/// `# TYPE`, the families the operators need are there, labels come from bounded sets, and
/// Prometheus's own `promtool check metrics` finds nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_described_bounded_and_pass_promtool() {
    let s = start(Db::Sqlite, |c| {
        c.probes = true;
        c.alerts = true;
    })
    .await
    .unwrap();
    let (check, objective) =
        watched_system(&s, "svc", json!({"target": 99.0, "windowDays": 1})).await;
    s.get(&format!("/api/v1/objectives/{objective}")).await;
    s.post(
        &format!("/api/v1/checks/{check}/results"),
        json!({"status": "unhealthy"}),
    )
    .await;
    let yesterday = slod::jobs::day_of(jiff::Timestamp::now())
        .yesterday()
        .unwrap();
    slod::jobs::run_daily(&s.state, yesterday, jiff::Timestamp::now(), true)
        .await
        .unwrap();
    // A tcp probe of a port nobody listens on: it runs and fails.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    s.post(
        "/api/v1/systems/svc/checks",
        json!({"name": "port", "kind": "tcp", "target": closed.to_string(), "intervalSeconds": 5}),
    )
    .await;
    // A method nobody knows must not become a label value.
    let invented = reqwest::Method::from_bytes(b"FOOBAR").unwrap();
    s.client
        .request(invented, format!("{}/api/v1/systems", s.base))
        .send()
        .await
        .unwrap();
    let scrape = || async {
        s.client
            .get(format!("{}/metrics", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let mut text = scrape().await;
    for _ in 0..50 {
        if text.contains("slod_probes_total") && text.contains("slod_alerts_evaluation") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        text = scrape().await;
    }

    let mut described = std::collections::BTreeSet::new();
    let mut typed = std::collections::BTreeSet::new();
    let mut families = std::collections::BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            described.insert(rest.split(' ').next().unwrap().to_owned());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            typed.insert(rest.split(' ').next().unwrap().to_owned());
        } else if !line.is_empty() {
            let name = line.split(['{', ' ']).next().unwrap();
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix).filter(|f| typed.contains(*f)))
                .unwrap_or(name);
            families.insert(family.to_owned());
        }
    }
    for family in &families {
        assert!(
            described.contains(family) && typed.contains(family),
            "{family} lacks HELP or TYPE"
        );
    }
    for needed in [
        "slod_build_info",
        "slod_http_requests_total",
        "slod_engine_status_duration_seconds",
        "slod_job_runs_total",
        "slod_job_duration_seconds",
        "slod_job_last_success_timestamp_seconds",
        "slod_probes_total",
        "slod_probe_duration_seconds",
        "slod_alerts",
        "slod_alerts_evaluation_duration_seconds",
        "slod_store_transaction_duration_seconds",
        "slod_store_read_duration_seconds",
        "slod_store_pool_connections",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
    ] {
        assert!(families.contains(needed), "no {needed} in:\n{text}");
    }
    assert!(text.contains(&format!(
        "slod_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    )));
    assert!(
        !text.contains("FOOBAR") && text.contains("method=\"other\""),
        "{text}"
    );

    match std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        Ok(mut promtool) => {
            use std::io::Write;
            promtool
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            let out = promtool.wait_with_output().unwrap();
            assert!(
                out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
                "promtool check metrics:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Err(e) => {
            assert!(
                std::env::var("SLOD_REQUIRE_SERVICES").map_or(true, |v| v != "1"),
                "SLOD_REQUIRE_SERVICES=1 but promtool cannot run: {e}"
            );
            eprintln!("skipped the promtool part: {e}");
        }
    }
}

/// The document's security is what the router does: with public reads, an operation that
/// declares a token optional answers without one, any other answers 401; with public reads
/// off, only the operational routes (no security at all) answer without a token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documents_security_is_what_the_router_enforces() {
    for public_read in [true, false] {
        let s = start(Db::Sqlite, |c| c.public_read = public_read)
            .await
            .unwrap();
        let (_, doc) = s.call_as(None, Method::GET, "/openapi.json", None).await;
        let mut checked = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let security = op["security"].as_array().unwrap();
                let optional = security
                    .iter()
                    .any(|r| r.as_object().is_some_and(|o| o.is_empty()));
                let open = security.is_empty();
                let concrete = path
                    .replace("{checkId}", "00000000-0000-4000-8000-000000000000")
                    .replace(
                        "{id}",
                        if path.starts_with("/api/v1/systems") {
                            "svc"
                        } else {
                            "00000000-0000-4000-8000-000000000000"
                        },
                    );
                if concrete.ends_with("/signals") {
                    continue; // a stream; its auth is the same middleware as every read's
                }
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let body = (method != Method::GET).then(|| json!({}));
                let (status, _) = s.call_as(None, method.clone(), &concrete, body).await;
                let answers = status != StatusCode::UNAUTHORIZED;
                let expected = open || (optional && public_read);
                assert_eq!(
                    answers, expected,
                    "{method} {path} (public reads {public_read}): {status}"
                );
                checked += 1;
            }
        }
        assert!(checked > 30);
    }
}

/// No text field stores a control character (C0 or DEL; tab and line breaks only in free
/// text), on either database: PostgreSQL cannot store NUL, so SQLite must not either, and a
/// query parameter with one is a 400, never a database error.
async fn control_characters_are_refused_in_every_text_field(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let (check, objective) =
        watched_system(&s, "svc", json!({"target": 99.0, "windowDays": 7})).await;
    let with = |base: Value, field: &str, text: &str| {
        let mut body = base;
        body[field] = json!(text);
        body
    };
    let cases: Vec<(Method, String, Value, &str)> = vec![
        (
            Method::POST,
            "/api/v1/systems".into(),
            json!({"name": "ok"}),
            "name",
        ),
        (
            Method::POST,
            "/api/v1/systems".into(),
            json!({"name": "ok"}),
            "description",
        ),
        (
            Method::PATCH,
            "/api/v1/systems/svc".into(),
            json!({}),
            "name",
        ),
        (
            Method::POST,
            "/api/v1/systems/svc/checks".into(),
            json!({"name": "ok", "kind": "push"}),
            "name",
        ),
        (
            Method::POST,
            "/api/v1/systems/svc/checks".into(),
            json!({"name": "ok", "kind": "http"}),
            "target",
        ),
        (
            Method::PATCH,
            format!("/api/v1/checks/{check}"),
            json!({}),
            "name",
        ),
        (
            Method::POST,
            format!("/api/v1/checks/{check}/results"),
            json!({"status": "healthy"}),
            "message",
        ),
        (
            Method::POST,
            "/api/v1/objectives".into(),
            json!({"systemId": "svc", "target": 99, "windowDays": 7}),
            "name",
        ),
        (
            Method::PATCH,
            format!("/api/v1/objectives/{objective}"),
            json!({}),
            "name",
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            json!({"systemIds": ["svc"]}),
            "title",
        ),
        (
            Method::POST,
            "/api/v1/maintenances".into(),
            json!({"systemIds": ["svc"], "startAt": minutes_ago(10), "endAt": minutes_ago(5)}),
            "title",
        ),
    ];
    for (method, path, base, field) in cases {
        let free = matches!(field, "description" | "message");
        for bad in ["nul\u{0}here", "bell\u{7}", "del\u{7f}", "esc\u{1b}[31m"] {
            let text = if field == "target" {
                format!("http://host/{bad}")
            } else {
                bad.to_owned()
            };
            let (status, err) = s
                .call(
                    method.clone(),
                    &path,
                    Some(with(base.clone(), field, &text)),
                )
                .await;
            assert_eq!(
                (status, err["error"]["details"][0]["field"].as_str()),
                (StatusCode::BAD_REQUEST, Some(field)),
                "{method} {path} {field}={text:?}: {err}"
            );
        }
        let lines = "line one\n\tline two\r\n";
        let (status, err) = s
            .call(
                method.clone(),
                &path,
                Some(with(base.clone(), field, lines)),
            )
            .await;
        if free {
            assert!(
                status.is_success(),
                "{method} {path}: free text keeps line breaks: {err}"
            );
        } else {
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{method} {path} {field}: {err}"
            );
        }
    }
    for query in [
        "/api/v1/incidents?systemId=a%00b",
        "/api/v1/maintenances?systemId=a%00b",
    ] {
        let (status, err) = s.get(query).await;
        assert_eq!(
            (status, code(&err)),
            (StatusCode::BAD_REQUEST, "invalid_input"),
            "{query}"
        );
    }
    // Only the two free-text successes above changed anything.
    let (_, systems) = s.get("/api/v1/systems").await;
    assert_eq!(
        systems["systems"].as_array().unwrap().len(),
        2,
        "the svc and the one with a description"
    );
}
