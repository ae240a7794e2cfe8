//! Faults, each against servers the test starts itself (never the machine's shared Redis or
//! PostgreSQL): Redis killed under read load, PostgreSQL cut by a proxy, SIGTERM under load,
//! SQLite on a full or read-only disk, and many writers racing on the same systems.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::faults::{OwnRedis, Proxy, Tmpfs};
use crate::support::*;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

/// A client whose requests give up after 5 s, so a hung request fails the test instead of
/// hanging it.
fn impatient() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// Asserts an error answer of the API's one shape with `status` and `code`; returns its
/// message.
fn assert_error(status: StatusCode, body: &Value, wanted: StatusCode, wanted_code: &str) -> String {
    assert_eq!(status, wanted, "{body}");
    assert_eq!(code(body), wanted_code, "{body}");
    assert_eq!(body["error"]["details"], json!([]), "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{body}");
    message.to_owned()
}

/// Readers hammer an objective and bulk-status on the Redis cache while its `redis-server` is
/// killed and restarted: not one read fails or answers older data than the last change made
/// before it was sent (a change made while Redis is down, and one after it is back), and once
/// it is back the cache is used again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_under_read_load_fails_no_read() {
    let Some(mut redis) = OwnRedis::start() else {
        return;
    };
    let url = redis.url();
    let s = start(Db::Sqlite, |c| c.cache = url).await.unwrap();
    let (check, id) = watched_system(
        &s,
        "svc",
        json!({"name": "v0", "target": 99.9, "windowDays": 30}),
    )
    .await;

    // The last name written before a read is sent; the read must show it or a later one.
    let version = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let reads = Arc::new(AtomicUsize::new(0));
    let mut readers = Vec::new();
    for reader in 0..4 {
        let (version, stop, failures, reads) = (
            version.clone(),
            stop.clone(),
            failures.clone(),
            reads.clone(),
        );
        let (client, base, id) = (impatient(), s.base.clone(), id.clone());
        readers.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let at_least = version.load(Ordering::SeqCst);
                let request = if reader % 2 == 0 {
                    client.get(format!("{base}/api/v1/objectives/{id}"))
                } else {
                    client
                        .post(format!("{base}/api/v1/objectives/bulk-status"))
                        .json(&json!({"systemIds": ["svc"]}))
                };
                let answer = async {
                    let response = request.send().await.map_err(|e| e.to_string())?;
                    let status = response.status();
                    let body: Value = response.json().await.map_err(|e| e.to_string())?;
                    let found = if reader % 2 == 0 {
                        &body
                    } else {
                        &body["systems"]["svc"][0]
                    };
                    let name = found["objective"]["name"].as_str().unwrap_or("?");
                    let fresh = name
                        .strip_prefix('v')
                        .and_then(|n| n.parse::<usize>().ok())
                        .is_some_and(|n| n >= at_least);
                    if status != StatusCode::OK || found["objective"]["id"] != id || !fresh {
                        return Err(format!("{status} (wanted v{at_least} or later): {body}"));
                    }
                    Ok(())
                };
                if let Err(failure) = answer.await {
                    failures.lock().unwrap().push(failure);
                }
                reads.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    let rename = |n: usize| {
        let (s, id, version) = (&s, &id, &version);
        async move {
            let (status, body) = s
                .patch(
                    &format!("/api/v1/objectives/{id}"),
                    json!({"name": format!("v{n}")}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            version.store(n, Ordering::SeqCst);
        }
    };

    tokio::time::sleep(Duration::from_millis(500)).await;
    rename(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    redis.kill();
    let before_outage = reads.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(700)).await;
    rename(2).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let during_outage = reads.load(Ordering::SeqCst) - before_outage;
    redis.restart();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    rename(3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::SeqCst);
    for reader in readers {
        reader.await.unwrap();
    }
    let failures = std::mem::take(&mut *failures.lock().unwrap());
    assert!(
        failures.is_empty(),
        "{} failed reads of {}, first: {}",
        failures.len(),
        reads.load(Ordering::SeqCst),
        failures[0]
    );
    assert!(
        during_outage > 20,
        "only {during_outage} reads while Redis was down"
    );

    // A health change after the restart is read fresh, and the restarted Redis holds entries
    // again: reads went back to the cache.
    results(&s, &check, json!([{"status": "unhealthy"}])).await;
    let (_, now) = s.get(&format!("/api/v1/objectives/{id}")).await;
    assert_eq!(now["status"]["hasOpenDowntime"], true, "{now}");
    let client = redis::Client::open(redis.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let keys: i64 = redis::cmd("DBSIZE")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(keys > 0, "the restarted Redis is used again");
}

/// The PostgreSQL connections pass through a proxy the test owns. Cut, every request that needs
/// the database (reads with no cache, writes, `/readyz`) fails within 5 s with 503 and the
/// API's JSON error; restored, the same process answers again without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cut_answers_503_fast_and_recovers_without_a_restart() {
    let Some(url) = database_url() else {
        return;
    };
    let mut proxied = reqwest::Url::parse(&url).unwrap();
    let upstream = tokio::net::lookup_host((
        proxied.host_str().unwrap().to_owned(),
        proxied.port().unwrap_or(5432),
    ))
    .await
    .unwrap()
    .next()
    .unwrap();
    let proxy = Proxy::start(upstream).await;
    proxied.set_host(Some("127.0.0.1")).unwrap();
    proxied.set_port(Some(proxy.port)).unwrap();
    let s = start(Db::Postgres, |c| {
        c.database_url = proxied.to_string();
        c.cache = "none".into();
        c.database_timeout_ms = 1000;
    })
    .await
    .unwrap();
    let (check, id) = watched_system(&s, "svc", json!({"target": 99.9, "windowDays": 30})).await;
    let objective = format!("/api/v1/objectives/{id}");
    let posted = format!("/api/v1/checks/{check}/results");

    proxy.cut();
    for _ in 0..2 {
        for (method, path, body) in [
            (reqwest::Method::GET, objective.as_str(), None),
            (
                reqwest::Method::POST,
                posted.as_str(),
                Some(json!({"status": "unhealthy"})),
            ),
            (
                reqwest::Method::POST,
                "/api/v1/systems",
                Some(json!({"id": "other", "name": "other"})),
            ),
        ] {
            let started = Instant::now();
            let (status, answer) = s.call(method.clone(), path, body).await;
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{method} {path} took {:?}",
                started.elapsed()
            );
            assert_error(
                status,
                &answer,
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
            );
        }
    }
    let (status, ready) = s.get("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{ready}");
    assert_eq!(ready["database"], "unreachable", "{ready}");

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.get("/readyz").await.0 != StatusCode::OK {
        assert!(Instant::now() < deadline, "the database never came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    results(&s, &check, json!([{"status": "unhealthy"}])).await;
    let (status, now) = s.get(&objective).await;
    assert_eq!(status, StatusCode::OK, "{now}");
    assert_eq!(now["status"]["hasOpenDowntime"], true, "{now}");
    let (status, _) = s.get("/api/v1/systems/other").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the refused create wrote nothing"
    );
}

/// What a client saw of one request.
enum Outcome {
    /// A full answer.
    Answered(StatusCode),
    /// No answer began: it never reached the server, or the server never read it.
    NotServed,
    /// The answer began, then was cut.
    Cut(String),
}

async fn outcome(request: reqwest::RequestBuilder) -> Outcome {
    let response = match request.send().await {
        Ok(response) => response,
        Err(_) => return Outcome::NotServed,
    };
    let status = response.status();
    match response.bytes().await {
        Ok(body) if serde_json::from_slice::<Value>(&body).is_ok() => Outcome::Answered(status),
        Ok(body) => Outcome::Cut(format!("{status}: {}", String::from_utf8_lossy(&body))),
        Err(e) => Outcome::Cut(e.to_string()),
    }
}

/// SIGTERM while clients read and write and an event stream is open: the process exits 0 well
/// within its stated grace (10 s, README "Operations"), the stream ends cleanly, every request
/// either got its whole answer or was never served, and afterwards every accepted write is in
/// the database, every batch whole or absent, and the file passes `PRAGMA integrity_check`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_finishes_requests_and_ends_streams() {
    let path = std::env::temp_dir().join(format!("slod-term-{}.db", uuid::Uuid::new_v4()));
    let db = format!("sqlite://{}", path.display());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_slod"))
        .arg("serve")
        .env("SLOD_DATABASE_URL", &db)
        .env("SLOD_LISTEN", "127.0.0.1:0")
        .env("SLOD_ADMIN_TOKEN", ADMIN)
        .env("SLOD_LOG_FORMAT", "json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://{}", logged_address(&mut child));
    let client = impatient();
    let mut checks = Vec::new();
    for n in 0..4 {
        let system = format!("s{n}");
        let (status, _) = send(
            &client,
            &base,
            "POST",
            "/api/v1/systems",
            json!({"id": system, "name": system}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        let (_, check) = send(
            &client,
            &base,
            "POST",
            &format!("/api/v1/systems/{system}/checks"),
            json!({"name": "agent", "kind": "push"}),
        )
        .await;
        checks.push(check["id"].as_str().unwrap().to_owned());
        send(
            &client,
            &base,
            "POST",
            "/api/v1/objectives",
            json!({"systemId": system, "target": 99.9, "windowDays": 30}),
        )
        .await;
    }
    let sse = client
        .get(format!("{base}/api/v1/signals"))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    let stream_end = tokio::spawn(async move {
        use futures_util::StreamExt;
        let mut stream = sse.bytes_stream();
        while let Some(chunk) = stream.next().await {
            chunk.map_err(|e| e.to_string())?;
        }
        Ok::<(), String>(())
    });

    // Writers (one check each, batches of 3 results tagged `w<writer>-<n>`) and readers, each
    // on a new connection per request, until the server is gone.
    let since = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(30);
    let mut clients = Vec::new();
    for n in 0..8usize {
        let client = Client::builder()
            .timeout(Duration::from_secs(20))
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let (base, check) = (base.clone(), checks[n % 4].clone());
        clients.push(tokio::spawn(async move {
            let mut accepted = Vec::new();
            for i in 0.. {
                let tag = format!("w{n}-{i}");
                let request = if n < 4 {
                    let batch: Vec<Value> = ["unhealthy", "healthy", "unhealthy"]
                        .iter()
                        .enumerate()
                        .map(|(k, status)| {
                            let at = since
                                .checked_add(jiff::SignedDuration::from_millis((i * 3 + k) as i64))
                                .unwrap();
                            json!({"status": status, "message": tag, "at": at.to_string()})
                        })
                        .collect();
                    client
                        .post(format!("{base}/api/v1/checks/{check}/results"))
                        .bearer_auth(ADMIN)
                        .json(&json!({ "results": batch }))
                } else {
                    client.get(format!("{base}/api/v1/systems/s{}/objectives", n % 4))
                };
                match outcome(request).await {
                    Outcome::Answered(status) if status.is_success() => {
                        if n < 4 {
                            accepted.push(tag);
                        }
                    }
                    Outcome::Answered(status) => panic!("{tag}: answered {status}"),
                    Outcome::NotServed => return (i, accepted),
                    Outcome::Cut(why) => panic!("{tag}: cut midway: {why}"),
                }
            }
            unreachable!()
        }));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let signalled = Instant::now();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(12),
            "slod did not exit within 12 s of SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "exit status {status:?}");
    let stream = tokio::time::timeout(Duration::from_secs(1), stream_end)
        .await
        .expect("the event stream ended with the process")
        .unwrap();
    assert_eq!(stream, Ok(()), "the event stream ends cleanly");
    let mut accepted = Vec::new();
    let mut requests = 0;
    for task in clients {
        let (sent, mine) = task.await.unwrap();
        requests += sent;
        accepted.extend(mine);
    }
    assert!(
        requests > 20 && !accepted.is_empty(),
        "load: {requests} requests"
    );

    // The database after the fact: every accepted batch whole, no batch in part.
    let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(integrity, "ok");
    let stored: Vec<(String, i64)> =
        sqlx::query_as("SELECT message, COUNT(*) FROM check_results GROUP BY message")
            .fetch_all(&pool)
            .await
            .unwrap();
    let stored: std::collections::HashMap<String, i64> = stored.into_iter().collect();
    for (tag, count) in &stored {
        assert_eq!(*count, 3, "batch {tag} is stored in part");
    }
    for tag in &accepted {
        assert!(stored.contains_key(tag), "accepted batch {tag} is lost");
    }
}

/// SQLite on a 4 MB tmpfs, filled up: writes answer 503 saying the disk is full (never 500),
/// and once space is freed they work again, earlier data is intact and `PRAGMA
/// integrity_check` passes. On a copy of the file on a read-only mount the service either refuses
/// to start with SQLite's reason or serves reads and refuses writes with 503, and the file is
/// left intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_on_a_full_or_read_only_disk_fails_clearly_and_corrupts_nothing() {
    let Some(disk) = Tmpfs::mount("4m") else {
        return;
    };
    let db = format!("sqlite://{}", disk.dir.join("slod.db").display());
    let s = start(Db::Sqlite, |c| c.database_url = db.clone())
        .await
        .unwrap();
    let (check, id) = watched_system(&s, "svc", json!({"target": 99.9, "windowDays": 30})).await;
    results(
        &s,
        &check,
        json!([{"status": "unhealthy", "at": minutes_ago(20)}]),
    )
    .await;
    let objective = format!("/api/v1/objectives/{id}");
    let (_, before) = s.get(&objective).await;

    // Fill the disk, then write until the database needs room it cannot get.
    let filler = disk.dir.join("filler");
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
    }
    let long = "x".repeat(1000);
    let mut refused = None;
    for n in 0..500 {
        let batch: Vec<Value> = (0..20)
            .map(|_| json!({"status": "unhealthy", "message": long}))
            .collect();
        let (status, body) = s
            .post(
                &format!("/api/v1/checks/{check}/results"),
                json!({ "results": batch }),
            )
            .await;
        match status {
            StatusCode::ACCEPTED => continue,
            _ => {
                let message = assert_error(
                    status,
                    &body,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                );
                assert!(message.contains("disk is full"), "write {n}: {message}");
                refused = Some(message);
                break;
            }
        }
    }
    assert!(refused.is_some(), "the disk never filled up");
    let (status, during) = s.get(&objective).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "reads work on a full disk: {during}"
    );

    std::fs::remove_file(&filler).unwrap();
    results(&s, &check, json!([{"status": "healthy"}])).await;
    let (_, after) = s.get(&objective).await;
    assert_eq!(after["objective"], before["objective"]);
    assert_eq!(after["status"]["hasOpenDowntime"], false, "{after}");
    assert!(close(
        &after["status"]["errorBudgetConsumedMinutes"],
        before["status"]["errorBudgetConsumedMinutes"]
            .as_f64()
            .unwrap()
    ));
    let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(integrity, "ok");
    pool.close().await;

    // Read-only: a mount cannot turn read-only under open files, and a stopped in-process
    // server may hold its files a while, so the database is copied to a second tmpfs that is
    // then remounted read-only with nothing open on it.
    let state = s.state.clone();
    drop(s);
    state.store.close().await;
    drop(state);
    let Some(read_only) = Tmpfs::mount("4m") else {
        return;
    };
    let mut copied = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let from = disk.dir.join(format!("slod.db{suffix}"));
        if from.exists() {
            let to = read_only.dir.join(format!("slod.db{suffix}"));
            std::fs::copy(&from, &to).unwrap();
            copied.push((to.clone(), std::fs::read(&to).unwrap()));
        }
    }
    read_only.remount("ro");
    let ro_db = format!("sqlite://{}", read_only.dir.join("slod.db").display());
    // SQLite opens a WAL database on a read-only file system only if its -wal and -shm
    // files are there (they are when the server above had not checkpointed yet). Either the
    // service refuses to start with SQLite's reason, or it serves reads and refuses writes
    // with 503 saying the database is read-only.
    let opened = slod::build(slod::Config {
        database_url: ro_db.clone(),
        ..slod::Config::default()
    })
    .await;
    match opened {
        Err(refused) => {
            let message = format!("{refused:#}");
            // SQLite's own reason, not the pool's timeout that used to hide it.
            assert!(
                message.contains("database") && message.contains("unable to open database file"),
                "{message}"
            );
            eprintln!("on a read-only mount the service refuses to start: {message}");
        }
        Ok(app) => {
            app.state.store.close().await;
            drop(app);
            let ro = start(Db::Sqlite, |c| c.database_url = ro_db.clone())
                .await
                .unwrap();
            let (status, again) = ro.get(&objective).await;
            assert_eq!(status, StatusCode::OK, "{again}");
            assert_eq!(again["objective"], before["objective"]);
            let (status, body) = ro
                .post(
                    &format!("/api/v1/checks/{check}/results"),
                    json!({"status": "healthy"}),
                )
                .await;
            let message = assert_error(
                status,
                &body,
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
            );
            assert!(message.contains("read-only"), "{message}");
            eprintln!("on a read-only mount reads are served and writes refused: {message}");
        }
    }
    for (file, bytes) in &copied {
        assert_eq!(
            &std::fs::read(file).unwrap(),
            bytes,
            "{} untouched",
            file.display()
        );
    }
    let s = start(Db::Sqlite, |c| c.database_url = db.clone())
        .await
        .unwrap();
    let (status, again) = s.get(&objective).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["objective"], before["objective"]);
    results(&s, &check, json!([{"status": "healthy"}])).await;
}

