//! Answers assembled from JSON encoded in advance (cached entries keep theirs), sent as the
//! pieces they are: no copy into one buffer, no encoding per request. A warm bulk-status of
//! 1,000 systems is then a few hundred bytes of keys and punctuation around 1,000 shared
//! pieces of the cache's own memory.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body::{Frame, SizeHint};

/// A JSON answer made of pieces, with its exact length (sent as `Content-Length`).
#[derive(Default)]
pub struct EncodedJson {
    pieces: VecDeque<Bytes>,
    len: u64,
}

impl EncodedJson {
    /// Appends `piece`, which must continue the JSON text so far.
    pub fn push(&mut self, piece: Bytes) {
        self.len += piece.len() as u64;
        if !piece.is_empty() {
            self.pieces.push_back(piece);
        }
    }

    /// Appends text written here (punctuation, an encoded key).
    pub fn push_text(&mut self, text: impl Into<String>) {
        self.push(Bytes::from(text.into()));
    }
}

impl IntoResponse for EncodedJson {
    fn into_response(self) -> Response {
        (
            [(header::CONTENT_TYPE, "application/json")],
            Body::new(self),
        )
            .into_response()
    }
}

impl http_body::Body for EncodedJson {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let piece = self.pieces.pop_front();
        if let Some(piece) = &piece {
            self.len -= piece.len() as u64;
        }
        Poll::Ready(piece.map(|piece| Ok(Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.pieces.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len)
    }
}
