//! Live signals: the typed catalogue ([`Signal`]), this process's hub, the buffer a
//! reconnecting client resumes from, and the fan-out that carries every replica's signals to
//! every other replica.
//!
//! The rule that makes a refetch never stale: a signal is emitted only by a unit of work
//! (`crate::work`) after its change is committed and its cache invalidations have returned.
//!
//! Every delivered signal has an id ([`SignalId`]) and is kept in a bounded buffer, so a
//! client that reconnects with `Last-Event-ID` gets what it missed, or `signals.resync` when
//! its id is older than the buffer or unknown (api.md, "Signals"). With Redis the ids are the
//! entry ids of one stream that every replica reads, so they form one sequence across the
//! cluster and a client resumes on whichever replica its reconnect reaches.

mod buffer;
mod catalogue;
mod fanout;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures_util::stream::{self, Stream};
use tokio::sync::broadcast;

use buffer::Ring;
pub use buffer::{Delivered, SignalId};
pub use catalogue::*;
use fanout::Fanout;

/// Signals buffered per subscriber before it counts as too slow.
const SUBSCRIBER_BUFFER: usize = 1024;
/// Signals kept for clients that reconnect (here, and in the cluster's stream).
pub const RESUME_BUFFER: usize = 10_000;

/// The fan-out point of this process, and (with several replicas) of the cluster. Cheap to
/// clone.
#[derive(Clone)]
pub struct Signals {
    hub: Arc<Hub>,
}

struct Hub {
    sender: broadcast::Sender<Arc<Delivered>>,
    ring: Mutex<Ring>,
    /// One replica: ids are `<start ms>-<counter>`; this is the last one given.
    local: Option<Mutex<SignalId>>,
    /// Several replicas: the cluster's stream gives the ids and carries every signal.
    fanout: OnceLock<Fanout>,
    /// Set once the service shuts down: every client's stream ends.
    closing: tokio::sync::watch::Sender<bool>,
}

impl Hub {
    fn new(base: SignalId, local: bool) -> Hub {
        Hub {
            sender: broadcast::channel(SUBSCRIBER_BUFFER).0,
            ring: Mutex::new(Ring::new(base, RESUME_BUFFER)),
            local: local.then(|| Mutex::new(base)),
            fanout: OnceLock::new(),
            closing: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Hands `signal` to this process's subscribers, keeping it for resumption when it has an
    /// id. The buffer's lock orders the buffer and the subscribers' view alike.
    fn deliver(&self, id: Option<SignalId>, signal: Signal) {
        let delivered = Arc::new(Delivered { id, signal });
        let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        if id.is_some() {
            ring.push(delivered.clone());
        }
        // No subscriber is not an error.
        let _ = self.sender.send(delivered);
    }

    /// Starts the buffer over after `base`.
    fn reset(&self, base: SignalId) {
        self.ring
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .reset(base);
    }
}

impl Default for Signals {
    /// Signals of one replica.
    fn default() -> Self {
        let started_ms = jiff::Timestamp::now().as_millisecond().max(0) as u64;
        Signals {
            hub: Arc::new(Hub::new(
                SignalId {
                    ms: started_ms,
                    seq: 0,
                },
                true,
            )),
        }
    }
}

/// How a subscription starts.
pub enum Start {
    /// A new client: the id of the newest signal, so a reconnect resumes from here.
    From(SignalId),
    /// A client that reconnected: what it missed, oldest first.
    Missed(Vec<Arc<Delivered>>),
    /// A client that reconnected too late (or with an id never given): refetch everything.
    /// The id is the newest signal's.
    Resync(SignalId),
}

/// A subscription: how it starts, then every signal delivered from then on.
pub struct Subscription {
    pub start: Start,
    receiver: broadcast::Receiver<Arc<Delivered>>,
}

impl Signals {
    /// Signals shared with every replica through a stream on the Redis at `url` (see
    /// `fanout.rs`).
    pub fn clustered(url: &str, namespace: &str) -> Result<Self, redis::RedisError> {
        let hub = Arc::new(Hub::new(SignalId { ms: 0, seq: 0 }, false));
        // The fan-out's tasks hold the hub weakly, so it must exist before they start.
        let fanout = Fanout::start(url, namespace, Arc::downgrade(&hub))?;
        let _ = hub.fanout.set(fanout);
        Ok(Signals { hub })
    }

    /// Announces a change to every subscriber, here and on the other replicas. Never blocks.
    /// Only a unit of work (`crate::work`) calls it, after its commit and invalidations.
    pub fn emit(&self, signal: Signal) {
        metrics::counter!("slod_signals_emitted_total", "event" => signal.name()).increment(1);
        match (&self.hub.local, self.hub.fanout.get()) {
            (_, Some(fanout)) => fanout.send(signal),
            (Some(last), None) => {
                // The counter's lock is held while delivering, so ids and order agree.
                let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
                last.seq += 1;
                self.hub.deliver(Some(*last), signal);
            }
            (None, None) => self.hub.deliver(None, signal),
        }
    }

    /// Waits (at most `limit`) until this replica's signals have left for the other replicas.
    pub async fn flush(&self, limit: Duration) {
        if let Some(fanout) = self.hub.fanout.get() {
            fanout.flush(limit).await;
        }
    }

    /// Ends every client's stream (the service is shutting down: a stream never ends by itself,
    /// so a graceful shutdown would otherwise wait for its clients to leave).
    pub fn close_streams(&self) {
        self.hub.closing.send_replace(true);
    }

    /// Resolves once [`Signals::close_streams`] was called.
    pub fn streams_closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut closing = self.hub.closing.subscribe();
        async move {
            // An error means the hub is gone, which ends the streams too.
            let _ = closing.wait_for(|closed| *closed).await;
        }
    }

    /// `None` with one replica; else whether the cluster's stream is being followed.
    pub fn fanout_connected(&self) -> Option<bool> {
        self.hub.fanout.get().map(Fanout::connected)
    }

    /// Every signal delivered from now on, without resumption (for in-process listeners).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Delivered>> {
        self.hub.sender.subscribe()
    }

