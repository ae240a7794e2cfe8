//! The dashboard in a real browser (headless Chromium over the DevTools protocol), against a
//! running `slod demo`: every objective draws its charts, the page fits a 375 px phone in light
//! and dark, a result posted through the API shows within 2 s without a reload, the keyboard
//! reaches every view, nothing is logged to the console, and with public reads off the page
//! asks once for a token and streams with it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::browser::Browser;
use crate::support::{send, ADMIN};

/// A `slod demo` child process, killed on drop.
struct Demo {
    child: Child,
    base: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the demo binary on a free port, with the admin token so the test can post results,
/// and public reads on or off.
fn demo(public_read: bool) -> Demo {
    let mut child = Command::new(env!("CARGO_BIN_EXE_slod"))
        .args(["demo", "--listen", "127.0.0.1:0"])
        .env("SLOD_ADMIN_TOKEN", ADMIN)
        .env("SLOD_PUBLIC_READ", public_read.to_string())
        .env("SLOD_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("slod demo starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("the demo prints its address").unwrap();
        if let Some(at) = line.find("http://") {
            let rest = &line[at + "http://".len()..];
            break format!("http://{}", &rest[..rest.find('/').unwrap()]);
        }
    };
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    Demo { child, base }
}

const OBJECTIVE_IDS: &str =
    "JSON.stringify([...document.querySelectorAll('article.objective')].map(a => a.dataset.objective))";

#[tokio::test]
async fn the_demo_in_a_browser_charts_every_objective_fits_a_phone_and_updates_live() {
    let Some(browser) = Browser::launch(1280, 3000).await else {
        return;
    };
    let demo = demo(true);
    let client = reqwest::Client::new();
    browser.goto(&format!("{}/", demo.base)).await;
    assert_eq!(
        browser.eval("document.visibilityState").await,
        json!("visible"),
        "the page is looked at"
    );

    // Overview: every objective, each with a drawn burn-down sparkline.
    let ids: Vec<String> =
        serde_json::from_str(browser.eval(OBJECTIVE_IDS).await.as_str().unwrap()).unwrap();
    assert_eq!(ids.len(), 6, "the demo's six objectives are listed");
    let charted = browser
        .wait_for(
            "document.querySelectorAll('article.objective .spark.drawn canvas').length === 6",
            Duration::from_secs(5),
        )
        .await;
    assert!(charted.is_some(), "every objective draws its sparkline");
    let tiers = browser
        .eval("[...new Set([...document.querySelectorAll('article.objective .badge')].map(b => b.textContent))].sort().join(',')")
        .await;
    for tier in ["at risk", "breaching", "degraded", "healthy"] {
        assert!(tiers.as_str().unwrap().contains(tier), "{tier} in {tiers}");
    }
    // Sorted by remaining budget, least first (the default).
    let left: Vec<f64> = serde_json::from_str(
        browser
            .eval("JSON.stringify([...document.querySelectorAll('article.objective .spark')].map(s => Number(s.dataset.remaining)))")
            .await
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert!(left.windows(2).all(|w| w[0] <= w[1]), "sorted: {left:?}");
    assert!(
        browser
            .eval("document.querySelectorAll('#alerts .alert.page').length > 0")
            .await
            == json!(true),
        "the demo's ongoing payments outage pages, on top"
    );

    // The README's screenshot, taken by this browser: `SLOD_SCREENSHOT_DIR=docs cargo test dashboard`.
    if let Ok(dir) = std::env::var("SLOD_SCREENSHOT_DIR") {
        browser.set_viewport(1280, 860).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        std::fs::write(
            format!("{dir}/dashboard.png"),
            browser.screenshot(false).await,
        )
        .unwrap();
        browser.set_viewport(1280, 3000).await;
    }
    // Each objective's page: burn-down and availability charts, burn rates, downtime.
    for id in &ids {
        browser
            .goto(&format!("{}/#/objectives/{id}", demo.base))
            .await;
        let drawn = browser
            .wait_for(
                "document.querySelectorAll('.chart.drawn canvas').length === 2 && document.querySelectorAll('.burn').length === 7",
                Duration::from_secs(5),
            )
            .await;
        assert!(
            drawn.is_some(),
            "objective {id} draws its charts (in flight: {:?}, errors: {:?}, page: {})",
            browser.in_flight(),
            browser.errors(),
            browser
                .eval("document.getElementById('view').innerText.slice(0, 300)")
                .await
        );
    }
    browser.goto(&format!("{}/#/systems/api", demo.base)).await;
    assert!(
        browser
            .wait_for("document.querySelectorAll('.chart.drawn canvas').length >= 1 && document.body.textContent.includes('Depended on by')", Duration::from_secs(5))
            .await
            .is_some(),
        "the system page draws its checks' latency"
    );

    // A phone, light and dark: no horizontal scroll on any view.
    for scheme in ["light", "dark"] {
        browser.prefer_colour_scheme(scheme).await;
        browser.set_viewport(375, 800).await;
        for view in [
            "#/".to_owned(),
            format!("#/objectives/{}", ids[0]),
            "#/systems/api".to_owned(),
        ] {
            browser.goto(&format!("{}/{view}", demo.base)).await;
            let width = browser.eval("document.documentElement.scrollWidth").await;
            assert!(
                width.as_u64().unwrap() <= 375,
                "{view} in {scheme} is {width} px wide at 375 px"
            );
        }
    }
    let dark_background = browser
        .eval("getComputedStyle(document.body).backgroundColor")
        .await;
    browser.prefer_colour_scheme("light").await;
    let light_background = browser
        .eval("getComputedStyle(document.body).backgroundColor")
        .await;
    assert_ne!(dark_background, light_background, "light and dark differ");

    // Live: a failing result posted through the API shows without a reload, within 2 s.
    let (status, _) = send(
        &client,
        &demo.base,
        "POST",
        "/api/v1/systems",
        json!({"id": "browser", "name": "Browser check"}),
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::CREATED);
    let (_, check) = send(
        &client,
        &demo.base,
        "POST",
        "/api/v1/systems/browser/checks",
        json!({"name": "push", "kind": "push"}),
    )
    .await;
    let check = check["id"].as_str().unwrap().to_owned();
    send(
        &client,
        &demo.base,
        "POST",
        &format!("/api/v1/checks/{check}/results"),
        json!({"results": [{"status": "healthy"}]}),
    )
    .await;
    browser.set_viewport(1280, 1000).await;
    browser.goto(&format!("{}/", demo.base)).await;
    browser
        .eval("window.loadedOnce = true; document.body.textContent.includes('Browser check')")
        .await;
    let chip = "[...document.querySelectorAll('.system-chip')].find(c => c.textContent.startsWith('Browser check'))";
    assert!(browser
        .wait_for(
            &format!("{chip}?.querySelector('.badge').textContent === 'healthy'"),
            Duration::from_secs(2)
        )
        .await
        .is_some());
    let posted = Instant::now();
    send(
        &client,
        &demo.base,
        "POST",
        &format!("/api/v1/checks/{check}/results"),
        json!({"results": [{"status": "unhealthy", "message": "from the browser test"}]}),
    )
    .await;
    let shown = browser
        .wait_for(
            &format!("{chip}?.querySelector('.badge').textContent === 'unhealthy'"),
            Duration::from_secs(2),
        )
        .await;
    assert!(shown.is_some(), "the failing result showed within 2 s");
    eprintln!(
        "a failing result showed on the page {:?} after it was posted",
        posted.elapsed()
    );
    assert_eq!(
        browser.eval("window.loadedOnce").await,
        json!(true),
        "without a reload"
    );

    // The keyboard: Tab reaches an objective's link, Enter opens its page.
    let mut reached = false;
    for _ in 0..60 {
        browser.press("Tab").await;
        if browser
            .eval("!!document.activeElement.closest('article.objective .name')")
            .await
            == json!(true)
        {
            reached = true;
            break;
        }
    }
    assert!(reached, "Tab reaches an objective");
    browser.press("Enter").await;
    assert!(
        browser
            .wait_for("location.hash.startsWith('#/objectives/') && document.querySelectorAll('.chart.drawn').length === 2", Duration::from_secs(5))
            .await
            .is_some(),
        "Enter opens the objective's page"
    );

    assert_eq!(browser.errors(), Vec::<String>::new(), "no console error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_public_reads_the_page_asks_once_for_a_token_and_streams_with_it() {
    let Some(browser) = Browser::launch(1024, 2000).await else {
        return;
    };
    let demo = demo(false);
    let client = reqwest::Client::new();
    browser.goto(&format!("{}/", demo.base)).await;
    assert_eq!(
        browser
            .eval("document.getElementById('token').hidden")
            .await,
        json!(false),
        "asks for a token"
    );
    let submit = |token: &str| {
        format!("document.getElementById('token-input').value = {token:?}; document.getElementById('token').requestSubmit(); true")
    };
    browser.eval(&submit("not-a-token")).await;
    assert!(
        browser
            .wait_for(
                "!document.getElementById('token-error').hidden",
                Duration::from_secs(5)
            )
            .await
            .is_some(),
        "a refused token says so"
    );
    browser.eval(&submit(ADMIN)).await;
    let listed = "document.querySelectorAll('article.objective').length === 6 && document.getElementById('live').textContent === 'live'";
    assert!(
        browser
            .wait_for(listed, Duration::from_secs(5))
            .await
            .is_some(),
        "with the token, the page reads and streams"
    );
    // Kept in the browser: a reload asks nothing.
    browser.goto(&format!("{}/", demo.base)).await;
    assert!(browser
        .wait_for(listed, Duration::from_secs(5))
        .await
        .is_some());
    assert_eq!(
        browser
            .eval("document.getElementById('token').hidden")
            .await,
        json!(true)
    );
    // A signal reaches the authenticated stream: a new incident shows without a reload.
    browser.eval("window.loadedOnce = true").await;
    send(
        &client,
        &demo.base,
        "POST",
        "/api/v1/incidents",
        json!({"systemIds": ["web"], "title": "Late arrival"}),
    )
    .await;
    assert!(browser
        .wait_for(
            "document.body.textContent.includes('Late arrival')",
            Duration::from_secs(2)
        )
        .await
        .is_some());
    assert_eq!(browser.eval("window.loadedOnce").await, json!(true));
    // The stream refuses a request without a token, and takes one from the query.
    let refused = client
        .get(format!("{}/api/v1/signals", demo.base))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let streamed = client
        .get(format!("{}/api/v1/signals?access_token={ADMIN}", demo.base))
        .send()
        .await
        .unwrap();
    assert_eq!(streamed.status(), 200);
    assert_eq!(
        browser
            .errors()
            .iter()
            .filter(|e| !e.contains("401"))
            .count(),
        0,
        "{:?}",
        browser.errors()
    );
}
