//! Signals across replicas through one Redis stream, `<namespace>:signals`.
//!
//! A replica's signals are appended to the stream (`XADD`, capped at about
//! [`RESUME_BUFFER`](super::RESUME_BUFFER) entries) by one publishing task fed by a bounded
//! queue, so emitting never blocks. Every replica, the emitting one included, follows the
//! stream (`XREAD`) and delivers each entry to its own subscribers with the entry's id: the
//! ids are one sequence across the cluster, and the stream is the buffer a reconnecting client
//! resumes from, on any replica.
//!
//! The order that makes a refetch never stale holds across replicas: a replica appends a
//! signal only after its change is committed and its invalidations on the shared cache have
//! returned, so a client that hears it anywhere and reads there misses the cache and loads the
//! new data.
//!
//! When Redis cannot be reached, local subscribers still get this replica's signals (without
//! an id: they cannot be resumed), and once Redis is back the replica appends
//! `signals.resync`, so every dashboard refetches what the others could not hear. A follower
//! that lost its place in the stream (Redis restarted or trimmed past it) tells its own
//! subscribers to resync.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::streams::{StreamId, StreamRangeReply, StreamReadReply};
use redis::AsyncConnectionConfig;
use tokio::sync::mpsc;

use super::{Delivered, Hub, Resync, Signal, SignalId, RESUME_BUFFER};

/// Signals waiting to be published before new ones are dropped.
const QUEUE: usize = 4096;
/// Wait between reconnection attempts.
const RETRY: Duration = Duration::from_secs(1);
/// How long one `XREAD` waits for new entries before asking again.
const BLOCK_MS: u64 = 2000;
/// The stream field holding a signal's JSON.
const FIELD: &str = "s";

/// The publishing side and the stream's address, held by the hub.
pub(super) struct Fanout {
    queue: mpsc::Sender<Signal>,
    client: redis::Client,
    key: String,
    /// Whether this replica currently follows the stream.
    following: Arc<AtomicBool>,
    /// Signals queued or being published.
    pending: Arc<AtomicUsize>,
}

impl Fanout {
    /// Starts publishing to and following `<namespace>:signals` on the Redis at `url`,
    /// delivering to `hub`. Connects lazily: a Redis that is down at start delays remote
    /// signals, never the service.
    pub(super) fn start(
        url: &str,
        namespace: &str,
        hub: Weak<Hub>,
    ) -> Result<Fanout, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let key = format!("{namespace}:signals");
        let (queue, outbound) = mpsc::channel(QUEUE);
        let pending = Arc::new(AtomicUsize::new(0));
        let following = Arc::new(AtomicBool::new(false));
        tokio::spawn(publish(
            client.clone(),
            key.clone(),
            outbound,
            pending.clone(),
            hub.clone(),
        ));
        tokio::spawn(follow(client.clone(), key.clone(), hub, following.clone()));
        Ok(Fanout {
            queue,
            client,
            key,
            following,
            pending,
        })
    }

    /// Whether this replica currently follows the cluster's signals.
    pub(super) fn connected(&self) -> bool {
        self.following.load(Ordering::Relaxed)
    }

    /// Queues `signal` for the stream. Never waits.
    pub(super) fn send(&self, signal: Signal) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        if self.queue.try_send(signal).is_err() {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            metrics::counter!("slod_signals_fanout_dropped_total").increment(1);
        }
    }

    /// Waits (at most `limit`) until every queued signal has been published or given up on:
    /// before a process exits, so its last signals still reach the other replicas.
    pub(super) async fn flush(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.pending.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The stream's entries after `id`, if the stream still holds `id` itself (so nothing
    /// after it was trimmed); `None` otherwise or when Redis cannot be reached.
    pub(super) async fn entries_after(&self, id: SignalId) -> Option<Vec<Arc<Delivered>>> {
        let mut conn = self.client.get_multiplexed_async_connection().await.ok()?;
        let id = id.to_string();
        let itself: StreamRangeReply = redis::cmd("XRANGE")
            .arg(&self.key)
            .arg(&id)
            .arg(&id)
            .query_async(&mut conn)
            .await
            .ok()?;
        if itself.ids.is_empty() {
            return None;
        }
        let after: StreamRangeReply = redis::cmd("XRANGE")
            .arg(&self.key)
            .arg(format!("({id}"))
            .arg("+")
            .arg("COUNT")
            .arg(RESUME_BUFFER)
            .query_async(&mut conn)
            .await
            .ok()?;
        Some(after.ids.iter().filter_map(entry).map(Arc::new).collect())
    }
}

/// A stream entry as a delivered signal; `None` (and logged) when it does not decode.
fn entry(e: &StreamId) -> Option<Delivered> {
    let id = e.id.parse::<SignalId>().ok()?;
    let json: String = e.get(FIELD)?;
    match serde_json::from_str::<Signal>(&json) {
        Ok(signal) => Some(Delivered {
            id: Some(id),
            signal,
        }),
        Err(e) => {
            tracing::debug!(error = %e, "ignoring a signal this version cannot read");
            None
        }
    }
}

