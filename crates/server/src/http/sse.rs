//! `GET /api/v1/signals`: the signal hub as Server-Sent Events.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;

use super::extract::ApiQuery;
use crate::signals::{events, Signals};

/// `?systemId=` keeps only that system's signals (and those of no one system).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct SignalQuery {
    system_id: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/signals", tag = "signals", params(SignalQuery),
    responses((status = 200, description = "Server-Sent Events (the event list is filled in from the signal catalogue)", content_type = "text/event-stream")))]
pub async fn stream(
    State(signals): State<Signals>,
    ApiQuery(query): ApiQuery<SignalQuery>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = events(signals.subscribe(), query.system_id).map(|signal| {
        Ok(Event::default()
            .event(signal.name())
            .data(signal.data_json()))
    });
    Sse::new(stream).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("keep-alive"),
    )
}
