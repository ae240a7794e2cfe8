//! The `slod` binary itself: token minting, migrations, and graceful shutdown on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn slod() -> Command {
    Command::new(env!("CARGO_BIN_EXE_slod"))
}

/// Sends SIGTERM and waits (at most 10 s) for the process to exit.
fn terminate(child: &mut std::process::Child) -> std::process::ExitStatus {
    let signalled = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "slod did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn temp_db() -> String {
    format!(
        "sqlite://{}",
        std::env::temp_dir()
            .join(format!("slod-cli-{}.db", uuid::Uuid::new_v4()))
            .display()
    )
}

#[test]
fn token_create_prints_the_secret_alone_on_the_last_line_and_revoke_works() {
    let db = temp_db();
    let out = slod()
        .args(["token", "create", "--scope", "ingest", "--name", "ci"])
        .env("SLOD_DATABASE_URL", &db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let secret = stdout.lines().last().unwrap();
    assert!(
        secret.starts_with("slod_") && !secret.contains(' '),
        "{stdout}"
    );

    let list = slod()
        .args(["token", "list"])
        .env("SLOD_DATABASE_URL", &db)
        .output()
        .unwrap();
    let listed = String::from_utf8(list.stdout).unwrap();
    assert!(
        listed.contains("ci") && listed.contains("live") && !listed.contains(secret),
        "{listed}"
    );

    let bad = slod()
        .args(["token", "create", "--scope", "root", "--name", "x"])
        .env("SLOD_DATABASE_URL", &db)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown scope"));

    let revoke = slod()
        .args(["token", "revoke", "ci"])
        .env("SLOD_DATABASE_URL", &db)
        .output()
        .unwrap();
    assert!(revoke.status.success());
    let again = slod()
        .args(["token", "revoke", "ci"])
        .env("SLOD_DATABASE_URL", &db)
        .output()
        .unwrap();
    assert!(!again.status.success(), "nothing left to revoke");
}

#[test]
fn migrate_creates_the_database() {
    let db = temp_db();
    let out = slod()
        .arg("migrate")
        .env("SLOD_DATABASE_URL", &db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::path::Path::new(db.trim_start_matches("sqlite://")).exists());
}

#[tokio::test]
async fn serve_uses_minted_tokens_and_exits_cleanly_on_sigterm() {
    let db = temp_db();
    let out = slod()
        .args(["token", "create", "--scope", "manage", "--name", "ops"])
        .env("SLOD_DATABASE_URL", &db)
        .output()
        .unwrap();
    let secret = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();

    let mut child = slod()
        .arg("serve")
        .env("SLOD_DATABASE_URL", &db)
        .env("SLOD_LISTEN", "127.0.0.1:0")
        .env("SLOD_PUBLIC_READ", "false")
        .env("SLOD_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The startup log line names the bound address.
    let address = crate::support::logged_address(&mut child);
    let client = reqwest::Client::new();
    let url = format!("http://{address}/api/v1/systems");
    assert_eq!(client.get(&url).send().await.unwrap().status(), 401);
    assert_eq!(
        client
            .get(&url)
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let status = terminate(&mut child);
    assert!(status.success(), "exit status {status:?}");
}

#[tokio::test]
async fn demo_serves_simulated_systems_whose_results_keep_coming() {
    let mut child = slod()
        .arg("demo")
        .env("SLOD_LISTEN", "127.0.0.1:0")
        .env("SLOD_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines
        .next()
        .expect("the demo prints where it serves")
        .unwrap();
    let base = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("an address")
        .to_owned();
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("http://{base}{path}")).send();
    let systems: serde_json::Value = get("/api/v1/systems").await.unwrap().json().await.unwrap();
    assert_eq!(systems["systems"].as_array().unwrap().len(), 5);
    let objectives: serde_json::Value = get("/api/v1/objectives")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(objectives["objectives"].as_array().unwrap().len(), 6);
    let checks: serde_json::Value = get("/api/v1/systems/db/checks")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let results = format!(
        "/api/v1/checks/{}/results?limit=1000",
        checks[0]["id"].as_str().unwrap()
    );
    let count = |v: serde_json::Value| v["results"].as_array().unwrap().len();
    let before = count(get(&results).await.unwrap().json().await.unwrap());
    tokio::time::sleep(Duration::from_millis(4500)).await;
    let after = count(get(&results).await.unwrap().json().await.unwrap());
    assert!(
        after > before,
        "the simulation keeps reporting ({before} -> {after})"
    );

    let status = terminate(&mut child);
    assert!(status.success(), "exit status {status:?}");
}

#[tokio::test]
async fn jobs_run_reruns_a_day_and_replaces_its_snapshots() {
    let db = temp_db();
    let store = slod_store::Store::open(&db).await.unwrap();
    store.migrate().await.unwrap();
    let now = jiff::Timestamp::now();
    let two_days_ago = now
        .checked_sub(jiff::SignedDuration::from_hours(48))
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.create_system(
        slod_store::NewSystem {
            id: Some("svc".into()),
            name: "svc".into(),
            ..Default::default()
        },
        two_days_ago,
    )
    .await
    .unwrap();
    tx.create_objective(&slod_engine::Objective {
        id: "o1".into(),
        system_id: "svc".into(),
        health_check_id: None,
        name: None,
        target: 99.9,
        window_days: Some(7),
        window_kind: slod_engine::WindowKind::Rolling,
        time_zone: None,
        dependency_exclusion: slod_engine::DependencyExclusion::Strict,
        excluded_dependency_ids: vec![],
        exclude_maintenance_windows: false,
        burn_rate_thresholds: slod_engine::BurnRateThresholds::default(),
        created_at: two_days_ago,
        updated_at: two_days_ago,
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let yesterday = slod::jobs::day_of(now).yesterday().unwrap().to_string();
    for _ in 0..2 {
        let out = slod()
            .args(["jobs", "run", "daily", "--day", &yesterday])
            .env("SLOD_DATABASE_URL", &db)
            .env("SLOD_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("daily bookkeeping done"));
    }
    let taken = store
        .list_snapshots("o1", &yesterday, &yesterday)
        .await
        .unwrap();
    assert_eq!(taken.len(), 1, "a re-run replaces the day's snapshot");
    // The day before (the objective's first) is computed too, since every day counts from
    // the one before it: two healthy days, each counted once.
    assert_eq!(taken[0].streak_days, 2, "and counts the day once");

    let today = slod::jobs::day_of(now).to_string();
    for (args, complaint) in [
        (
            vec!["jobs", "run", "daily", "--day", today.as_str()],
            "has not ended yet",
        ),
        (vec!["jobs", "run", "weekly"], "unknown job"),
    ] {
        let out = slod()
            .args(&args)
            .env("SLOD_DATABASE_URL", &db)
            .env("SLOD_LOG", "warn")
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(complaint),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
