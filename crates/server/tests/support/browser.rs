//! Headless Chromium driven over the DevTools protocol (CDP), for the dashboard tests: a
//! small client over one WebSocket, in "flat" session mode. Debian's `chromium` must be
//! installed (`.ci/run` installs it); nothing is downloaded at test time.
//!
//! The page is "idle" when no request other than the event stream (`/signals`, open for the
//! page's whole life) has been in flight for a while: `--virtual-time-budget` would wait on
//! that stream forever.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

/// What the page did, gathered from CDP events.
#[derive(Default)]
struct Seen {
    /// Requests in flight (request id to URL), but the event stream.
    in_flight: HashMap<String, String>,
    /// When the last request ended or started.
    last_network: Option<Instant>,
    /// The document requests are counted for: a navigation's requests of the page it left
    /// may be cancelled without an event saying so.
    loader: Option<String>,
    /// Console errors and uncaught exceptions, as text.
    errors: Vec<String>,
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// One headless browser with one page. Killed on drop.
pub struct Browser {
    child: Child,
    out: mpsc::UnboundedSender<Message>,
    pending: Pending,
    seen: Arc<Mutex<Seen>>,
    next_id: Mutex<u64>,
    session: String,
    _profile: TempDir,
}

/// A throwaway profile directory.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Chromium binary, or `None` (skipped) when it is missing; a failure under
/// SLOD_REQUIRE_SERVICES=1, where `.ci/run` has installed it.
fn chromium() -> Option<String> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        let found = Command::new("which")
            .arg(name)
            .output()
            .is_ok_and(|o| o.status.success());
        if found {
            return Some(name.to_owned());
        }
    }
    if std::env::var("SLOD_REQUIRE_SERVICES").is_ok_and(|v| v == "1") {
        panic!("SLOD_REQUIRE_SERVICES=1 but chromium is not installed (apt-get install chromium)");
    }
    eprintln!("skipped: chromium is not installed");
    None
}