/// Sixteen tasks for 4 s on three systems: objectives created, renamed and deleted, health
/// flipping on shared checks at server time, checks and whole systems created and deleted,
/// incidents opened and resolved. Nothing answers 5xx; afterwards at most one open interval per
/// system and per check, a check is down exactly when its latest result is, no row refers to
/// a deleted one, and every status the API serves equals the engine's recomputation from the
/// stored timeline at the instant the status was computed.
async fn concurrent_writers_leave_a_consistent_timeline(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let s = Arc::new(s);
    let mut checks = Vec::new();
    for n in 0..3 {
        let (check, _) = watched_system(
            &s,
            &format!("s{n}"),
            json!({"target": 99.9, "windowDays": 30}),
        )
        .await;
        checks.push(check);
    }
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let until = Instant::now() + Duration::from_secs(4);
    let mut tasks = Vec::new();
    for task in 0..16usize {
        let (s, failures, check) = (s.clone(), failures.clone(), checks[task % 3].clone());
        let system = format!("s{}", task % 3);
        tasks.push(tokio::spawn(async move {
            let expect = |what: &str, (status, body): (StatusCode, Value)| {
                if !(status.is_success()
                    || status == StatusCode::NOT_FOUND
                    || status == StatusCode::CONFLICT)
                {
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("{what}: {status} {body}"));
                }
                body
            };
            let mut i = 0usize;
            while Instant::now() < until {
                i += 1;
                match task % 4 {
                    0 => {
                        let created = expect(
                            "create objective",
                            s.post(
                                "/api/v1/objectives",
                                json!({"systemId": system, "target": 99.5, "windowDays": 30}),
                            )
                            .await,
                        );
                        let Some(id) = created["id"].as_str() else {
                            continue;
                        };
                        expect(
                            "rename objective",
                            s.patch(
                                &format!("/api/v1/objectives/{id}"),
                                json!({"name": format!("o{i}")}),
                            )
                            .await,
                        );
                        if i % 2 == 0 {
                            expect(
                                "delete objective",
                                s.delete(&format!("/api/v1/objectives/{id}")).await,
                            );
                        }
                    }
                    1 => {
                        let status = if i % 2 == 0 { "healthy" } else { "unhealthy" };
                        // Without `at` a result is recorded when it arrives: pushes racing on
                        // one check never conflict.
                        let (code, body) = s
                            .post(
                                &format!("/api/v1/checks/{check}/results"),
                                json!({"status": status}),
                            )
                            .await;
                        if !code.is_success() {
                            failures
                                .lock()
                                .unwrap()
                                .push(format!("post result: {code} {body}"));
                        }
                    }
                    2 => {
                        let opened = expect(
                            "open incident",
                            s.post(
                                "/api/v1/incidents",
                                json!({"systemIds": [system], "title": "t"}),
                            )
                            .await,
                        );
                        if let Some(id) = opened["id"].as_str() {
                            expect(
                                "resolve incident",
                                s.post(&format!("/api/v1/incidents/{id}/resolve"), json!({}))
                                    .await,
                            );
                        }
                    }
                    _ if i % 2 == 0 => {
                        let (status, body) = s
                            .post(
                                &format!("/api/v1/systems/{system}/checks"),
                                json!({"name": format!("c{task}-{i}"), "kind": "push"}),
                            )
                            .await;
                        let body = expect("create check", (status, body));
                        let Some(extra) = body["id"].as_str() else {
                            continue;
                        };
                        expect(
                            "post to new check",
                            s.post(
                                &format!("/api/v1/checks/{extra}/results"),
                                json!({"status": "unhealthy"}),
                            )
                            .await,
                        );
                        expect(
                            "delete check",
                            s.delete(&format!("/api/v1/checks/{extra}")).await,
                        );
                    }
                    _ => {
                        let id = format!("t{task}-{i}");
                        expect(
                            "create system",
                            s.post(
                                "/api/v1/systems",
                                json!({"id": id, "name": id, "dependsOn": [system]}),
                            )
                            .await,
                        );
                        let check = expect(
                            "create its check",
                            s.post(
                                &format!("/api/v1/systems/{id}/checks"),
                                json!({"name": "agent", "kind": "push"}),
                            )
                            .await,
                        );
                        if let Some(check) = check["id"].as_str() {
                            expect(
                                "post to its check",
                                s.post(
                                    &format!("/api/v1/checks/{check}/results"),
                                    json!({"status": "unhealthy"}),
                                )
                                .await,
                            );
                        }
                        expect(
                            "objective on it",
                            s.post(
                                "/api/v1/objectives",
                                json!({"systemId": id, "target": 99.0, "windowDays": 30}),
                            )
                            .await,
                        );
                        expect(
                            "delete system",
                            s.delete(&format!("/api/v1/systems/{id}")).await,
                        );
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let failures = std::mem::take(&mut *failures.lock().unwrap());
    assert!(
        failures.is_empty(),
        "{} failed: {:#?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );

    let pool = raw_pool(&s).await;
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
            (sql, n)
        }
    };
    for (sql, n) in [
        count("SELECT COUNT(*) FROM (SELECT system_id FROM down_intervals WHERE end_at IS NULL AND check_id IS NULL GROUP BY system_id HAVING COUNT(*) > 1) x").await,
        count("SELECT COUNT(*) FROM (SELECT check_id FROM down_intervals WHERE end_at IS NULL AND check_id IS NOT NULL GROUP BY check_id HAVING COUNT(*) > 1) x").await,
        count("SELECT COUNT(*) FROM down_intervals WHERE end_at IS NOT NULL AND end_at < start_at").await,
        // A check is down (an open interval) exactly when its latest result is unhealthy.
        count("SELECT COUNT(*) FROM checks c WHERE (c.latest_status = 'unhealthy') <> EXISTS (SELECT 1 FROM down_intervals d WHERE d.check_id = c.id AND d.end_at IS NULL)").await,
        count("SELECT COUNT(*) FROM objectives o WHERE NOT EXISTS (SELECT 1 FROM systems s WHERE s.id = o.system_id)").await,
        count("SELECT COUNT(*) FROM objectives o WHERE o.health_check_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM checks c WHERE c.id = o.health_check_id)").await,
        count("SELECT COUNT(*) FROM checks c WHERE NOT EXISTS (SELECT 1 FROM systems s WHERE s.id = c.system_id)").await,
        count("SELECT COUNT(*) FROM check_results r WHERE NOT EXISTS (SELECT 1 FROM checks c WHERE c.id = r.check_id)").await,
        count("SELECT COUNT(*) FROM down_intervals d WHERE NOT EXISTS (SELECT 1 FROM systems s WHERE s.id = d.system_id) OR (d.check_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM checks c WHERE c.id = d.check_id))").await,
        count("SELECT COUNT(*) FROM system_health h WHERE NOT EXISTS (SELECT 1 FROM systems s WHERE s.id = h.system_id)").await,
        count("SELECT COUNT(*) FROM incident_systems i WHERE NOT EXISTS (SELECT 1 FROM systems s WHERE s.id = i.system_id)").await,
        count("SELECT COUNT(*) FROM system_dependencies d WHERE NOT EXISTS (SELECT 1 FROM systems s WHERE s.id = d.system_id) OR NOT EXISTS (SELECT 1 FROM systems s WHERE s.id = d.depends_on)").await,
    ] {
        assert_eq!(n, 0, "{sql}");
    }

    // Every served status (cached, possibly computed a while ago) equals the engine's at the
    // instant it was computed, from what is stored now.
    let systems: Vec<String> = (0..3).map(|n| format!("s{n}")).collect();
    let (_, served) = s
        .post(
            "/api/v1/objectives/bulk-status",
            json!({ "systemIds": systems }),
        )
        .await;
    let mut compared = 0;
    for system in &systems {
        for entry in served["systems"][system].as_array().unwrap() {
            let at: jiff::Timestamp = entry["status"]["computedAt"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            let fresh =
                slod::views::compute_statuses(&s.state.store, std::slice::from_ref(system), at)
                    .await
                    .unwrap();
            let fresh = serde_json::to_value(&fresh[system]).unwrap();
            let id = &entry["objective"]["id"];
            let recomputed = fresh
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["objective"]["id"] == *id);
            assert_eq!(Some(entry), recomputed, "objective {id} of {system}");
            compared += 1;
        }
        let (_, listed) = s.get(&format!("/api/v1/systems/{system}/objectives")).await;
        assert_eq!(
            listed.as_array().map(Vec::len),
            served["systems"][system].as_array().map(Vec::len),
            "{listed}"
        );
    }
    assert!(compared >= 3);
}

/// A pool on the server's database (its PostgreSQL schema first on the search path).
async fn raw_pool(s: &TestServer) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let url = s.state.config.database_url.clone();
    let schema = s.state.config.database_schema.clone();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .after_connect(move |conn, _| {
            let schema = schema.clone();
            Box::pin(async move {
                if let Some(schema) = schema {
                    use sqlx::Executor;
                    conn.execute(format!("SET search_path TO {schema}").as_str())
                        .await?;
                }
                Ok(())
            })
        })
        .connect(&url)
        .await
        .unwrap()
}

on_both!(concurrent_writers_leave_a_consistent_timeline);
