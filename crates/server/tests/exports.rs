//! SLO data where teams already look: `/metrics/slo` under Sloth's names, equal to the JSON
//! status of the same objectives (rolling and calendar windows, strict and self-only, an
//! overspent budget), clean for promtool but for the `:` in recording-rule names; the deploy
//! gate's three reasons; the Grafana dashboard names only series slod exports.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

on_both!(
    slo_metrics_equal_the_json_status,
    the_gate_closes_for_each_of_its_three_reasons,
);

/// `name{labels}` -> value, from exposition text; checks every sample has HELP and TYPE.
fn samples(text: &str) -> BTreeMap<(String, BTreeMap<String, String>), f64> {
    let mut typed = BTreeSet::new();
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            typed.insert(rest.split(' ').next().unwrap().to_owned());
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = series.split_once('{').unwrap();
        assert!(typed.contains(name), "{name} has no TYPE line");
        let labels: BTreeMap<String, String> = labels
            .trim_end_matches('}')
            .split("\",")
            .map(|pair| {
                let (k, v) = pair.split_once("=\"").unwrap();
                (k.to_owned(), v.trim_end_matches('"').to_owned())
            })
            .collect();
        out.insert((name.to_owned(), labels), value.parse::<f64>().unwrap());
    }
    out
}

/// The value of `name` for objective `id` (and window, if given).
fn value(
    all: &BTreeMap<(String, BTreeMap<String, String>), f64>,
    name: &str,
    id: &str,
) -> Option<f64> {
    all.iter()
        .find(|((n, labels), _)| n == name && labels.get("sloth_slo").is_some_and(|s| s == id))
        .map(|(_, v)| *v)
}

fn same(a: Option<f64>, b: f64, what: &str) {
    let a = a.unwrap_or_else(|| panic!("{what} is missing"));
    assert!((a - b).abs() < 1e-9, "{what}: metric {a} != status {b}");
}

async fn slo_metrics_equal_the_json_status(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    // db had a 90-minute outage that ended an hour ago; api depends on it and went down with
    // it. Closed outages keep every window's value still while the test reads.
    let db_check = system_with_check(&s, "db", &[]).await;
    let api_check = system_with_check(&s, "api", &["db"]).await;
    for check in [&db_check, &api_check] {
        results(
            &s,
            check,
            json!([{"status": "healthy", "at": minutes_ago(300)}, {"status": "unhealthy", "at": minutes_ago(150)}, {"status": "healthy", "at": minutes_ago(60)}]),
        )
        .await;
    }
    let overspent = objective(
        &s,
        json!({"systemId": "db", "name": "DB \"primary\"", "target": 99.9, "windowDays": 30}),
    )
    .await;
    let calendar = objective(
        &s,
        json!({"systemId": "api", "target": 99, "windowKind": "month", "dependencyExclusion": "self-only"}),
    )
    .await;
    let week = objective(
        &s,
        json!({"systemId": "api", "target": 95, "windowKind": "week"}),
    )
    .await;

    let response = s
        .client
        .get(format!("{}/metrics/slo", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    let all = samples(&text);
    let (_, bulk) = s
        .post(
            "/api/v1/objectives/bulk-status",
            json!({"systemIds": ["db", "api"]}),
        )
        .await;
    let mut seen = 0;
    for (system, window) in [("db", "30d"), ("api", "30d"), ("api", "7d")] {
        for entry in bulk["systems"][system].as_array().unwrap() {
            let id = entry["objective"]["id"].as_str().unwrap();
            let expected_window = match entry["objective"]["windowKind"].as_str() {
                Some("week") => "7d",
                _ => "30d",
            };
            if expected_window != window {
                continue;
            }
            seen += 1;
            let st = &entry["status"];
            let target = st["target"].as_f64().unwrap();
            let budget = 1.0 - target / 100.0;
            same(
                value(&all, "slo:objective:ratio", id),
                target / 100.0,
                "objective",
            );
            same(
                value(&all, "slo:error_budget:ratio", id),
                budget,
                "error budget",
            );
            same(
                value(&all, "slo:time_period:days", id),
                st["windowDays"].as_f64().unwrap(),
                "days",
            );
            for w in ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] {
                same(
                    value(&all, &format!("slo:sli_error:ratio_rate{w}"), id),
                    st["burnRates"][w].as_f64().unwrap() * budget,
                    w,
                );
            }
            same(
                value(&all, &format!("slo:sli_error:ratio_rate{window}"), id),
                1.0 - st["currentAvailability"].as_f64().unwrap() / 100.0,
                "the period's error ratio",
            );
            let burn = st["burnRate"].as_f64().unwrap();
            same(
                value(&all, "slo:period_burn_rate:ratio", id),
                burn,
                "period burn",
            );
            same(
                value(&all, "slo:period_error_budget_remaining:ratio", id),
                1.0 - burn,
                "remaining",
            );
            same(
                value(&all, "slo:current_burn_rate:ratio", id),
                st["burnRates"]["5m"].as_f64().unwrap(),
                "current burn",
            );
            let info = all
                .keys()
                .find(|(n, l)| n == "sloth_slo_info" && l["sloth_slo"] == id)
                .unwrap();
            assert_eq!(
                (
                    info.1["sloth_service"].as_str(),
                    info.1["system"].as_str(),
                    info.1["objective"].as_str(),
                    info.1["sloth_id"].clone()
                ),
                (system, system, id, format!("{system}-{id}"))
            );
        }
    }
    assert_eq!(seen, 3);
    // 90 bad minutes against 43.2 allowed: overspent, and not clamped.
    let remaining = value(&all, "slo:period_error_budget_remaining:ratio", &overspent).unwrap();
    assert!(remaining < -1.0, "{remaining}");
    // self-only: api's minutes were db's, so its month is clean (90 of them would be 0.002).
    let self_only = value(&all, "slo:sli_error:ratio_rate30d", &calendar).unwrap();
    assert!(self_only < 1e-6, "{self_only}");
    assert!(value(&all, "slo:sli_error:ratio_rate7d", &week).unwrap() > 0.0);
    assert!(
        text.contains("name=\"DB \\\"primary\\\"\""),
        "escaped: {text}"
    );

    promtool_finds_only_colons(&text);
}

fn promtool_finds_only_colons(text: &str) {
    use std::io::Write;
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            assert!(
                std::env::var("SLOD_REQUIRE_SERVICES").map_or(true, |v| v != "1"),
                "SLOD_REQUIRE_SERVICES=1 but promtool cannot run: {e}"
            );
            return;
        }
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let findings = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for line in findings.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            line.ends_with("metric names should not contain ':'"),
            "promtool check metrics found more than the colons:\n{findings}"
        );
    }
}

