//! Two `slod` processes on one PostgreSQL database and one Redis, as behind a load balancer:
//! a change made on replica A reaches replica B's `/signals`, and a read on B after that
//! signal is never stale, even with B's cache warmed just before the change.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

/// A `slod serve` process; killed when dropped.
struct Replica {
    base: String,
    child: Child,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_replica(database_url: &str, schema: &str, redis_url: &str, namespace: &str) -> Replica {
    let mut child = Command::new(env!("CARGO_BIN_EXE_slod"))
        .arg("serve")
        .env("SLOD_LISTEN", "127.0.0.1:0")
        .env("SLOD_DATABASE_URL", database_url)
        .env("SLOD_DATABASE_SCHEMA", schema)
        .env("SLOD_CACHE", redis_url)
        .env("SLOD_CACHE_NAMESPACE", namespace)
        .env("SLOD_ADMIN_TOKEN", ADMIN)
        .env("SLOD_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let address = logged_address(&mut child);
    Replica {
        base: format!("http://{address}"),
        child,
    }
}

async fn call(
    client: &Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client.request(method, url).bearer_auth(ADMIN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_from_another_replica_is_never_followed_by_a_stale_read() {
    let Some(database_url) = database_url() else {
        return;
    };
    let Ok(redis_url) = std::env::var("REDIS_URL") else {
        assert!(
            std::env::var("SLOD_REQUIRE_SERVICES").map_or(true, |v| v != "1"),
            "SLOD_REQUIRE_SERVICES=1 but REDIS_URL is not set"
        );
        eprintln!("skipped: REDIS_URL is not set");
        return;
    };
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let (schema, namespace) = (format!("r_{suffix}"), format!("r-{suffix}"));
    let a = spawn_replica(&database_url, &schema, &redis_url, &namespace);
    let b = spawn_replica(&database_url, &schema, &redis_url, &namespace);
    let client = Client::new();
    use reqwest::Method;

    // B must be receiving the others' signals before the rounds start.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, ready) = call(&client, Method::GET, format!("{}/readyz", b.base), None).await;
        if ready["signals"] == "connected" {
            break;
        }
        assert!(Instant::now() < deadline, "B never subscribed: {ready}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let (status, _) = call(
        &client,
        Method::POST,
        format!("{}/api/v1/systems", a.base),
        Some(json!({"id": "svc", "name": "svc"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, check) = call(
        &client,
        Method::POST,
        format!("{}/api/v1/systems/svc/checks", a.base),
        Some(json!({"name": "agent", "kind": "push"})),
    )
    .await;
    let check = check["id"].as_str().unwrap().to_owned();
    let (_, created) = call(
        &client,
        Method::POST,
        format!("{}/api/v1/objectives", a.base),
        Some(json!({"systemId": "svc", "target": 99.9, "windowDays": 30})),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();

    let mut on_b = Events::open_at(&client, &b.base, "?systemId=svc").await;
    let read_b = |path: String| {
        let client = client.clone();
        let url = format!("{}{path}", b.base);
        async move { call(&client, Method::GET, url, None).await.1 }
    };
    for round in 1..=100 {
        // Warm B's view of everything the change will touch.
        let before = read_b(format!("/api/v1/objectives/{id}")).await;
        read_b("/api/v1/systems/svc/objectives".into()).await;
        read_b("/api/v1/systems/svc/health".into()).await;
        read_b("/api/v1/objectives".into()).await;

        let down = round % 2 == 1;
        assert_eq!(
            before["status"]["hasOpenDowntime"], !down,
            "round {round} starts from the last"
        );
        let status = if down { "unhealthy" } else { "healthy" };
        let (accepted, body) = call(
            &client,
            Method::POST,
            format!("{}/api/v1/checks/{check}/results", a.base),
            Some(json!({"status": status})),
        )
        .await;
        assert_eq!(accepted, StatusCode::ACCEPTED, "{body}");

        let health = on_b.until(|n, _| n == "health.changed").await;
        assert_eq!(health["status"], status, "round {round}");
        on_b.until(|n, d| n == "slo.status.changed" && d["objectiveId"] == id.as_str())
            .await;
        let one = read_b(format!("/api/v1/objectives/{id}")).await;
        let per_system = read_b("/api/v1/systems/svc/objectives".into()).await;
        let list = read_b("/api/v1/objectives".into()).await;
        let health = read_b("/api/v1/systems/svc/health".into()).await;
        for view in [&one, &per_system[0], &list["objectives"][0]] {
            assert_eq!(
                view["status"]["hasOpenDowntime"], down,
                "stale on B after A's signal in round {round}: {view}"
            );
        }
        assert_eq!(
            health["status"], status,
            "stale health on B in round {round}"
        );
    }
}

/// While the signal bus is down a replica misses the others' signals; once it is back, the
/// replica tells its own dashboards to refetch everything (`signals.resync`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_losing_the_signal_bus_a_replica_tells_its_dashboards_to_resync() {
    let Some(mut redis) = faults::OwnRedis::start() else {
        return;
    };
    let signals = slod::signals::Signals::clustered(&redis.url(), "resync").unwrap();
    let mut local = signals.subscribe();
    let wait_for = |connected: bool| {
        let signals = signals.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(10);
            while signals.fanout_connected() != Some(connected) {
                assert!(Instant::now() < deadline, "never {connected}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    wait_for(true).await;
    assert!(
        local.try_recv().is_err(),
        "no resync on the first subscription"
    );
    redis.kill();
    wait_for(false).await;
    redis.restart();
    let signal = tokio::time::timeout(Duration::from_secs(10), local.recv())
        .await
        .expect("a resync within 10 s")
        .unwrap();
    assert_eq!(signal.signal.name(), "signals.resync");
    assert_eq!(signals.fanout_connected(), Some(true));
}

/// `slod jobs run digest` is a short-lived process: its signal must still reach the replicas
/// (it waits for the fan-out queue before exiting).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_run_from_the_command_line_reaches_the_replicas() {
    let Ok(redis_url) = std::env::var("REDIS_URL") else {
        assert!(
            std::env::var("SLOD_REQUIRE_SERVICES").map_or(true, |v| v != "1"),
            "SLOD_REQUIRE_SERVICES=1 but REDIS_URL is not set"
        );
        eprintln!("skipped: REDIS_URL is not set");
        return;
    };
    let namespace = format!("cli-{}", uuid::Uuid::new_v4().simple());
    let replica = slod::signals::Signals::clustered(&redis_url, &namespace).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while replica.fanout_connected() != Some(true) {
        assert!(Instant::now() < deadline, "never subscribed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut heard = replica.subscribe();
    let db = std::env::temp_dir().join(format!("slod-jobs-{}.db", uuid::Uuid::new_v4()));
    let out = Command::new(env!("CARGO_BIN_EXE_slod"))
        .args(["jobs", "run", "digest"])
        .env("SLOD_DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("SLOD_CACHE", &redis_url)
        .env("SLOD_CACHE_NAMESPACE", &namespace)
        .env("SLOD_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let signal = tokio::time::timeout(Duration::from_secs(5), heard.recv())
        .await
        .expect("the digest reached the replica")
        .unwrap();
    assert_eq!(signal.signal.name(), "slo.digest");
}

/// A client of replica A drops its connection while changes happen on both replicas; its
/// reconnect reaches replica B (as a load balancer may send it), which resumes it from A's
/// last event id: the ids are one sequence across the cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_that_reaches_another_replica_resumes_there() {
    let Some(database_url) = database_url() else {
        return;
    };
    let Ok(redis_url) = std::env::var("REDIS_URL") else {
        assert!(
            std::env::var("SLOD_REQUIRE_SERVICES").map_or(true, |v| v != "1"),
            "SLOD_REQUIRE_SERVICES=1 but REDIS_URL is not set"
        );
        eprintln!("skipped: REDIS_URL is not set");
        return;
    };
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let (schema, namespace) = (format!("r_{suffix}"), format!("r-{suffix}"));
    let a = spawn_replica(&database_url, &schema, &redis_url, &namespace);
    let b = spawn_replica(&database_url, &schema, &redis_url, &namespace);
    let client = Client::new();
    use reqwest::Method;
    for replica in [&a, &b] {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let url = format!("{}/readyz", replica.base);
            let (_, ready) = call(&client, Method::GET, url, None).await;
            if ready["signals"] == "connected" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "a replica never followed the stream: {ready}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let post = |base: &str, path: &str, body: Value| {
        let (client, url) = (client.clone(), format!("{base}{path}"));
        async move {
            let (status, body) = call(&client, Method::POST, url, Some(body)).await;
            assert!(status.is_success(), "{status} {body}");
            body
        }
    };
    post(
        &a.base,
        "/api/v1/systems",
        json!({"id": "svc", "name": "svc"}),
    )
    .await;
    let check = post(
        &a.base,
        "/api/v1/systems/svc/checks",
        json!({"name": "agent", "kind": "push"}),
    )
    .await;
    let check = check["id"].as_str().unwrap().to_owned();
    post(
        &a.base,
        "/api/v1/objectives",
        json!({"systemId": "svc", "target": 99.0, "windowDays": 1}),
    )
    .await;
    let mut steady = Events::open_at(&client, &b.base, "").await;
    steady.positioned().await;
    let mut on_a = Events::open_at(&client, &a.base, "").await;
    on_a.positioned().await;
    let results = format!("/api/v1/checks/{check}/results");
    post(&a.base, &results, json!({"status": "unhealthy"})).await;
    on_a.until(|n, _| n == "health.changed").await;
    let last = on_a.last_id.clone().unwrap();
    drop(on_a);
    // While the client is away, changes on both replicas.
    post(&b.base, &results, json!({"status": "healthy"})).await;
    post(&a.base, &results, json!({"status": "unhealthy"})).await;
    post(&b.base, &results, json!({"status": "healthy"})).await;
    let mut on_b = Events::resume_at(&client, &b.base, "", Some(&last)).await;

    // What a client connected to B throughout saw: four flips, each a health.changed then a
    // slo.status.changed.
    // (Signals travel through the stream, so the objective's creation may still arrive first.)
    let mut seen = Vec::new();
    let truth = loop {
        let (name, data) = steady.next().await;
        seen.push((steady.last_id.clone().unwrap(), name, data));
        if let Some(at) = seen.iter().position(|(id, _, _)| *id == last) {
            if seen.len() - at - 1 == 7 {
                break &seen[at + 1..];
            }
        }
        assert!(
            seen.len() < 20,
            "B never delivered A's signal under the id A gave it"
        );
    };
    for expected in truth {
        let (name, data) = on_b.next().await;
        assert_eq!(
            &(on_b.last_id.clone().unwrap(), name, data),
            expected,
            "the resumed client gets the missed signals in the cluster's order"
        );
    }
    let healths: Vec<&Value> = truth
        .iter()
        .filter(|(_, n, _)| n == "health.changed")
        .map(|(_, _, d)| &d["status"])
        .collect();
    assert_eq!(
        healths,
        [&json!("healthy"), &json!("unhealthy"), &json!("healthy")]
    );
}
