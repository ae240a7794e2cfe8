//! The rules of a check's settings: its target for its kind, its interval, timeout and
//! accepted HTTP statuses.

use slod_store::CheckKind;

use crate::validation::Problems;

const MAX_TARGET: usize = 2048;

/// A push check has no target; an http check needs an `http(s)://` URL with a host; a tcp
/// check needs `host:port`.
pub fn target(problems: &mut Problems, kind: CheckKind, target: Option<&str>) {
    match (kind, target) {
        (CheckKind::Push, None) => {}
        (CheckKind::Push, Some(_)) => problems.add("target", "push checks have no target"),
        (_, None) => problems.add("target", "required for http and tcp checks"),
        (_, Some(t)) if t.len() > MAX_TARGET => {
            problems.add("target", format!("must be at most {MAX_TARGET} characters"))
        }
        (_, Some(t)) if t.chars().any(char::is_control) => {
            problems.add("target", "must not contain control characters")
        }
        (CheckKind::Http, Some(url)) => {
            let host = url
                .strip_prefix("http://")
                .or_else(|| url.strip_prefix("https://"));
            if host.is_none_or(|rest| {
                rest.split(['/', '?', '#']).next().unwrap_or("").is_empty()
                    || rest.contains(char::is_whitespace)
            }) {
                problems.add("target", "must be an http:// or https:// URL with a host");
            }
        }
        (CheckKind::Tcp, Some(address)) => {
            let ok = address.rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty()
                    && !host.contains(char::is_whitespace)
                    && port.parse::<u16>().is_ok_and(|p| p > 0)
            });
            if !ok {
                problems.add("target", "must be host:port");
            }
        }
    }
}

/// Interval 5..=86400 s, timeout 100..=60000 ms, expected statuses `[min, max]` within
/// 100..=599.
pub fn settings(
    problems: &mut Problems,
    interval: Option<u64>,
    timeout: Option<u64>,
    expect: Option<[u16; 2]>,
) {
    problems.range("intervalSeconds", interval, 5, 86_400);
    problems.range("timeoutMs", timeout, 100, 60_000);
    if expect.is_some_and(|[min, max]| {
        !(100..=599).contains(&min) || !(100..=599).contains(&max) || min > max
    }) {
        problems.add(
            "expectStatus",
            "must be [min, max] with 100 <= min <= max <= 599",
        );
    }
}
