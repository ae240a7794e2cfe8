//! Numbers and records that hold under real use: each case is a failure seen in other SLO and
//! uptime tools, with the right value worked out by hand in the test.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

fn budget(o: &Value) -> f64 {
    o["status"]["errorBudgetTotalMinutes"].as_f64().unwrap()
}

async fn a_target_is_used_exactly_as_given_and_a_seventh_decimal_is_refused(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    system_with_check(&s, "svc", &[]).await;
    // W * (100 - target) / 100: 5,256,000 min * 0.00001 % = 0.5256; * 0.00006 % = 3.1536;
    // 43,200 min * 0.876544 % = 378.667008.
    for (target, days, expected) in [
        (99.99999, 3650, 0.5256),
        (99.99994, 3650, 3.1536),
        (99.123456, 30, 378.667008),
    ] {
        let id = objective(
            &s,
            json!({"systemId": "svc", "target": target, "windowDays": days}),
        )
        .await;
        let (_, o) = s.get(&format!("/api/v1/objectives/{id}")).await;
        assert!(
            (budget(&o) - expected).abs() < 1e-9,
            "{target}: {}",
            budget(&o)
        );
        assert_eq!(o["objective"]["target"], json!(target), "stored as sent");
        assert!(o["status"]["burnRate"].is_number());
    }
    let before = s.snapshot().await;
    let (status, err) = s
        .post(
            "/api/v1/objectives",
            json!({"systemId": "svc", "target": 99.1234567, "windowDays": 30}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["details"][0]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("target")),
        "{err}"
    );
    assert_eq!(s.snapshot().await, before);
}

