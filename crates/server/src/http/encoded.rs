//! Answers assembled from JSON encoded in advance (cached entries keep theirs): no encoding
//! per request. A one-piece answer (`GET /objectives/{id}`) is sent as the cache entry's own
//! bytes; a many-piece one (bulk-status: keys and punctuation around 1,000 cached arrays) is
//! copied once into a buffer of its exact size. Sending the pieces as they are measured 2.4x
//! slower over a socket than one buffer (BENCHMARKS.md, whole service): the HTTP layer writes
//! thousands of small frames one by one.

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

/// A JSON answer made of pieces encoded in advance.
#[derive(Default)]
pub struct EncodedJson {
    pieces: Vec<Bytes>,
    len: usize,
}

impl EncodedJson {
    /// Appends `piece`, which must continue the JSON text so far.
    pub fn push(&mut self, piece: Bytes) {
        self.len += piece.len();
        self.pieces.push(piece);
    }

    /// Appends text written here (punctuation, an encoded key).
    pub fn push_text(&mut self, text: impl Into<String>) {
        self.push(Bytes::from(text.into()));
    }
}

impl IntoResponse for EncodedJson {
    fn into_response(mut self) -> Response {
        let body = if self.pieces.len() == 1 {
            Body::from(self.pieces.remove(0))
        } else {
            let mut buffer = Vec::with_capacity(self.len);
            for piece in &self.pieces {
                buffer.extend_from_slice(piece);
            }
            Body::from(buffer)
        };
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    }
}
