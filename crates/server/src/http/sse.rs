//! `GET /api/v1/signals`: the signal hub as Server-Sent Events. Every event has an `id:`; the
//! stream opens with a `retry:` hint and the id the client stands at; a client reconnecting
//! with `Last-Event-ID` first gets what it missed, or `signals.resync` when the buffer no
//! longer reaches back that far (api.md, "Signals").

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;

use super::extract::ApiQuery;
use crate::signals::{events, Item, Signals};

/// How long a disconnected client waits before reconnecting.
const RETRY: Duration = Duration::from_secs(2);

/// `?systemId=` keeps only that system's signals (and those of no one system).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct SignalQuery {
    system_id: Option<String>,
    /// A read token, for clients that cannot send `Authorization` (a browser's EventSource):
    /// accepted on this route only (RFC 6750, section 2.3). Prefer the header.
    #[serde(rename = "access_token")]
    #[param(rename = "access_token")]
    #[allow(dead_code)]
    access_token: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/signals", tag = "signals", params(SignalQuery,
        ("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received: the stream starts with what came after it, or with signals.resync")),
    responses((status = 200, description = "Server-Sent Events (the event list is filled in from the signal catalogue)", content_type = "text/event-stream")))]
pub async fn stream(
    State(signals): State<Signals>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<SignalQuery>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty());
    let subscription = signals.follow(last).await;
    let closed = signals.streams_closed();
    let mut first = true;
    let stream = events(subscription, query.system_id)
        .map(move |item| {
            let event = match item {
                Item::Position(id) => Event::default().id(id.to_string()),
                Item::Signal(delivered) => {
                    let event = Event::default()
                        .event(delivered.signal.name())
                        .data(delivered.signal.data_json());
                    match delivered.id {
                        Some(id) => event.id(id.to_string()),
                        None => event,
                    }
                }
            };
            let event = if std::mem::take(&mut first) {
                event.retry(RETRY)
            } else {
                event
            };
            Ok(event)
        })
        // On shutdown the stream ends, so the response completes and the connection closes.
        .take_until(closed);
    Sse::new(stream).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("keep-alive"),
    )
}
