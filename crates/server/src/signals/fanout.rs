//! Signal fan-out across replicas through Redis pub/sub, so every replica's `/signals`
//! carries every replica's changes.
//!
//! The order that makes a refetch never stale holds across replicas: a replica publishes a
//! signal only after its change is committed and its invalidations on the shared cache have
//! returned, so a client that hears it from another replica and reads there misses the cache
//! and loads the new data. Publishing never blocks the caller (a bounded queue feeds one
//! publishing task; when Redis is down, signals for other replicas are dropped and counted,
//! and local dashboards still get theirs). The subscriber reconnects on its own.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

use super::{Resync, Signal};

/// Signals waiting to be published before new ones are dropped.
const QUEUE: usize = 4096;
/// Wait between reconnection attempts.
const RETRY: Duration = Duration::from_secs(1);

/// A signal as it travels between replicas.
#[derive(Serialize, Deserialize)]
struct Envelope {
    /// The replica that emitted it (it already delivered it locally).
    origin: String,
    signal: Signal,
}

/// The publishing side, held by [`super::Signals`].
#[derive(Clone)]
pub struct Fanout {
    queue: mpsc::Sender<Arc<Signal>>,
    /// Whether the subscription to the other replicas' signals is live.
    subscribed: Arc<AtomicBool>,
    /// Signals queued or being published.
    pending: Arc<AtomicUsize>,
}

impl Fanout {
    /// Starts publishing to and subscribing from `<namespace>:signals` on the Redis at `url`;
    /// signals from other replicas are delivered to `local`. Connects lazily: a Redis that is
    /// down at start delays remote signals, never the service.
    pub fn start(
        url: &str,
        namespace: &str,
        local: broadcast::Sender<Arc<Signal>>,
    ) -> Result<Fanout, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let channel = format!("{namespace}:signals");
        let origin = uuid::Uuid::new_v4().to_string();
        let (queue, outbound) = mpsc::channel(QUEUE);
        let pending = Arc::new(AtomicUsize::new(0));
        tokio::spawn(publish(
            client.clone(),
            channel.clone(),
            origin.clone(),
            outbound,
            pending.clone(),
        ));
        let subscribed = Arc::new(AtomicBool::new(false));
        // Weak: the subscriber ends once the service's own sender is gone.
        tokio::spawn(subscribe(
            client,
            channel,
            origin,
            local.downgrade(),
            subscribed.clone(),
        ));
        Ok(Fanout {
            queue,
            subscribed,
            pending,
        })
    }

    /// Whether this replica currently receives the other replicas' signals.
    pub fn connected(&self) -> bool {
        self.subscribed.load(Ordering::Relaxed)
    }

    /// Queues `signal` for the other replicas. Never waits.
    pub fn send(&self, signal: Arc<Signal>) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        if self.queue.try_send(signal).is_err() {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            metrics::counter!("slod_signals_fanout_dropped_total").increment(1);
        }
    }

    /// Waits (at most `limit`) until every queued signal has been published or given up on:
    /// before a process exits, so its last signals still reach the other replicas.
    pub async fn flush(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.pending.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

async fn publish(
    client: redis::Client,
    channel: String,
    origin: String,
    mut outbound: mpsc::Receiver<Arc<Signal>>,
    pending: Arc<AtomicUsize>,
) {
    let mut connection: Option<redis::aio::MultiplexedConnection> = None;
    while let Some(signal) = outbound.recv().await {
        publish_one(&client, &channel, &origin, &mut connection, &signal).await;
        pending.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Publishes one signal, (re)connecting if needed; a failure is counted and logged.
async fn publish_one(
    client: &redis::Client,
    channel: &str,
    origin: &str,
    connection: &mut Option<redis::aio::MultiplexedConnection>,
    signal: &Signal,
) {
    let envelope = Envelope {
        origin: origin.to_owned(),
        signal: signal.clone(),
    };
    let Ok(payload) = serde_json::to_string(&envelope) else {
        return;
    };
    if connection.is_none() {
        *connection = client.get_multiplexed_async_connection().await.ok();
    }
    let Some(conn) = connection.as_mut() else {
        metrics::counter!("slod_signals_fanout_dropped_total").increment(1);
        return;
    };
    let sent: Result<i64, _> = redis::cmd("PUBLISH")
        .arg(channel)
        .arg(payload)
        .query_async(conn)
        .await;
    if let Err(e) = sent {
        tracing::warn!(error = %e, "publishing a signal to the other replicas failed");
        metrics::counter!("slod_signals_fanout_dropped_total").increment(1);
        *connection = None;
    }
}

async fn subscribe(
    client: redis::Client,
    channel: String,
    origin: String,
    local: broadcast::WeakSender<Arc<Signal>>,
    subscribed: Arc<AtomicBool>,
) {
    let mut lost_some = false;
    while local.upgrade().is_some() {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    subscribed.store(true, Ordering::Relaxed);
                    tracing::info!(channel, "receiving signals from the other replicas");
                    if lost_some {
                        // Whatever the others said meanwhile is lost: tell local dashboards to
                        // refetch everything.
                        if let Some(local) = local.upgrade() {
                            let _ = local.send(Arc::new(Signal::Resync(Resync {})));
                        }
                    }
                    let mut messages = pubsub.into_on_message();
                    while let Some(message) = messages.next().await {
                        let Ok(payload) = message.get_payload::<String>() else {
                            continue;
                        };
                        match serde_json::from_str::<Envelope>(&payload) {
                            Ok(envelope) if envelope.origin != origin => {
                                let Some(local) = local.upgrade() else {
                                    return;
                                };
                                metrics::counter!("slod_signals_fanout_received_total")
                                    .increment(1);
                                let _ = local.send(Arc::new(envelope.signal));
                            }
                            Ok(_) => {}
                            Err(e) => tracing::debug!(error = %e, "ignoring a malformed signal"),
                        }
                    }
                    subscribed.store(false, Ordering::Relaxed);
                    tracing::warn!("lost the signal subscription; reconnecting");
                }
                Err(e) => tracing::warn!(error = %e, "subscribing to signals failed"),
            },
            Err(e) => tracing::debug!(error = %e, "connecting for signals failed"),
        }
        // Whatever happened, signals may have been missed until the next subscription.
        lost_some = true;
        tokio::time::sleep(RETRY).await;
    }
}
