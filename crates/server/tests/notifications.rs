//! Alerts delivered, against real receivers on loopback: Debian's Alertmanager, a webhook
//! receiver that fails its first requests, and an SMTP sink (Python's aiosmtpd). Each
//! transition arrives signed and exactly once per idempotency key, across a restart and with
//! two replicas; inhibited alerts wait until they fire on their own; bad channels and
//! policies change nothing.

use std::collections::{BTreeMap, HashMap};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode as AxumStatus};
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;
use slod::alerts::{Alerts, Evaluated};

use crate::support::*;

on_both!(
    a_failing_webhook_gets_each_transition_once_and_signed,
    pending_deliveries_go_out_after_a_restart,
    two_replicas_send_each_transition_once,
    an_inhibited_alert_is_sent_when_it_fires_on_its_own,
    bad_channels_and_policies_are_refused_and_change_nothing,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_reaches_a_real_alertmanager_and_leaves_it_on_recovery() {
    outage_reaches_alertmanager().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_reaches_a_real_smtp_sink() {
    email_reaches_smtp_sink().await
}

const SECRET: &str = "whsec-test";

async fn evaluate(s: &TestServer) -> Evaluated {
    Alerts::of(&s.state)
        .evaluate(Timestamp::now())
        .await
        .expect("the evaluation runs")
}

/// A server whose delivery worker runs, retrying after `first_retry_ms`.
async fn sending(db: Db, first_retry_ms: u64) -> Option<TestServer> {
    start(db, |c| {
        c.deliveries = true;
        c.alerts_resolve_after = 0;
        c.delivery_first_retry_ms = first_retry_ms;
        c.public_url = Some("https://slo.example.com/".into());
    })
    .await
}

/// System `id` (depending on `deps`) with a push check: healthy two hours ago, down for the
/// last 10 minutes. Returns the check.
async fn down(s: &TestServer, id: &str, deps: &[&str]) -> String {
    let check = system_with_check(s, id, deps).await;
    results(
        s,
        &check,
        json!([{"status": "healthy", "at": minutes_ago(120)}, {"status": "unhealthy", "at": minutes_ago(10)}]),
    )
    .await;
    check
}

async fn recover(s: &TestServer, check: &str) {
    results(
        s,
        check,
        json!([{"status": "healthy", "at": minutes_ago(0)}]),
    )
    .await;
}

async fn channel(s: &TestServer, body: Value) -> String {
    let (status, created) = s.post("/api/v1/notification-channels", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created.get("secret"), None, "secrets are write-only");
    created["id"].as_str().unwrap().to_owned()
}

async fn policy(s: &TestServer, body: Value) -> String {
    let (status, created) = s.post("/api/v1/notification-policies", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().unwrap().to_owned()
}

/// A webhook channel to `url`, signed, heard for every alert.
async fn webhook_for_everything(s: &TestServer, url: &str) -> String {
    let id = channel(
        s,
        json!({"name": "hook", "kind": "webhook", "url": url, "secret": SECRET}),
    )
    .await;
    policy(s, json!({"name": "all", "channelIds": [id]})).await;
    id
}

/// Every delivery matching `query`.
async fn deliveries(s: &TestServer, query: &str) -> Vec<Value> {
    let (status, body) = s
        .get(&format!(
            "/api/v1/notification-deliveries?limit=1000&{query}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["deliveries"].as_array().unwrap().clone()
}

/// Waits (up to 30 s) until `done` holds.
async fn eventually<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..300 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// One request a receiver got.
#[derive(Clone, Debug)]
struct Received {
    key: String,
    signature: Option<String>,
    /// Whether the signature verified.
    signed: bool,
    body: Value,
    answered: u16,
}

/// A webhook receiver on loopback that answers 503 to its first `fail_first` requests.
#[derive(Clone)]
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(fail_first: usize) -> Receiver {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let inbox = got.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let inbox = inbox.clone();
                async move {
                    let mut inbox = inbox.lock().unwrap();
                    let answered = if inbox.len() < fail_first { 503 } else { 200 };
                    let header =
                        |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
                    inbox.push(Received {
                        key: header("idempotency-key").unwrap_or_default(),
                        signed: verify(header("slod-signature").as_deref(), body.as_bytes()),
                        signature: header("slod-signature"),
                        body: serde_json::from_str(&body).unwrap(),
                        answered,
                    });
                    AxumStatus::from_u16(answered).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, got }
    }

    /// Every request so far; each must carry a key and a valid signature.
    fn received(&self) -> Vec<Received> {
        let got = self.got.lock().unwrap().clone();
        for r in &got {
            assert!(r.signed && !r.key.is_empty(), "unsigned or keyless: {r:?}");
        }
        got
    }

    /// How many times each idempotency key was accepted (answered 200).
    fn accepted(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for r in self.received().into_iter().filter(|r| r.answered == 200) {
            *out.entry(r.key).or_default() += 1;
        }
        out
    }
}

/// Checks `t=<seconds>,v1=<hex>` against HMAC-SHA256(SECRET, "<t>.<body>"), as a receiver
/// would, without slod's code.
fn verify(header: Option<&str>, body: &[u8]) -> bool {
    let Some(header) = header else {
        return false;
    };
    let parts: HashMap<&str, &str> = header
        .split(',')
        .filter_map(|p| p.split_once('='))
        .collect();
    let (Some(t), Some(v1)) = (parts.get("t"), parts.get("v1")) else {
        return false;
    };
    let age = Timestamp::now().as_second() - t.parse::<i64>().unwrap_or(0);
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    (0..300).contains(&age) && hex::encode(mac.finalize().into_bytes()) == *v1
}

async fn a_failing_webhook_gets_each_transition_once_and_signed(db: Db) {
    let Some(s) = sending(db, 50).await else {
        return;
    };
    let hook = Receiver::start(2).await;
    webhook_for_everything(&s, &hook.url).await;
    let check = down(&s, "db", &[]).await;
    assert_eq!(evaluate(&s).await.fired, 1, "db's health alert");
    eventually("the firing delivery", || async {
        hook.accepted().len() == 1
    })
    .await;
    let got = hook.received();
    assert_eq!(got.len(), 3, "two refusals, then the delivery: {got:?}");
    assert!(
        got.iter().all(|r| r.key == got[0].key),
        "one key for every attempt"
    );
    let body = &got[2].body;
    assert_eq!(
        (
            body["version"].as_str(),
            body["event"].as_str(),
            body["alert"]["kind"].as_str()
        ),
        (Some("1"), Some("firing"), Some("health"))
    );
    let alert_id = body["alert"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        body["dashboardUrl"],
        format!("https://slo.example.com/#alert-{alert_id}")
    );
    assert!(got[0].signature.is_some());
    eventually("the delivery recorded", || async {
        deliveries(&s, &format!("alertId={alert_id}&status=delivered"))
            .await
            .len()
            == 1
    })
    .await;
    let recorded = deliveries(&s, &format!("alertId={alert_id}")).await;
    assert_eq!(
        (
            recorded[0]["attempts"].as_i64(),
            recorded[0]["lastStatusCode"].as_i64(),
            recorded[0]["event"].as_str()
        ),
        (Some(3), Some(200), Some("firing"))
    );

    // Recovery resolves it; the resolution goes to the channel that heard it fire.
    recover(&s, &check).await;
    assert_eq!(evaluate(&s).await.resolved, 1);
    eventually("the resolution", || async { hook.accepted().len() == 2 }).await;
    assert!(
        hook.accepted().values().all(|&n| n == 1),
        "{:?}",
        hook.accepted()
    );
    let last = hook.received().last().unwrap().body.clone();
    assert_eq!(
        (last["event"].as_str(), last["alert"]["state"].as_str()),
        (Some("resolved"), Some("resolved"))
    );
    // Another evaluation sends nothing more.
    evaluate(&s).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(hook.accepted().len(), 2);
}

async fn pending_deliveries_go_out_after_a_restart(db: Db) {
    // The first replica's retry waits 3 s; it stops mid-backoff, and the next one delivers.
    let Some(a) = sending(db, 3000).await else {
        return;
    };
    let hook = Receiver::start(1).await;
    webhook_for_everything(&a, &hook.url).await;
    down(&a, "db", &[]).await;
    assert_eq!(evaluate(&a).await.fired, 1);
    eventually("the first, refused attempt", || async {
        deliveries(&a, "")
            .await
            .first()
            .and_then(|d| d["attempts"].as_i64())
            == Some(1)
    })
    .await;
    let b = replica_of(&a, |c| {
        c.deliveries = true;
        c.delivery_first_retry_ms = 3000;
    })
    .await;
    drop(a);
    eventually("the delivery after the restart", || async {
        hook.accepted().len() == 1
    })
    .await;
    let pending = deliveries(&b, "").await;
    assert_eq!(pending[0]["attempts"].as_i64(), Some(2), "{pending:?}");
    let got = hook.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].key, got[1].key, "the retry carries the same key");
}

async fn two_replicas_send_each_transition_once(db: Db) {
    let Some(redis) = redis_url() else {
        return;
    };
    let namespace = format!("deliver-{}", uuid::Uuid::new_v4().simple());
    let shared = |c: &mut slod::Config| {
        c.cache = redis.clone();
        c.cache_namespace = namespace.clone();
        c.deliveries = true;
        c.alerts_resolve_after = 0;
        c.delivery_first_retry_ms = 20;
    };
    let Some(a) = start(db, shared).await else {
        return;
    };
    let b = replica_of(&a, shared).await;
    // Every request fails at first, so both workers retry while the other is busy.
    let hook = Receiver::start(6).await;
    webhook_for_everything(&a, &hook.url).await;
    for id in ["one", "two", "three", "four", "five"] {
        down(&a, id, &[]).await;
    }
    let now = Timestamp::now();
    let (on_a, on_b) = (Alerts::of(&a.state), Alerts::of(&b.state));
    let (x, y) = tokio::join!(on_a.evaluate(now), on_b.evaluate(now));
    assert_eq!(x.unwrap().fired + y.unwrap().fired, 5);
    eventually("five deliveries", || async { hook.accepted().len() == 5 }).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        hook.accepted().values().all(|&n| n == 1),
        "each key accepted once: {:?}",
        hook.accepted()
    );
    assert_eq!(deliveries(&b, "status=delivered").await.len(), 5);
}

async fn an_inhibited_alert_is_sent_when_it_fires_on_its_own(db: Db) {
    let Some(s) = sending(db, 50).await else {
        return;
    };
    let hook = Receiver::start(0).await;
    webhook_for_everything(&s, &hook.url).await;
    // api depends on db; both are down: api's alert is inhibited by db's and not sent.
    let db_check = down(&s, "db", &[]).await;
    down(&s, "api", &["db"]).await;
    assert_eq!(evaluate(&s).await.fired, 2);
    eventually("db's alert", || async { hook.accepted().len() == 1 }).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let got = hook.received();
    assert_eq!(got.len(), 1, "only the root cause is sent: {got:?}");
    assert_eq!(got[0].body["alert"]["subject"]["id"], "db");
    let (_, api_alerts) = s.get("/api/v1/alerts?systemId=api").await;
    assert_eq!(api_alerts["alerts"][0]["state"], "inhibited");

    // db recovers, api stays down: api's alert fires on its own and is sent now.
    recover(&s, &db_check).await;
    evaluate(&s).await;
    eventually("db resolved and api firing", || async {
        hook.accepted().len() == 3
    })
    .await;
    let got = hook.received();
    let about: Vec<(String, String)> = got
        .iter()
        .map(|r| {
            (
                r.body["alert"]["subject"]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                r.body["event"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        about.contains(&("api".into(), "firing".into())),
        "{about:?}"
    );
    assert!(
        about.contains(&("db".into(), "resolved".into())),
        "{about:?}"
    );
}

async fn bad_channels_and_policies_are_refused_and_change_nothing(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    system_with_check(&s, "db", &[]).await;
    let hook = channel(
        &s,
        json!({"name": "hook", "kind": "webhook", "url": "http://127.0.0.1:9/hook", "secret": "x"}),
    )
    .await;
    let before = (
        s.get("/api/v1/notification-channels").await,
        s.get("/api/v1/notification-policies").await,
    );
    let bad_channels = [
        (
            json!({"name": "x", "kind": "pager", "url": "http://a"}),
            "kind",
        ),
        (
            json!({"name": "x", "kind": "webhook", "url": "not a url"}),
            "url",
        ),
        (
            json!({"name": "x", "kind": "webhook", "url": "ftp://host/x"}),
            "url",
        ),
        (
            json!({"name": "x", "kind": "slack", "url": "smtp://mail:25"}),
            "url",
        ),
        (
            json!({"name": "x", "kind": "email", "url": "smtp://mail:25", "emailFrom": "slod@example.com"}),
            "emailTo",
        ),
        (
            json!({"name": "x", "kind": "email", "url": "smtp://mail:25", "emailTo": ["nobody"], "emailFrom": "slod@example.com"}),
            "emailTo",
        ),
        (
            json!({"name": "x", "kind": "email", "url": "http://mail", "emailTo": ["a@example.com"], "emailFrom": "slod@example.com"}),
            "url",
        ),
        (
            json!({"name": "", "kind": "webhook", "url": "http://a"}),
            "name",
        ),
        (
            json!({"name": "x", "kind": "webhook", "url": "http://a", "secret": "s", "colour": 1}),
            "colour",
        ),
        (
            json!({"name": "x", "kind": "webhook", "url": "http://a"}),
            "secret",
        ),
        (
            json!({"name": "x", "kind": "webhook", "url": "http://a", "secret": ""}),
            "secret",
        ),
        (
            json!({"name": "x", "kind": "email", "url": "smtp://me:pw@mail:25", "emailTo": ["a@example.com"], "emailFrom": "slod@example.com"}),
            "url",
        ),
    ];
    for (body, field) in bad_channels {
        let (status, error) = s.post("/api/v1/notification-channels", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {error}");
        assert_eq!(
            error["error"]["details"][0]["field"], field,
            "{body} -> {error}"
        );
    }
    let bad_policies = [
        (
            json!({"name": "p", "channelIds": [uuid::Uuid::new_v4().to_string()]}),
            "channelIds",
        ),
        (
            json!({"name": "p", "channelIds": ["not-a-uuid"]}),
            "channelIds",
        ),
        (json!({"name": "p", "channelIds": []}), "channelIds"),
        (
            json!({"name": "p", "channelIds": [hook], "systemIds": ["ghost"]}),
            "systemIds",
        ),
        (
            json!({"name": "p", "channelIds": [hook], "kinds": ["meteor"]}),
            "kinds[0]",
        ),
        (
            json!({"name": "p", "channelIds": [hook], "repeatIntervalSeconds": 5}),
            "repeatIntervalSeconds",
        ),
        (
            json!({"name": "p", "channelIds": [hook], "includeDownstream": true}),
            "includeDownstream",
        ),
    ];
    for (body, field) in bad_policies {
        let (status, error) = s.post("/api/v1/notification-policies", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {error}");
        assert_eq!(
            error["error"]["details"][0]["field"], field,
            "{body} -> {error}"
        );
    }
    let (status, _) = s
        .call(
            Method::PUT,
            &format!("/api/v1/notification-channels/{hook}"),
            Some(json!({"name": "hook", "kind": "webhook", "url": "gopher://x"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A stored secret never follows the channel to another host.
    let (status, error) = s
        .call(
            Method::PUT,
            &format!("/api/v1/notification-channels/{hook}"),
            Some(json!({"name": "hook", "kind": "webhook", "url": "https://elsewhere.example.com/hook"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["error"]["details"][0]["field"], "secret");
    let after = (
        s.get("/api/v1/notification-channels").await,
        s.get("/api/v1/notification-policies").await,
    );
    assert_eq!(before, after, "nothing stored");
    // The secret is never shown, only that there is one; channels need the manage scope.
    assert_eq!(after.0 .1["channels"][0]["hasSecret"], true);
    assert!(!after.0 .1.to_string().contains("\"secret\""));
    let (status, _) = s
        .call_as(None, Method::GET, "/api/v1/notification-channels", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A channel a policy sends to is not deleted.
    let p = policy(&s, json!({"name": "p", "channelIds": [hook]})).await;
    let (status, error) = s
        .delete(&format!("/api/v1/notification-channels/{hook}"))
        .await;
    assert_eq!(
        (status, code(&error)),
        (StatusCode::CONFLICT, "conflict"),
        "{error}"
    );
    let (status, _) = s
        .delete(&format!("/api/v1/notification-policies/{p}"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = s
        .delete(&format!("/api/v1/notification-channels/{hook}"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

/// A free loopback port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `None` (skipped) when `program` cannot run; a failure under SLOD_REQUIRE_SERVICES=1.
fn spawn_or_skip(command: &mut Command, program: &str) -> Option<Killed> {
    match command.spawn() {
        Ok(child) => Some(Killed(child)),
        Err(e) if std::env::var("SLOD_REQUIRE_SERVICES").is_ok_and(|v| v == "1") => {
            panic!("SLOD_REQUIRE_SERVICES=1 but {program} cannot run: {e}")
        }
        Err(e) => {
            eprintln!("skipped: {program} cannot run: {e}");
            None
        }
    }
}

async fn outage_reaches_alertmanager() {
    let dir = std::env::temp_dir().join(format!("slod-am-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("alertmanager.yml");
    std::fs::write(
        &config,
        "route:\n  receiver: \"null\"\nreceivers:\n  - name: \"null\"\n",
    )
    .unwrap();
    let port = free_port();
    let Some(_am) = spawn_or_skip(
        Command::new("prometheus-alertmanager")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", dir.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        "prometheus-alertmanager",
    ) else {
        return;
    };
    let am = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    eventually("Alertmanager ready", || async {
        client
            .get(format!("{am}/-/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await;
    let active = || async {
        client
            .get(format!("{am}/api/v2/alerts?active=true"))
            .send()
            .await
            .unwrap()
            .json::<Vec<Value>>()
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a["status"]["state"] == "active")
            .collect::<Vec<_>>()
    };

    let Some(s) = sending(Db::Sqlite, 50).await else {
        return;
    };
    let channel = channel(
        &s,
        json!({"name": "alertmanager", "kind": "alertmanager", "url": am}),
    )
    .await;
    policy(
        &s,
        json!({"name": "pages", "channelIds": [channel], "minSeverity": "page"}),
    )
    .await;
    let check = down(&s, "checkout", &[]).await;
    let slo = objective(
        &s,
        json!({"systemId": "checkout", "name": "Checkout availability", "target": 99.9, "windowDays": 30}),
    )
    .await;
    evaluate(&s).await;
    eventually("the page in Alertmanager", || async {
        active()
            .await
            .iter()
            .any(|a| a["labels"]["alertname"] == "SLOBurnRate")
    })
    .await;
    let alerts = active().await;
    let burn = alerts
        .iter()
        .find(|a| a["labels"]["alertname"] == "SLOBurnRate")
        .unwrap();
    assert_eq!(burn["labels"]["severity"], "page");
    assert_eq!(burn["labels"]["system"], "checkout");
    assert_eq!(burn["labels"]["objective"], slo);
    assert_eq!(burn["labels"]["objective_name"], "Checkout availability");
    assert!(burn["annotations"]["summary"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert!(burn["annotations"]["description"]
        .as_str()
        .is_some_and(|t| t.contains("checkout")));
    assert!(burn["annotations"]["dashboard_url"]
        .as_str()
        .is_some_and(|u| u.starts_with("https://slo.example.com/#alert-")));
    assert!(
        alerts.iter().all(|a| a["labels"]["severity"] == "page"),
        "tickets are not routed here: {alerts:?}"
    );

    // Recovery: the objective loosens and the check is healthy; every alert resolves and is
    // gone from Alertmanager's active alerts.
    recover(&s, &check).await;
    let (status, _) = s
        .patch(&format!("/api/v1/objectives/{slo}"), json!({"target": 50}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let done = evaluate(&s).await;
    assert!(done.resolved >= 1, "{done:?}");
    eventually("no active alert in Alertmanager", || async {
        active().await.is_empty()
    })
    .await;
    let _ = std::fs::remove_dir_all(&dir);
}

async fn email_reaches_smtp_sink() {
    // The CI virtualenv has aiosmtpd (scripts/requirements.txt); its Debugging handler prints
    // every message it receives.
    let venv = Command::new("scripts/python-tools")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .stderr(Stdio::null())
        .output();
    let python = match venv {
        Ok(out) if out.status.success() => {
            format!("{}/python", String::from_utf8_lossy(&out.stdout).trim())
        }
        _ => "python3-without-venv".to_owned(),
    };
    let port = free_port();
    let out = std::env::temp_dir().join(format!("slod-smtp-{}.txt", uuid::Uuid::new_v4()));
    let Some(_sink) = spawn_or_skip(
        Command::new(&python)
            .args([
                "-u",
                "-m",
                "aiosmtpd",
                "-n",
                "-c",
                "aiosmtpd.handlers.Debugging",
            ])
            .arg("-l")
            .arg(format!("127.0.0.1:{port}"))
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(Stdio::null()),
        "aiosmtpd",
    ) else {
        return;
    };
    eventually("the SMTP sink listening", || async {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
    })
    .await;
    let Some(s) = sending(Db::Sqlite, 50).await else {
        return;
    };
    let email = channel(
        &s,
        json!({"name": "on-call mail", "kind": "email", "url": format!("smtp://127.0.0.1:{port}"),
               "emailTo": ["oncall@example.com"], "emailFrom": "slod <slod@example.com>"}),
    )
    .await;
    let (status, tested) = s
        .post(
            &format!("/api/v1/notification-channels/{email}/test"),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, &tested["delivered"]),
        (StatusCode::OK, &json!(true)),
        "{tested}"
    );
    policy(
        &s,
        json!({"name": "mail", "channelIds": [email], "kinds": ["health"]}),
    )
    .await;
    down(&s, "db", &[]).await;
    evaluate(&s).await;
    eventually("the alert's email", || async {
        std::fs::read_to_string(&out).is_ok_and(|t| t.contains("[FIRING"))
    })
    .await;
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("A test notification from slod"), "{text}");
    assert!(text.contains("oncall@example.com"), "{text}");
    assert!(text.contains("SystemUnhealthy"), "{text}");
    let _ = std::fs::remove_file(&out);
}
