//! Starts the real service on an ephemeral port for HTTP tests: SQLite in a fresh file, or
//! PostgreSQL (`DATABASE_URL`) in a fresh schema.

#![allow(dead_code)]

pub mod browser;
pub mod faults;

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{json, Value};
use slod::Config;

pub const ADMIN: &str = "admin-secret-for-tests";

/// Which database a test server uses.
#[derive(Clone, Copy, Debug)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub struct TestServer {
    pub base: String,
    pub client: Client,
    pub state: slod::AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
    }
}

/// The PostgreSQL URL, or `None` (skipped) when unset; a failure under SLOD_REQUIRE_SERVICES=1.
pub fn database_url() -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var("SLOD_REQUIRE_SERVICES").is_ok_and(|v| v == "1") => {
            panic!("SLOD_REQUIRE_SERVICES=1 but DATABASE_URL is not set")
        }
        Err(_) => {
            eprintln!("skipped: DATABASE_URL is not set");
            None
        }
    }
}

/// The Redis URL, or `None` (skipped) when unset; a failure under SLOD_REQUIRE_SERVICES=1.
pub fn redis_url() -> Option<String> {
    match std::env::var("REDIS_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var("SLOD_REQUIRE_SERVICES").is_ok_and(|v| v == "1") => {
            panic!("SLOD_REQUIRE_SERVICES=1 but REDIS_URL is not set")
        }
        Err(_) => {
            eprintln!("skipped: REDIS_URL is not set");
            None
        }
    }
}

/// A server on `db` with `adjust` applied to the default test configuration.
pub async fn start(db: Db, adjust: impl FnOnce(&mut Config)) -> Option<TestServer> {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        admin_token: Some(ADMIN.into()),
        // Tests run the jobs and alert evaluations themselves, at the instants they choose;
        // probes and the delivery worker only where tested.
        jobs: false,
        probes: false,
        alerts: false,
        deliveries: false,
        ..Config::default()
    };
    match db {
        Db::Sqlite => {
            let path = std::env::temp_dir().join(format!("slod-http-{}.db", uuid::Uuid::new_v4()));
            config.database_url = format!("sqlite://{}", path.display());
        }
        Db::Postgres => {
            config.database_url = database_url()?;
            config.database_schema = Some(format!("h_{}", uuid::Uuid::new_v4().simple()));
        }
    }
    adjust(&mut config);
    let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = slod::build(config).await.expect("the service starts");
    let state = app.state.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(slod::serve(app, listener, async move {
        let _ = stopped.await;
    }));
    Some(TestServer {
        base,
        client: Client::new(),
        state,
        shutdown: Some(stop),
    })
}

/// A second replica of `a`: another server on the same database (and, on PostgreSQL, the same
/// schema), with `adjust` applied.
pub async fn replica_of(a: &TestServer, adjust: impl FnOnce(&mut Config)) -> TestServer {
    let (url, schema) = (
        a.state.config.database_url.clone(),
        a.state.config.database_schema.clone(),
    );
    start(Db::Sqlite, |c| {
        c.database_url = url;
        c.database_schema = schema;
        adjust(c);
    })
    .await
    .expect("a second replica starts")
}

/// The address a `slod serve` child (run with `SLOD_LOG_FORMAT=json`) logs at start; the rest
/// of its log is drained in the background so it never blocks on a full pipe.
pub fn logged_address(child: &mut std::process::Child) -> String {
    use std::io::{BufRead, BufReader};
    let mut lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
    let address = loop {
        let line = lines.next().expect("the server logs its address").unwrap();
        let value: Value = serde_json::from_str(&line).unwrap();
        if let Some(address) = value["fields"]["address"].as_str() {
            break address.to_owned();
        }
    };
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if std::env::var("DEBUG_REPLICA").is_ok() {
                eprintln!("{line}");
            }
        }
    });
    address
}

impl TestServer {
    /// A request with the admin token and a JSON body (if any).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_as(Some(ADMIN), method, path, body).await
    }

    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        decode(request.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// A raw body with the given content type.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(ADMIN)
            .body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        decode(request.send().await.unwrap()).await
    }

    /// Everything a client can read, to show that a rejected request changed nothing.
    pub async fn snapshot(&self) -> Value {
        let (_, systems) = self.get("/api/v1/systems?limit=1000").await;
        let mut out = vec![systems.clone()];
        for system in systems["systems"].as_array().unwrap() {
            let id = system["id"].as_str().unwrap();
            let (_, checks) = self.get(&format!("/api/v1/systems/{id}/checks")).await;
            for check in checks.as_array().unwrap() {
                let (_, results) = self
                    .get(&format!(
                        "/api/v1/checks/{}/results?limit=1000",
                        check["id"].as_str().unwrap()
                    ))
                    .await;
                out.push(results);
            }
            out.push(checks);
            out.push(self.get(&format!("/api/v1/systems/{id}/health")).await.1);
        }
        Value::Array(out)
    }
}