    /// A subscription for a client that last saw `last_event_id` (none for a new client).
    pub async fn follow(&self, last_event_id: Option<&str>) -> Subscription {
        let (receiver, head, missed) = {
            let ring = self.hub.ring.lock().unwrap_or_else(|e| e.into_inner());
            let receiver = self.hub.sender.subscribe();
            let last = last_event_id.map(|raw| raw.parse::<SignalId>().ok());
            let missed = last.map(|id| (id, id.and_then(|id| ring.after(id))));
            (receiver, ring.head(), missed)
        };
        let start = match missed {
            None => Start::From(head),
            Some((_, Some(missed))) => Start::Missed(missed),
            Some((Some(id), None)) => match self.hub.fanout.get() {
                // Older than this replica's buffer: the cluster's stream may still hold it
                // (this replica restarted, say).
                Some(fanout) => match fanout.entries_after(id).await {
                    Some(missed) => Start::Missed(missed),
                    None => Start::Resync(head),
                },
                None => Start::Resync(head),
            },
            Some((None, None)) => Start::Resync(head),
        };
        if matches!(start, Start::Resync(_)) {
            metrics::counter!("slod_signals_resumed_total", "outcome" => "resync").increment(1);
        } else if matches!(start, Start::Missed(_)) {
            metrics::counter!("slod_signals_resumed_total", "outcome" => "replayed").increment(1);
        }
        Subscription { start, receiver }
    }
}

/// What a subscriber's stream yields.
pub enum Item {
    /// Only an id: where the client stands (it resumes from here when it reconnects).
    Position(SignalId),
    /// A signal.
    Signal(Arc<Delivered>),
}

