//! Live signals: the typed catalogue ([`Signal`]), this process's hub, and the fan-out that
//! carries every replica's signals to every other replica.
//!
//! The rule that makes a refetch never stale: a signal is emitted only by a unit of work
//! (`crate::work`) after its change is committed and its cache invalidations have returned.
//! Nothing else in the service emits, except the hub itself (`signals.resync`).

mod catalogue;
mod fanout;

use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, Stream};
use tokio::sync::broadcast;

pub use catalogue::*;
use fanout::Fanout;

/// Signals buffered per subscriber before it counts as too slow.
const BUFFER: usize = 1024;

/// The fan-out point of this process, and (with several replicas) of the cluster. Cheap to
/// clone.
#[derive(Clone)]
pub struct Signals {
    sender: broadcast::Sender<Arc<Signal>>,
    /// Publishes to the other replicas, when there are any to reach.
    fanout: Option<Fanout>,
}

impl Default for Signals {
    fn default() -> Self {
        Signals {
            sender: broadcast::channel(BUFFER).0,
            fanout: None,
        }
    }
}

impl Signals {
    /// Signals shared with every replica through the Redis at `url` (see `fanout.rs`).
    pub fn clustered(url: &str, namespace: &str) -> Result<Self, redis::RedisError> {
        let sender = broadcast::channel(BUFFER).0;
        let fanout = Fanout::start(url, namespace, sender.clone())?;
        Ok(Signals {
            sender,
            fanout: Some(fanout),
        })
    }

    /// Announces a change to every subscriber, here and on the other replicas. Never blocks.
    /// Only a unit of work (`crate::work`) calls it, after its commit and invalidations.
    pub fn emit(&self, signal: Signal) {
        metrics::counter!("slod_signals_emitted_total", "event" => signal.name()).increment(1);
        let signal = Arc::new(signal);
        if let Some(fanout) = &self.fanout {
            fanout.send(signal.clone());
        }
        // No subscriber is not an error.
        let _ = self.sender.send(signal);
    }

    /// Waits (at most `limit`) until this replica's signals have left for the other replicas.
    pub async fn flush(&self, limit: Duration) {
        if let Some(fanout) = &self.fanout {
            fanout.flush(limit).await;
        }
    }

    /// `None` with one replica; else whether the other replicas' signals arrive.
    pub fn fanout_connected(&self) -> Option<bool> {
        self.fanout.as_ref().map(Fanout::connected)
    }

    /// A new subscription, seeing every signal emitted from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Signal>> {
        self.sender.subscribe()
    }
}

/// The signals of one subscriber, filtered to one system if asked. Ends when the subscriber
/// fell more than the buffer behind: it is disconnected, and the others never wait for it.
pub fn events(
    receiver: broadcast::Receiver<Arc<Signal>>,
    filter: Option<String>,
) -> impl Stream<Item = Arc<Signal>> {
    stream::unfold((receiver, filter), |(mut receiver, filter)| async move {
        loop {
            match receiver.recv().await {
                Ok(signal) => {
                    // Signals of no one system (the digest, a resync) reach every subscriber.
                    let elsewhere = match (signal.system_id(), filter.as_deref()) {
                        (Some(system), Some(wanted)) => system != wanted,
                        _ => false,
                    };
                    if elsewhere {
                        continue;
                    }
                    return Some((signal, (receiver, filter)));
                }
                Err(broadcast::error::RecvError::Lagged(skipped)) => {
                    metrics::counter!("slod_signals_slow_clients_dropped_total").increment(1);
                    tracing::info!(skipped, "dropping a signals client that fell behind");
                    return None;
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
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

    #[tokio::test]
    async fn a_slow_subscriber_is_dropped_and_the_others_keep_everything() {
        let signals = Signals::default();
        let slow = events(signals.subscribe(), None);
        let mut keeping_up = Box::pin(events(signals.subscribe(), None));
        let mut received = 0;
        for _ in 0..BUFFER + 10 {
            // Emitting never waits for anyone.
            signals.emit(health("s"));
            let _event = keeping_up.next().await.unwrap();
            received += 1;
        }
        assert_eq!(received, BUFFER + 10);
        let mut slow = Box::pin(slow);
        assert!(
            slow.next().await.is_none(),
            "the subscriber that fell behind is disconnected"
        );
    }

    #[tokio::test]
    async fn the_filter_keeps_one_systems_signals() {
        let signals = Signals::default();
        let mut only_b = Box::pin(events(signals.subscribe(), Some("b".into())));
        signals.emit(health("a"));
        signals.emit(health("b"));
        signals.emit(Signal::Resync(Resync {}));
        drop(signals);
        assert!(only_b.next().await.is_some());
        assert!(
            only_b.next().await.is_some(),
            "a signal of no one system passes every filter"
        );
        assert!(
            only_b.next().await.is_none(),
            "a's signal was filtered out, then the channel closed"
        );
    }
}