/// One request with the admin token and a JSON body to a server at `base` (one the test did
/// not start in process), decoded.
pub async fn send(
    client: &Client,
    base: &str,
    method: &str,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let response = client
        .request(method.parse().unwrap(), format!("{base}{path}"))
        .bearer_auth(ADMIN)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn decode(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

/// The error code of an error answer.
pub fn code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or("<not an error body>")
}

pub fn minutes_ago(m: i64) -> String {
    jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_mins(m))
        .unwrap()
        .to_string()
}

pub async fn system_with_check(s: &TestServer, id: &str, deps: &[&str]) -> String {
    let (status, body) = s
        .post(
            "/api/v1/systems",
            json!({"id": id, "name": id, "dependsOn": deps}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, check) = s
        .post(
            &format!("/api/v1/systems/{id}/checks"),
            json!({"name": "agent", "kind": "push"}),
        )
        .await;
    check["id"].as_str().unwrap().to_owned()
}

pub async fn results(s: &TestServer, check: &str, batch: Value) {
    let (status, body) = s
        .post(
            &format!("/api/v1/checks/{check}/results"),
            json!({ "results": batch }),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

/// A system `id` with a push check that reported healthy 30 minutes ago, and one objective
/// on it (`objective` is the create body without `systemId`). Returns (check id, objective id).
pub async fn watched_system(
    s: &TestServer,
    id: &str,
    mut objective_body: Value,
) -> (String, String) {
    let check = system_with_check(s, id, &[]).await;
    results(
        s,
        &check,
        json!([{"status": "healthy", "at": minutes_ago(30)}]),
    )
    .await;
    objective_body["systemId"] = json!(id);
    let objective = objective(s, objective_body).await;
    (check, objective)
}

pub async fn objective(s: &TestServer, body: Value) -> String {
    let (status, created) = s.post("/api/v1/objectives", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().unwrap().to_owned()
}

pub fn close(a: &Value, b: f64) -> bool {
    (a.as_f64().unwrap() - b).abs() < 0.05
}

/// Each case as `sqlite::<name>` and `postgres::<name>`.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name($crate::support::Db::Sqlite).await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name($crate::support::Db::Postgres).await } )* }
    };
}

/// A minimal Server-Sent Events reader that, like a browser's EventSource, remembers the last
/// event id it saw and the server's retry hint.
pub struct Events {
    stream:
        std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
    /// The last `id:` seen (sent back as `Last-Event-ID` on a reconnect).
    pub last_id: Option<String>,
    /// The last `retry:` hint, in milliseconds.
    pub retry: Option<u64>,
}

impl Events {
    pub async fn open(s: &TestServer, query: &str) -> Events {
        Events::open_at(&s.client, &s.base, query).await
    }

    /// Opens the stream of the server at `base` (e.g. another process).
    pub async fn open_at(client: &Client, base: &str, query: &str) -> Events {
        Events::resume_at(client, base, query, None).await
    }

    /// Reconnects, as an EventSource does, with `Last-Event-ID: last_id`.
    pub async fn resume_at(
        client: &Client,
        base: &str,
        query: &str,
        last_id: Option<&str>,
    ) -> Events {
        let mut request = client
            .get(format!("{base}/api/v1/signals{query}"))
            .bearer_auth(ADMIN);
        if let Some(id) = last_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Events {
            stream: Box::pin(response.bytes_stream()),
            buffer: String::new(),
            last_id: last_id.map(str::to_owned),
            retry: None,
        }
    }

    /// The next block of the stream as (event name, data), empty for a block without an
    /// event (a keep-alive, or one that only moves the last event id).
    async fn block(&mut self) -> (String, String) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    } else if let Some(v) = line.strip_prefix("id:") {
                        self.last_id = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("retry:") {
                        self.retry = v.trim().parse().ok();
                    }
                }
                return (name, data);
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.stream.next())
                .await
                .expect("a signal within 10 s")
                .expect("the stream stays open")
                .unwrap();
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next event as (name, data).
    pub async fn next(&mut self) -> (String, Value) {
        loop {
            let (name, data) = self.block().await;
            if !name.is_empty() {
                return (name, serde_json::from_str(&data).unwrap());
            }
        }
    }

    /// Reads the opening block of a new connection: where the client stands.
    pub async fn positioned(&mut self) -> String {
        let (name, _) = self.block().await;
        assert!(
            name.is_empty(),
            "a new connection opens with its position, not {name}"
        );
        self.last_id
            .clone()
            .expect("the opening block carries an id")
    }

    /// Waits for the first event matching `wanted`.
    pub async fn until(&mut self, wanted: impl Fn(&str, &Value) -> bool) -> Value {
        loop {
            let (name, data) = self.next().await;
            if wanted(&name, &data) {
                return data;
            }
        }
    }
}