/// Appends `signal` to the stream.
async fn append(
    client: &redis::Client,
    connection: &mut Option<MultiplexedConnection>,
    key: &str,
    signal: &Signal,
) -> redis::RedisResult<()> {
    let payload = serde_json::to_string(signal).map_err(|e| {
        redis::RedisError::from((redis::ErrorKind::Client, "encoding a signal", e.to_string()))
    })?;
    if connection.is_none() {
        *connection = Some(client.get_multiplexed_async_connection().await?);
    }
    let conn = connection.as_mut().expect("connected above");
    let added: redis::RedisResult<String> = redis::cmd("XADD")
        .arg(key)
        .arg("MAXLEN")
        .arg("~")
        .arg(RESUME_BUFFER)
        .arg("*")
        .arg(FIELD)
        .arg(payload)
        .query_async(conn)
        .await;
    if added.is_err() {
        *connection = None;
    }
    added.map(|_| ())
}

async fn publish(
    client: redis::Client,
    key: String,
    mut outbound: mpsc::Receiver<Signal>,
    pending: Arc<AtomicUsize>,
    hub: Weak<Hub>,
) {
    let mut connection: Option<MultiplexedConnection> = None;
    // Some signal could only be delivered here since the last one the stream took.
    let mut unheard = false;
    while let Some(signal) = outbound.recv().await {
        if unheard
            && append(&client, &mut connection, &key, &Signal::Resync(Resync {}))
                .await
                .is_ok()
        {
            unheard = false;
        }
        if let Err(e) = append(&client, &mut connection, &key, &signal).await {
            tracing::warn!(error = %e, "publishing a signal to the other replicas failed");
            metrics::counter!("slod_signals_fanout_dropped_total").increment(1);
            unheard = true;
            // This replica's dashboards still hear it.
            if let Some(hub) = hub.upgrade() {
                hub.deliver(None, signal);
            }
        }
        pending.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn follow(client: redis::Client, key: String, hub: Weak<Hub>, following: Arc<AtomicBool>) {
    // Where this replica stands in the stream: the id of the last entry it delivered.
    let mut last: Option<String> = None;
    let config = AsyncConnectionConfig::new().set_response_timeout(None);
    while hub.strong_count() > 0 {
        match client
            .get_multiplexed_async_connection_with_config(&config)
            .await
        {
            Ok(mut conn) => {
                // Where to read from, and whether what came since our place is lost.
                let place = match &last {
                    None => newest(&mut conn, &key).await.map(|head| {
                        if let (Some(hub), Ok(base)) = (hub.upgrade(), head.parse::<SignalId>()) {
                            hub.reset(base);
                        }
                        (head, false)
                    }),
                    Some(id) => still_held(&mut conn, &key, id)
                        .await
                        .map(|held| (id.clone(), !held)),
                };
                match place {
                    Ok((place, lost)) => {
                        last = Some(place);
                        following.store(true, Ordering::Relaxed);
                        tracing::info!(stream = key, "following the other replicas' signals");
                        if lost {
                            // Whatever came between is gone: local dashboards refetch.
                            if let Some(hub) = hub.upgrade() {
                                hub.deliver(None, Signal::Resync(Resync {}));
                            }
                        }
                        read(&mut conn, &key, &hub, &mut last).await;
                        following.store(false, Ordering::Relaxed);
                        tracing::warn!("lost the signal stream; reconnecting");
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "finding our place in the signal stream failed")
                    }
                }
            }
            Err(e) => tracing::debug!(error = %e, "connecting for signals failed"),
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// The id of the stream's newest entry, or `0-0` when it is empty.
async fn newest(conn: &mut MultiplexedConnection, key: &str) -> redis::RedisResult<String> {
    let newest: StreamRangeReply = redis::cmd("XREVRANGE")
        .arg(key)
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query_async(conn)
        .await?;
    Ok(newest
        .ids
        .first()
        .map_or_else(|| "0-0".to_owned(), |e| e.id.clone()))
}

/// Whether the stream still holds entry `id` (so nothing after it was lost).
async fn still_held(
    conn: &mut MultiplexedConnection,
    key: &str,
    id: &str,
) -> redis::RedisResult<bool> {
    let found: StreamRangeReply = redis::cmd("XRANGE")
        .arg(key)
        .arg(id)
        .arg(id)
        .query_async(conn)
        .await?;
    Ok(!found.ids.is_empty())
}

/// Delivers every entry after `last` as it arrives, until the connection fails or the hub is
/// gone.
async fn read(
    conn: &mut MultiplexedConnection,
    key: &str,
    hub: &Weak<Hub>,
    last: &mut Option<String>,
) {
    loop {
        let from = last.clone().unwrap_or_else(|| "$".to_owned());
        let reply: redis::RedisResult<Option<StreamReadReply>> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(512)
            .arg("BLOCK")
            .arg(BLOCK_MS)
            .arg("STREAMS")
            .arg(key)
            .arg(&from)
            .query_async(conn)
            .await;
        let Ok(reply) = reply else {
            return;
        };
        let Some(hub) = hub.upgrade() else {
            return;
        };
        for stream in reply.map(|r| r.keys).unwrap_or_default() {
            for e in &stream.ids {
                *last = Some(e.id.clone());
                if let Some(delivered) = entry(e) {
                    metrics::counter!("slod_signals_fanout_received_total").increment(1);
                    hub.deliver(delivered.id, delivered.signal);
                }
            }
        }
    }
}