async fn the_gate_closes_for_each_of_its_three_reasons(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let gate = |path: String| {
        let s = &s;
        async move {
            let (status, body) = s.get(&path).await;
            (status, body)
        }
    };
    let rules = |body: &Value| -> Vec<String> {
        body["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    // healthy: up for two hours, no downtime.
    let (_, healthy) =
        watched_system(&s, "healthy", json!({"target": 99.9, "windowDays": 30})).await;
    let (status, body) = gate(format!(
        "/api/v1/objectives/{healthy}/gate?minRemainingPercent=25"
    ))
    .await;
    assert_eq!(
        (status, &body["allowed"]),
        (StatusCode::OK, &json!(true)),
        "{body}"
    );
    let (status, _) = gate("/api/v1/systems/healthy/gate".into()).await;
    assert_eq!(status, StatusCode::OK);

    // spent: a 30-minute outage two days ago against a 43.2-minute budget: about 30 % left,
    // not breaching, no burn alert; closed only by a 50 % threshold.
    let check = system_with_check(&s, "spent", &[]).await;
    results(
        &s,
        &check,
        json!([{"status": "healthy", "at": minutes_ago(4000)}, {"status": "unhealthy", "at": minutes_ago(2900)}, {"status": "healthy", "at": minutes_ago(2870)}]),
    )
    .await;
    let spent = objective(
        &s,
        json!({"systemId": "spent", "target": 99.9, "windowDays": 30}),
    )
    .await;
    let (status, body) = gate(format!(
        "/api/v1/objectives/{spent}/gate?minRemainingPercent=25"
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = gate(format!(
        "/api/v1/objectives/{spent}/gate?minRemainingPercent=50"
    ))
    .await;
    assert_eq!(
        (status, rules(&body)),
        (
            StatusCode::CONFLICT,
            vec!["budget_below_threshold".to_owned()]
        ),
        "{body}"
    );
    assert_eq!(body["allowed"], false);

    // breaching: down for 90 minutes ending 3 days ago (beyond every burn window) at 99.9 %.
    let check = system_with_check(&s, "broken", &[]).await;
    results(
        &s,
        &check,
        json!([{"status": "healthy", "at": minutes_ago(6000)}, {"status": "unhealthy", "at": minutes_ago(5000)}, {"status": "healthy", "at": minutes_ago(4910)}]),
    )
    .await;
    let broken = objective(
        &s,
        json!({"systemId": "broken", "target": 99.9, "windowDays": 30}),
    )
    .await;
    let (status, body) = gate(format!("/api/v1/objectives/{broken}/gate")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(rules(&body).contains(&"breaching".to_owned()), "{body}");
    assert!(
        !rules(&body).contains(&"page_burn_alert".to_owned()),
        "{body}"
    );

    // burning: down for the last 10 minutes on a 99 % month: not yet breaching, but the page
    // rule fires.
    let check = system_with_check(&s, "burning", &[]).await;
    results(
        &s,
        &check,
        json!([{"status": "healthy", "at": minutes_ago(180)}, {"status": "unhealthy", "at": minutes_ago(10)}]),
    )
    .await;
    let burning = objective(
        &s,
        json!({"systemId": "burning", "target": 99, "windowDays": 30}),
    )
    .await;
    let (status, body) = gate(format!("/api/v1/objectives/{burning}/gate")).await;
    assert_eq!(
        (status, rules(&body)),
        (StatusCode::CONFLICT, vec!["page_burn_alert".to_owned()]),
        "{body}"
    );
    let (status, body) = gate("/api/v1/systems/burning/gate?minRemainingPercent=0".into()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["objectiveIds"], json!([burning]));

    // Bad input: a clear error, no gate.
    let (status, body) = gate(format!(
        "/api/v1/objectives/{healthy}/gate?minRemainingPercent=150"
    ))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "minRemainingPercent");
    let (status, _) = gate(format!("/api/v1/objectives/{}/gate", uuid::Uuid::new_v4())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = gate("/api/v1/systems/ghost/gate".into()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn slo_metrics_need_a_read_token_when_reads_are_private() {
    let Some(s) = start(Db::Sqlite, |c| c.public_read = false).await else {
        return;
    };
    let (status, _) = s.call_as(None, Method::GET, "/metrics/slo", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = s.call(Method::GET, "/metrics/slo", None).await;
    assert_eq!(status, StatusCode::OK);
}

/// The metric names a PromQL expression reads (identifiers not followed by `(`, minus the
/// language's own words and label names inside braces or `by (...)`).
fn series_in(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut cleaned = String::new();
    let mut depth = 0;
    for c in expr.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ if depth == 0 => cleaned.push(c),
            _ => {}
        }
    }
    // Drop grouping clauses: `by (a, b)`, `without (a)`, `on (..)`, `ignoring (..)`.
    for word in [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ] {
        while let Some(at) = find_word(&cleaned, word) {
            let rest = &cleaned[at..];
            let end = rest.find(')').map_or(rest.len(), |e| e + 1);
            cleaned.replace_range(at..at + end, " ");
        }
    }
    let keywords = ["and", "or", "unless", "bool", "offset", "inf", "nan"];
    let chars: Vec<char> = cleaned.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = chars[i..].iter().find(|c| !c.is_whitespace());
            let preceded_by_dollar = start > 0 && chars[start - 1] == '$';
            if next != Some(&'(') && !keywords.contains(&word.as_str()) && !preceded_by_dollar {
                names.insert(word);
            }
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += 1;
            }
            i += 1;
        } else if c == '[' {
            while i < chars.len() && chars[i] != ']' {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    names
}

fn find_word(text: &str, word: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(at) = text[from..].find(word) {
        let at = from + at;
        let before = at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
        let end = at + word.len();
        let after = end >= bytes.len()
            || !(bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_' || bytes[end] == b':');
        if before && after {
            return Some(at);
        }
        from = end;
    }
    None
}

#[tokio::test]
async fn the_grafana_dashboard_reads_only_series_slod_exports() {
    let Some(s) = start(Db::Sqlite, |_| {}).await else {
        return;
    };
    watched_system(&s, "db", json!({"target": 99.9, "windowDays": 30})).await;
    let mut exported = BTreeSet::new();
    for path in ["/metrics/slo", "/metrics"] {
        let text = s
            .client
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let name = line.split(['{', ' ']).next().unwrap();
            exported.insert(name.to_owned());
        }
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../dashboards/grafana/slod-slo.json"
    );
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut queries = Vec::new();
    collect_exprs(&dashboard, &mut queries);
    assert!(queries.len() >= 4, "{queries:?}");
    let mut read = BTreeSet::new();
    for q in &queries {
        read.extend(series_in(q));
    }
    let unknown: Vec<&String> = read.iter().filter(|n| !exported.contains(*n)).collect();
    assert!(
        unknown.is_empty(),
        "the dashboard reads series slod does not export: {unknown:?}\n(read {read:?})"
    );
    for needed in [
        "slo:period_error_budget_remaining:ratio",
        "slo:sli_error:ratio_rate1h",
        "slo:error_budget:ratio",
    ] {
        assert!(read.contains(needed), "the dashboard shows {needed}");
    }
    // The parser itself: a function is not a series, a label is not a series.
    assert_eq!(
        series_in("sum by (objective) (rate(a_total{x=\"y\"}[5m])) / on (objective) b:c"),
        BTreeSet::from(["a_total".to_owned(), "b:c".to_owned()])
    );
}

/// Every `expr` and `query` string in a Grafana dashboard (panels' targets, template
/// variables).
fn collect_exprs(value: &Value, out: &mut Vec<String>) {
    match value {
        // A datasource variable's `query` is a plugin name, not PromQL.
        Value::Object(map) if map.get("type").is_some_and(|t| t == "datasource") => {}
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("expr", Value::String(e)) => out.push(e.clone()),
                    ("query", Value::String(q)) => out.push(
                        q.trim_start_matches("label_values(")
                            .split(',')
                            .next()
                            .unwrap_or("")
                            .to_owned(),
                    ),
                    ("query", Value::Object(q)) => {
                        if let Some(Value::String(q)) = q.get("query") {
                            out.push(
                                q.trim_start_matches("label_values(")
                                    .split(',')
                                    .next()
                                    .unwrap_or("")
                                    .to_owned(),
                            );
                        }
                    }
                    _ => collect_exprs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_exprs(v, out)),
        _ => {}
    }
}