impl Browser {
    /// Starts headless Chromium with a page of `width` x `height` CSS pixels (a phone when
    /// narrower than 500), or `None` when Chromium is not installed.
    pub async fn launch(width: u32, height: u32) -> Option<Browser> {
        let binary = chromium()?;
        let profile = std::env::temp_dir().join(format!("slod-chromium-{}", uuid::Uuid::new_v4()));
        let mut child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "about:blank",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chromium starts");
        let url = devtools_url(&mut child);
        let (socket, _) = tokio_tungstenite::connect_async(&url)
            .await
            .expect("the DevTools socket opens");
        let (mut sink, mut stream) = socket.split();
        let (out, mut outgoing) = mpsc::unbounded_channel::<Message>();
        tokio::spawn(async move {
            while let Some(message) = outgoing.recv().await {
                if sink.send(message).await.is_err() {
                    break;
                }
            }
        });
        let pending: Pending = Arc::default();
        let seen: Arc<Mutex<Seen>> = Arc::default();
        let (routes, gathered) = (pending.clone(), seen.clone());
        tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(value) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if let Some(id) = value["id"].as_u64() {
                    if let Some(reply) = routes.lock().unwrap().remove(&id) {
                        let _ = reply.send(value);
                    }
                } else {
                    observe(&mut gathered.lock().unwrap(), &value);
                }
            }
        });
        let mut browser = Browser {
            child,
            out,
            pending,
            seen,
            next_id: Mutex::new(0),
            session: String::new(),
            _profile: TempDir(profile),
        };
        let target = browser
            .call("Target.createTarget", json!({"url": "about:blank"}))
            .await;
        let attached = browser
            .call(
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
            )
            .await;
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        for domain in [
            "Runtime.enable",
            "Network.enable",
            "Log.enable",
            "Page.enable",
        ] {
            browser.call(domain, json!({})).await;
        }
        browser.set_viewport(width, height).await;
        Some(browser)
    }

    /// Sends one command (to the page once attached) and returns its result. Panics on a
    /// protocol error or after 30 s.
    pub async fn call(&self, method: &str, params: Value) -> Value {
        let id = {
            let mut next = self.next_id.lock().unwrap();
            *next += 1;
            *next
        };
        let (reply, answer) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, reply);
        let mut command = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            command["sessionId"] = json!(self.session);
        }
        self.out
            .send(Message::Text(command.to_string().into()))
            .expect("the socket is open");
        let value = tokio::time::timeout(Duration::from_secs(30), answer)
            .await
            .unwrap_or_else(|_| panic!("{method} got no answer in 30 s"))
            .expect("the browser answered");
        assert!(
            value["error"].is_null(),
            "{method} failed: {}",
            value["error"]
        );
        value["result"].clone()
    }

    /// Sets the page's size in CSS pixels; narrower than 500 emulates a phone.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500}),
        )
        .await;
    }

    /// Emulates the system's colour preference (`light` or `dark`).
    pub async fn prefer_colour_scheme(&self, scheme: &str) {
        self.call(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": scheme}]}),
        )
        .await;
    }

    /// Opens `url` and waits for the network to be idle. Requests of a document left behind
    /// are not counted: a navigation cancels them without always saying so.
    pub async fn goto(&self, url: &str) {
        let navigated = self.call("Page.navigate", json!({"url": url})).await;
        if let Some(loader) = navigated["loaderId"].as_str() {
            // A new document (not a same-document hash change): count its requests only.
            let mut seen = self.seen.lock().unwrap();
            seen.loader = Some(loader.to_owned());
            seen.in_flight.clear();
        }
        self.idle().await;
    }

    /// Waits until no request but the event stream has been in flight for 500 ms (at most
    /// 20 s).
    pub async fn idle(&self) {
        let started = Instant::now();
        tokio::time::sleep(Duration::from_millis(100)).await;
        loop {
            let busy = {
                let seen = self.seen.lock().unwrap();
                let quiet = seen
                    .last_network
                    .is_none_or(|at| at.elapsed() >= Duration::from_millis(500));
                if seen.in_flight.is_empty() && quiet {
                    return;
                }
                seen.in_flight.values().cloned().collect::<Vec<_>>()
            };
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the page's network was not idle within 20 s: {busy:?} in flight"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns its value.
    pub async fn eval(&self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        assert!(
            result["exceptionDetails"].is_null(),
            "{expression} threw: {}",
            result["exceptionDetails"]
        );
        result["result"]["value"].clone()
    }

    /// Polls `expression` until it is `true`, for at most `within`; returns how long it took.
    pub async fn wait_for(&self, expression: &str, within: Duration) -> Option<Duration> {
        let started = Instant::now();
        while started.elapsed() < within {
            if self.eval(expression).await == json!(true) {
                return Some(started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        None
    }

    /// Presses a key in the page (a `key` name such as `Tab` or `Enter`).
    pub async fn press(&self, key: &str) {
        for kind in ["keyDown", "keyUp"] {
            let code = match key {
                "Tab" => 9,
                "Enter" => 13,
                _ => 0,
            };
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code}),
            )
            .await;
        }
    }

    /// A PNG of the whole page (`full`) or of the viewport.
    pub async fn screenshot(&self, full: bool) -> Vec<u8> {
        use base64::Engine;
        let shot = self
            .call(
                "Page.captureScreenshot",
                json!({"format": "png", "captureBeyondViewport": full}),
            )
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap()
    }

    /// The requests in flight now (their URLs), but the event stream: for failure messages.
    pub fn in_flight(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .in_flight
            .values()
            .cloned()
            .collect()
    }

    /// Every console error and uncaught exception so far.
    pub fn errors(&self) -> Vec<String> {
        self.seen.lock().unwrap().errors.clone()
    }
}

/// Reads Chromium's stderr until it says where its DevTools socket listens; the rest of
/// stderr is drained in the background.
fn devtools_url(child: &mut Child) -> String {
    use std::io::{BufRead, BufReader};
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("chromium prints its DevTools address")
            .unwrap();
        if let Some(at) = line.find("ws://") {
            break line[at..].trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    url
}

/// Updates what the page did from one CDP event.
fn observe(seen: &mut Seen, event: &Value) {
    let params = &event["params"];
    match event["method"].as_str().unwrap_or("") {
        "Network.requestWillBeSent" => {
            let url = params["request"]["url"].as_str().unwrap_or("");
            let other_document = seen
                .loader
                .as_deref()
                .is_some_and(|loader| params["loaderId"].as_str() != Some(loader));
            if !url.contains("/api/v1/signals") && !other_document {
                seen.in_flight.insert(
                    params["requestId"].as_str().unwrap_or("").to_owned(),
                    url.to_owned(),
                );
                seen.last_network = Some(Instant::now());
            }
        }
        "Network.loadingFinished" | "Network.loadingFailed"
            if seen
                .in_flight
                .remove(params["requestId"].as_str().unwrap_or(""))
                .is_some() =>
        {
            seen.last_network = Some(Instant::now());
        }
        "Runtime.consoleAPICalled" if params["type"] == "error" => {
            seen.errors
                .push(format!("console.error: {}", params["args"]));
        }
        "Runtime.exceptionThrown" => {
            seen.errors
                .push(format!("uncaught: {}", params["exceptionDetails"]));
        }
        "Log.entryAdded" if params["entry"]["level"] == "error" => {
            seen.errors.push(format!(
                "log: {} {}",
                params["entry"]["text"], params["entry"]["url"]
            ));
        }
        _ => {}
    }
}
