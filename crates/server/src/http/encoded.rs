//! Answers assembled from JSON encoded in advance (cached entries keep theirs): no encoding
//! per request. A one-piece answer (`GET /objectives/{id}`) is sent as the cache entry's own
//! bytes; a many-piece one (bulk-status: keys and punctuation around 1,000 cached arrays) is
//! copied once into a buffer of its exact size. Sending the pieces as they are measured 2.4x
//! slower over a socket than one buffer (BENCHMARKS.md, whole service): the HTTP layer writes
//! thousands of small frames one by one.

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
    fn into_response(mut self) -> Response {
        let body = if self.pieces.len() <= 1 {
            Body::new(self)
        } else {
            let mut buffer = Vec::with_capacity(self.len as usize);
            for piece in self.pieces.drain(..) {
                buffer.extend_from_slice(&piece);
            }
            Body::from(buffer)
        };
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
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
