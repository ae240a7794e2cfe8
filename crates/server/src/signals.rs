//! Live signals: every change is announced to open dashboards over Server-Sent Events.
//!
//! Signals are emitted only after the change is committed and the cache entries it affects are
//! invalidated, so a client that refetches on a signal always sees the change. Each subscriber
//! has a bounded buffer; one that falls behind is disconnected (it reconnects and refetches)
//! rather than slowing the others down.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::app::AppState;
use crate::extract::ApiQuery;
use crate::fanout::Fanout;

/// Signals buffered per subscriber before it counts as too slow.
const BUFFER: usize = 1024;

/// One announced change.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Signal {
    /// `slo.status.changed`, `slo.objective.deleted`, `health.changed`, `system.deleted`, ...
    pub event: String,
    /// The system the change belongs to (for the `?systemId=` filter); empty for signals of
    /// no one system, which every subscriber receives.
    pub system_id: String,
    /// The event's payload, as sent.
    pub data: serde_json::Value,
}

/// The fan-out point of this process, and (with several replicas) of the cluster.
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
    pub fn emit(&self, event: &str, system_id: &str, data: serde_json::Value) {
        metrics::counter!("slod_signals_emitted_total", "event" => event.to_owned()).increment(1);
        let signal = Arc::new(Signal {
            event: event.to_owned(),
            system_id: system_id.to_owned(),
            data,
        });
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

/// `?systemId=` keeps only that system's signals.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct SignalQuery {
    system_id: Option<String>,
}

/// The SSE events of one subscriber, filtered to one system if asked. Ends when the subscriber
/// fell more than the buffer behind: it is disconnected, and the others never wait for it.
pub fn events(
    receiver: broadcast::Receiver<Arc<Signal>>,
    filter: Option<String>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold((receiver, filter), |(mut receiver, filter)| async move {
        loop {
            match receiver.recv().await {
                Ok(signal) => {
                    // Signals of no one system (the digest, a resync) reach every subscriber.
                    let elsewhere = !signal.system_id.is_empty()
                        && filter.as_deref().is_some_and(|id| id != signal.system_id);
                    if elsewhere {
                        continue;
                    }
                    let event = Event::default()
                        .event(&signal.event)
                        .data(signal.data.to_string());
                    return Some((Ok(event), (receiver, filter)));
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

#[utoipa::path(get, path = "/api/v1/signals", tag = "signals", params(SignalQuery),
    responses((status = 200, description = "Server-Sent Events: slo.status.changed, slo.objective.deleted, health.changed, system.deleted, incident.changed, maintenance.changed, slo.streak.updated, slo.achievement.unlocked, slo.digest, signals.resync", content_type = "text/event-stream")))]
pub async fn stream(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SignalQuery>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let events = events(state.signals.subscribe(), query.system_id);
    Sse::new(events).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("keep-alive"),
    )
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    #[tokio::test]
    async fn a_slow_subscriber_is_dropped_and_the_others_keep_everything() {
        let signals = Signals::default();
        let slow = events(signals.subscribe(), None);
        let mut keeping_up = Box::pin(events(signals.subscribe(), None));
        let mut received = 0;
        for i in 0..BUFFER + 10 {
            // Emitting never waits for anyone.
            signals.emit("health.changed", "s", serde_json::json!({"i": i}));
            let _event = keeping_up.next().await.unwrap().unwrap();
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
        signals.emit("health.changed", "a", serde_json::json!({"systemId": "a"}));
        signals.emit("health.changed", "b", serde_json::json!({"systemId": "b"}));
        signals.emit("slo.digest", "", serde_json::json!({}));
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
