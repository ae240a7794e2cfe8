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

on_both!(
    a_target_is_used_exactly_as_given_and_a_seventh_decimal_is_refused,
    calendar_windows_take_no_window_days_and_report_their_length,
    excluded_dependencies_are_system_ids_stored_as_a_list,
);