/// The items of one subscription, filtered to one system if asked: its start, then every
/// later signal once (a replayed one is not repeated live). Ends when the subscriber fell more
/// than its buffer behind: it is disconnected (it will resume), and the others never wait.
pub fn events(subscription: Subscription, filter: Option<String>) -> impl Stream<Item = Item> {
    let mut first: VecDeque<Item> = VecDeque::new();
    let mut last_sent: Option<SignalId> = None;
    match subscription.start {
        Start::From(head) => first.push_back(Item::Position(head)),
        Start::Missed(missed) => {
            for delivered in missed {
                last_sent = delivered.id.or(last_sent);
                if passes(&delivered.signal, filter.as_deref()) {
                    first.push_back(Item::Signal(delivered));
                } else if let Some(id) = delivered.id {
                    first.push_back(Item::Position(id));
                }
            }
        }
        Start::Resync(head) => first.push_back(Item::Signal(Arc::new(Delivered {
            id: Some(head),
            signal: Signal::Resync(Resync {}),
        }))),
    }
    let receiver = subscription.receiver;
    stream::unfold(
        (receiver, first, filter, last_sent),
        |(mut receiver, mut first, filter, mut last_sent)| async move {
            if let Some(item) = first.pop_front() {
                return Some((item, (receiver, first, filter, last_sent)));
            }
            loop {
                match receiver.recv().await {
                    Ok(delivered) => {
                        if delivered.id.is_some() && delivered.id <= last_sent {
                            continue;
                        }
                        last_sent = delivered.id.or(last_sent);
                        if !passes(&delivered.signal, filter.as_deref()) {
                            continue;
                        }
                        return Some((
                            Item::Signal(delivered),
                            (receiver, first, filter, last_sent),
                        ));
                    }
                    Err(broadcast::error::RecvError::Lagged(skipped)) => {
                        metrics::counter!("slod_signals_slow_clients_dropped_total").increment(1);
                        tracing::info!(skipped, "dropping a signals client that fell behind");
                        return None;
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    )
}

/// Whether a subscriber filtering on `system` gets `signal`: signals of no one system (the
/// digest, a resync) reach every subscriber.
fn passes(signal: &Signal, system: Option<&str>) -> bool {
    match (signal.system_id(), system) {
        (Some(of), Some(wanted)) => of == wanted,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    fn health(system: &str) -> Signal {
        Signal::HealthChanged(HealthChanged {
            system_id: system.into(),
            status: slod_engine::Health::Unhealthy,
        })
    }

    fn signal_of(item: Item) -> Arc<Delivered> {
        match item {
            Item::Signal(d) => d,
            Item::Position(id) => panic!("expected a signal, got the position {id}"),
        }
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_dropped_and_the_others_keep_everything() {
        let signals = Signals::default();
        let slow = events(signals.follow(None).await, None);
        let mut keeping_up = Box::pin(events(signals.follow(None).await, None));
        assert!(matches!(keeping_up.next().await, Some(Item::Position(_))));
        let mut received = 0;
        for _ in 0..SUBSCRIBER_BUFFER + 10 {
            // Emitting never waits for anyone.
            signals.emit(health("s"));
            signal_of(keeping_up.next().await.unwrap());
            received += 1;
        }
        assert_eq!(received, SUBSCRIBER_BUFFER + 10);
        let mut slow = Box::pin(slow);
        assert!(matches!(slow.next().await, Some(Item::Position(_))));
        assert!(
            slow.next().await.is_none(),
            "the subscriber that fell behind is disconnected"
        );
    }

    #[tokio::test]
    async fn the_filter_keeps_one_systems_signals() {
        let signals = Signals::default();
        let mut only_b = Box::pin(events(signals.follow(None).await, Some("b".into())));
        signals.emit(health("a"));
        signals.emit(health("b"));
        signals.emit(Signal::Resync(Resync {}));
        drop(signals);
        assert!(matches!(only_b.next().await, Some(Item::Position(_))));
        assert_eq!(signal_of(only_b.next().await.unwrap()).signal, health("b"));
        assert!(
            matches!(
                signal_of(only_b.next().await.unwrap()).signal,
                Signal::Resync(_)
            ),
            "a signal of no one system passes every filter"
        );
    }

    #[tokio::test]
    async fn a_reconnecting_client_gets_what_it_missed_once_or_a_resync() {
        let signals = Signals::default();
        let mut first = Box::pin(events(signals.follow(None).await, None));
        let Some(Item::Position(start)) = first.next().await else {
            panic!("a new client learns where it stands")
        };
        signals.emit(health("a"));
        let seen = signal_of(first.next().await.unwrap()).id.unwrap();
        drop(first);
        // Changes while the client is away.
        signals.emit(health("b"));
        signals.emit(health("c"));
        let mut back = Box::pin(events(signals.follow(Some(&seen.to_string())).await, None));
        signals.emit(health("d"));
        for expected in ["b", "c", "d"] {
            assert_eq!(
                signal_of(back.next().await.unwrap()).signal,
                health(expected)
            );
        }
        // From the very start: everything.
        let mut from_start = Box::pin(events(signals.follow(Some(&start.to_string())).await, None));
        for expected in ["a", "b", "c", "d"] {
            assert_eq!(
                signal_of(from_start.next().await.unwrap()).signal,
                health(expected)
            );
        }
        // An id this process never gave, or not an id at all: resync.
        for unknown in ["1-1", "nonsense"] {
            let mut lost = Box::pin(events(signals.follow(Some(unknown)).await, None));
            assert!(matches!(
                signal_of(lost.next().await.unwrap()).signal,
                Signal::Resync(_)
            ));
        }
    }

    #[tokio::test]
    async fn an_id_older_than_the_buffer_resyncs() {
        let signals = Signals::default();
        signals.emit(health("a"));
        let mut sub = Box::pin(events(signals.follow(None).await, None));
        let Some(Item::Position(old)) = sub.next().await else {
            panic!("a position")
        };
        for _ in 0..RESUME_BUFFER + 1 {
            signals.emit(health("a"));
        }
        let mut late = Box::pin(events(signals.follow(Some(&old.to_string())).await, None));
        assert!(matches!(
            signal_of(late.next().await.unwrap()).signal,
            Signal::Resync(_)
        ));
    }
}
