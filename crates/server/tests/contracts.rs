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

async fn an_empty_cursor_is_the_first_page_on_every_list(db: Db) {
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
    }
}

on_both!(
    bodies_of_the_wrong_shape_are_refused_and_change_nothing,
    integers_accept_integral_numbers_and_refuse_fractions,
    an_empty_cursor_is_the_first_page_on_every_list,
);
