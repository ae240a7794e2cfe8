//! slod's own probes: http and tcp checks, each run every `intervalSeconds`.
//!
//! Every replica looks for due checks once a second and claims each in the database before
//! probing it (moving its next probe time forward in one statement), so with several replicas a
//! check is still probed once per interval. A probe's result is recorded through the checks
//! service, exactly as a pushed one: timeline, invalidation, then signals.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use slod_engine::CheckStatus;
use slod_store::{Check, CheckKind, NewResult};
use tokio::sync::Semaphore;

use crate::checks::Checks;
use crate::ids::{CheckId, TypedId};
use crate::state::{AppState, Core};

/// How often due checks are looked for.
const TICK: Duration = Duration::from_secs(1);
/// Most probes in flight at once per replica.
const CONCURRENCY: usize = 64;

/// What one probe saw.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub status: CheckStatus,
    pub latency_ms: f64,
    pub message: Option<String>,
}

/// Runs the probes until the task is dropped.
pub async fn run(state: AppState) {
    let client = match reqwest::Client::builder()
        .user_agent(concat!("slod/", env!("CARGO_PKG_VERSION"), " (probe)"))
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the HTTP client; probes are off");
            return;
        }
    };
    let checks = Checks::new(Core::of(&state));
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = Timestamp::now();
        let due = match state.store.due_probes(now, CONCURRENCY * 4).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "looking for due probes failed");
                continue;
            }
        };
        for check in due {
            let next = now
                .checked_add(SignedDuration::from_secs(i64::from(check.interval_seconds)))
                .unwrap_or(now);
            match state.store.claim_probe(&check.id, now, next).await {
                Ok(true) => {}
                Ok(false) => continue, // another replica has it
                Err(e) => {
                    tracing::warn!(check = %check.id, error = %e, "claiming a probe failed");
                    continue;
                }
            }
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let (checks, client) = (checks.clone(), client.clone());
            tokio::spawn(async move {
                let _slot = slot;
                let at = Timestamp::now();
                let outcome = probe(&client, &check).await;
                metrics::counter!("slod_probes_total", "kind" => check.kind.as_str(), "status" => outcome.status.as_str()).increment(1);
                metrics::histogram!("slod_probe_duration_seconds", "kind" => check.kind.as_str())
                    .record(outcome.latency_ms / 1000.0);
                let result = NewResult {
                    status: outcome.status,
                    at: Some(at),
                    latency_ms: Some(outcome.latency_ms),
                    message: outcome.message,
                };
                let Some(id) = CheckId::parse(&check.id) else {
                    return;
                };
                if let Err(e) = checks.record(&id, &[result]).await {
                    // A pushed result newer than this probe, or the check deleted meanwhile.
                    tracing::debug!(check = %check.id, error = %e, "a probe result was not recorded");
                }
            });
        }
    }
}

/// Probes one check once.
pub async fn probe(client: &reqwest::Client, check: &Check) -> Outcome {
    let timeout = Duration::from_millis(u64::from(check.timeout_ms));
    let target = check.target.as_deref().unwrap_or_default();
    match check.kind {
        CheckKind::Http => probe_http(client, target, timeout, check.expect_status).await,
        CheckKind::Tcp => probe_tcp(target, timeout).await,
        CheckKind::Push => Outcome {
            status: CheckStatus::Unhealthy,
            latency_ms: 0.0,
            message: Some("push checks are not probed".into()),
        },
    }
}

/// GET `url`: healthy when the status is within `expect` (inclusive), unhealthy otherwise or
/// when no answer came within `timeout`.
pub async fn probe_http(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
    expect: [u16; 2],
) -> Outcome {
    let started = Instant::now();
    let answer = client.get(url).timeout(timeout).send().await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    match answer {
        Ok(response) => {
            let code = response.status().as_u16();
            let ok = (expect[0]..=expect[1]).contains(&code);
            Outcome {
                status: if ok {
                    CheckStatus::Healthy
                } else {
                    CheckStatus::Unhealthy
                },
                latency_ms,
                message: (!ok)
                    .then(|| format!("HTTP {code}, expected {}-{}", expect[0], expect[1])),
            }
        }
        Err(e) => Outcome {
            status: CheckStatus::Unhealthy,
            latency_ms,
            message: Some(if e.is_timeout() {
                format!("no answer within {} ms", timeout.as_millis())
            } else if e.is_connect() {
                "connection failed".to_owned()
            } else {
                format!("request failed: {e}")
            }),
        },
    }
}

/// Opens a TCP connection to `host:port`: healthy when it opens within `timeout`.
pub async fn probe_tcp(target: &str, timeout: Duration) -> Outcome {
    let started = Instant::now();
    let connected = tokio::time::timeout(timeout, tokio::net::TcpStream::connect(target)).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (status, message) = match connected {
        Ok(Ok(_)) => (CheckStatus::Healthy, None),
        Ok(Err(e)) => (
            CheckStatus::Unhealthy,
            Some(format!("connection failed: {e}")),
        ),
        Err(_) => (
            CheckStatus::Unhealthy,
            Some(format!("no connection within {} ms", timeout.as_millis())),
        ),
    };
    Outcome {
        status,
        latency_ms,
        message,
    }
}
