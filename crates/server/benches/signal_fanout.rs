//! How long a signal takes to reach another replica through Redis pub/sub, against two
//! baselines measured in the same run: delivery to a subscriber of the same process, and a raw
//! Redis PUBLISH -> SUBSCRIBE round trip without slod's envelope.
//! `REDIS_URL=redis://127.0.0.1:6379 cargo bench -p slod --bench signal_fanout`

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use slod::signals::{Signal, Signals, StatusChanged};

const ROUNDS: usize = 2000;
/// Alternating batches each path runs in (after one warm-up batch).
const BATCHES: usize = 4;

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    (at(0.50), at(0.99))
}

fn show(name: &str, (p50, p99): (Duration, Duration)) {
    println!(
        "{name:<34} p50 {:>9.1} µs   p99 {:>9.1} µs",
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6
    );
}

#[tokio::main]
async fn main() {
    let Ok(url) = std::env::var("REDIS_URL") else {
        println!("skipped: REDIS_URL is not set");
        return;
    };
    let namespace = format!("bench-{}", std::process::id());

    // Raw pub/sub round trip.
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut publisher = client.get_multiplexed_async_connection().await.unwrap();
    let mut pubsub = client.get_async_pubsub().await.unwrap();
    let channel = format!("{namespace}:raw");
    pubsub.subscribe(&channel).await.unwrap();
    let mut messages = pubsub.into_on_message();

    // slod: replica A emits; a subscriber on A (local) and one on B (through Redis) receive.
    let a = Signals::clustered(&url, &namespace).unwrap();
    let b = Signals::clustered(&url, &namespace).unwrap();
    while b.fanout_connected() != Some(true) || a.fanout_connected() != Some(true) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut on_a = a.subscribe();
    let mut on_b = b.subscribe();
    let signal = Signal::StatusChanged(StatusChanged {
        system_id: "checkout".into(),
        objective_id: "0b6f4a3e".into(),
        budget_remaining_percent: 87.5,
        is_breaching: false,
        tier: slod_engine::Tier::Healthy,
    });

    let (mut raw, mut local, mut remote) = (Vec::new(), Vec::new(), Vec::new());
    // Batches alternate so that both paths see the same machine; the first batch warms up.
    for batch in 0..=BATCHES {
        let keep = batch > 0;
        for i in 0..ROUNDS / BATCHES {
            let started = Instant::now();
            let _: i64 = redis::cmd("PUBLISH")
                .arg(&channel)
                .arg(i.to_string())
                .query_async(&mut publisher)
                .await
                .unwrap();
            messages.next().await.unwrap();
            if keep {
                raw.push(started.elapsed());
            }
        }
        for _ in 0..ROUNDS / BATCHES {
            let started = Instant::now();
            a.emit(signal.clone());
            on_a.recv().await.unwrap();
            let here = started.elapsed();
            on_b.recv().await.unwrap();
            if keep {
                local.push(here);
                remote.push(started.elapsed());
            }
        }
    }
    println!("{ROUNDS} signals, one at a time");
    show("same process (baseline)", percentiles(local));
    show("raw Redis PUBLISH -> SUBSCRIBE", percentiles(raw.clone()));
    let remote = percentiles(remote);
    show("slod replica A -> replica B", remote);
    let raw = percentiles(raw);
    println!(
        "replica to replica / raw pub/sub: p50 {:.2}x, p99 {:.2}x",
        remote.0.as_secs_f64() / raw.0.as_secs_f64(),
        remote.1.as_secs_f64() / raw.1.as_secs_f64()
    );
}