async fn calendar_windows_take_no_window_days_and_report_their_length(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    system_with_check(&s, "svc", &[]).await;
    let (status, err) = s
        .post(
            "/api/v1/objectives",
            json!({"systemId": "svc", "target": 99.9, "windowKind": "quarter", "windowDays": 1}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["details"][0]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("windowDays"))
    );
    let (status, err) = s
        .post(
            "/api/v1/objectives",
            json!({"systemId": "svc", "target": 99.9}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["details"][0]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("windowDays")),
        "a rolling window needs its days"
    );
    let id = objective(
        &s,
        json!({"systemId": "svc", "target": 99.9, "windowKind": "month", "timeZone": "UTC"}),
    )
    .await;
    let (_, o) = s.get(&format!("/api/v1/objectives/{id}")).await;
    assert_eq!(o["objective"]["windowDays"], Value::Null);
    // This month in UTC: its days, and as many minutes as days (no DST in UTC).
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let days = today.days_in_month() as u64;
    assert_eq!(o["status"]["windowDays"], json!(days));
    assert_eq!(o["status"]["windowMinutes"], json!(days * 1440));
    // Back to rolling needs days again; a calendar kind drops them.
    let (status, _) = s
        .patch(
            &format!("/api/v1/objectives/{id}"),
            json!({"windowKind": "rolling"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, o) = s
        .patch(
            &format!("/api/v1/objectives/{id}"),
            json!({"windowKind": "rolling", "windowDays": 7}),
        )
        .await;
    assert_eq!(
        (status, o["windowDays"].clone()),
        (StatusCode::OK, json!(7))
    );
    let (status, o) = s
        .patch(
            &format!("/api/v1/objectives/{id}"),
            json!({"windowKind": "week"}),
        )
        .await;
    assert_eq!(
        (status, o["windowDays"].clone()),
        (StatusCode::OK, Value::Null)
    );
}

async fn excluded_dependencies_are_system_ids_stored_as_a_list(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    system_with_check(&s, "db", &[]).await;
    system_with_check(&s, "cache", &[]).await;
    system_with_check(&s, "svc", &["db", "cache"]).await;
    for bad in [
        json!(["db,cache", ""]),
        json!(["db,cache"]),
        json!([""]),
        json!(["DB"]),
    ] {
        let (status, err) = s
            .post("/api/v1/objectives", json!({"systemId": "svc", "target": 99.0, "windowDays": 7, "excludedDependencyIds": bad}))
            .await;
        assert_eq!(
            (status, err["error"]["details"][0]["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("excludedDependencyIds")),
            "{bad}: {err}"
        );
    }
    let id = objective(&s, json!({"systemId": "svc", "target": 99.0, "windowDays": 7, "excludedDependencyIds": ["db", "cache"]})).await;
    let (_, o) = s.get(&format!("/api/v1/objectives/{id}")).await;
    assert_eq!(
        o["objective"]["excludedDependencyIds"],
        json!(["db", "cache"])
    );
}

fn consumed(o: &Value) -> f64 {
    o["status"]["errorBudgetConsumedMinutes"].as_f64().unwrap()
}

/// Check A recorded an outage that ended 5 minutes ago; then check B's agent back-fills a
/// 20-minute outage from 40 to 20 minutes ago. The system was down 40..20 and 10..5 minutes
/// ago: 25 minutes, and B's own objective 20.
async fn a_backfilled_outage_on_one_check_never_erases_or_shrinks(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let a = system_with_check(&s, "svc", &[]).await;
    let (_, b) = s
        .post(
            "/api/v1/systems/svc/checks",
            json!({"name": "b", "kind": "push"}),
        )
        .await;
    let b = b["id"].as_str().unwrap().to_owned();
    let system = objective(
        &s,
        json!({"systemId": "svc", "target": 99.0, "windowDays": 1}),
    )
    .await;
    let only_b = objective(
        &s,
        json!({"systemId": "svc", "healthCheckId": b, "target": 99.0, "windowDays": 1}),
    )
    .await;
    results(
        &s,
        &a,
        json!([
            {"status": "healthy", "at": minutes_ago(120)},
            {"status": "unhealthy", "at": minutes_ago(10)},
            {"status": "healthy", "at": minutes_ago(5)}
        ]),
    )
    .await;
    results(
        &s,
        &b,
        json!([
            {"status": "healthy", "at": minutes_ago(120)},
            {"status": "unhealthy", "at": minutes_ago(40)},
            {"status": "healthy", "at": minutes_ago(20)}
        ]),
    )
    .await;
    let (_, o) = s.get(&format!("/api/v1/objectives/{system}")).await;
    assert!(
        close(&o["status"]["errorBudgetConsumedMinutes"], 25.0),
        "{}",
        consumed(&o)
    );
    let (_, o) = s.get(&format!("/api/v1/objectives/{only_b}")).await;
    assert!(
        close(&o["status"]["errorBudgetConsumedMinutes"], 20.0),
        "{}",
        consumed(&o)
    );
    let (_, events) = s
        .get(&format!("/api/v1/objectives/{system}/downtime"))
        .await;
    let spans: Vec<f64> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["durationSeconds"].as_f64().unwrap())
        .collect();
    assert_eq!(spans.len(), 2, "{events}");
    assert!(
        (spans[0] - 300.0).abs() < 1.0 && (spans[1] - 1200.0).abs() < 1.0,
        "{spans:?}"
    );
    // A late result inside an outage the system already has changes nothing.
    results(&s, &b, json!([{"status": "unhealthy", "at": minutes_ago(4)}, {"status": "healthy", "at": minutes_ago(3)}])).await;
    let (_, o) = s.get(&format!("/api/v1/objectives/{system}")).await;
    assert!(
        close(&o["status"]["errorBudgetConsumedMinutes"], 26.0),
        "{}",
        consumed(&o)
    );
}

/// A system whose only failing check is deleted (or disabled) is unknown from then on: nobody
/// watches it, so its open outage ends at that instant instead of burning forever.
async fn removing_the_only_failing_check_ends_the_outage(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    for removal in ["delete", "disable"] {
        let id = format!("svc-{removal}");
        let check = system_with_check(&s, &id, &[]).await;
        let objective =
            objective(&s, json!({"systemId": id, "target": 99.0, "windowDays": 1})).await;
        results(&s, &check, json!([{"status": "healthy", "at": minutes_ago(60)}, {"status": "unhealthy", "at": minutes_ago(30)}])).await;
        let mut events = Events::open(&s, &format!("?systemId={id}")).await;
        let (status, _) = match removal {
            "delete" => s.delete(&format!("/api/v1/checks/{check}")).await,
            _ => {
                s.patch(
                    &format!("/api/v1/checks/{check}"),
                    json!({"enabled": false}),
                )
                .await
            }
        };
        assert!(status.is_success());
        let health = events.until(|n, _| n == "health.changed").await;
        assert_eq!(health["status"], "unknown", "{removal}");
        let (_, h) = s.get(&format!("/api/v1/systems/{id}/health")).await;
        assert_eq!(h["status"], "unknown");
        let (_, first) = s.get(&format!("/api/v1/objectives/{objective}")).await;
        assert!(
            close(&first["status"]["errorBudgetConsumedMinutes"], 30.0),
            "{removal}: {}",
            consumed(&first)
        );
        assert_eq!(first["status"]["hasOpenDowntime"], false);
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let (_, later) = s.get(&format!("/api/v1/objectives/{objective}")).await;
        assert_eq!(
            consumed(&later),
            consumed(&first),
            "{removal}: the budget stopped burning"
        );
    }
}

/// The input edges of the reports: a full batch (1,000 results with 1,000-character messages,
/// both within the documented limits) is accepted; a far-future or malformed time, and every
/// other mistake, is refused in the API's own words, naming the field.
async fn input_edges_within_the_limits_pass_and_mistakes_are_named_in_our_words(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let check = system_with_check(&s, "svc", &[]).await;
    let message = "m".repeat(1000);
    let batch: Vec<Value> = (0..1000)
        .map(|i| json!({"status": "healthy", "at": minutes_ago(2000 - i), "message": message}))
        .collect();
    let body = json!({ "results": batch });
    assert!(
        body.to_string().len() > 1024 * 1024,
        "the body the report sent: over 1 MiB"
    );
    let (status, accepted) = s
        .post(&format!("/api/v1/checks/{check}/results"), body)
        .await;
    assert_eq!(
        (status, accepted["accepted"].clone()),
        (StatusCode::ACCEPTED, json!(1000)),
        "{accepted}"
    );

    let results = format!("/api/v1/checks/{check}/results");
    let jargon = [
        "invalid type",
        "variant",
        "u32",
        "u64",
        "f64",
        "EOF",
        "parse",
        "overflow",
        "Unix timestamp",
        "digit",
    ];
    for (path, body, field) in [
        (
            results.as_str(),
            json!({"status": "healthy", "at": "9999-12-31T23:59:59Z"}),
            "at",
        ),
        (
            results.as_str(),
            json!({"status": "healthy", "at": "not a time"}),
            "at",
        ),
        (
            results.as_str(),
            json!({"results": [{"status": "healthy", "at": "x"}]}),
            "results[0].at",
        ),
        (results.as_str(), json!({"status": "sideways"}), "status"),
        (
            results.as_str(),
            json!({"status": "healthy", "latencyMs": "x"}),
            "latencyMs",
        ),
        (results.as_str(), json!({"latencyMs": 1}), "status"),
        ("/api/v1/systems", json!({"name": 42}), "name"),
        (
            "/api/v1/systems",
            json!({"name": "x", "colour": "red"}),
            "colour",
        ),
        ("/api/v1/systems", json!({}), "name"),
        (
            "/api/v1/objectives",
            json!({"systemId": "svc", "target": 99, "windowDays": -3}),
            "windowDays",
        ),
        (
            "/api/v1/objectives",
            json!({"systemId": "svc", "target": 99, "windowKind": "yearly"}),
            "windowKind",
        ),
    ] {
        let (status, err) = s.post(path, body.clone()).await;
        let detail = &err["error"]["details"][0];
        assert_eq!(
            (status, detail["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{body}: {err}"
        );
        let words = detail["message"].as_str().unwrap();
        assert!(
            !jargon.iter().any(|j| words.contains(j)),
            "{body}: {words:?} is not in the API's words"
        );
    }
    let (status, err) = s.get(&format!("{results}?from=yesterday")).await;
    assert_eq!(
        (status, err["error"]["details"][0]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("from")),
        "a query parameter is named too: {err}"
    );
    let (status, err) = s
        .post_raw("/api/v1/systems", Some("application/json"), "{\"name\": ")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("the body is not valid JSON"),
        "{err}"
    );
}

on_both!(
    input_edges_within_the_limits_pass_and_mistakes_are_named_in_our_words,
    a_backfilled_outage_on_one_check_never_erases_or_shrinks,
    removing_the_only_failing_check_ends_the_outage,
    a_target_is_used_exactly_as_given_and_a_seventh_decimal_is_refused,
    calendar_windows_take_no_window_days_and_report_their_length,
    excluded_dependencies_are_system_ids_stored_as_a_list,
);
