//! Pages of lists: a size (1..=1000, default 100) and an opaque cursor (`nextCursor` of the
//! previous page; api.md, "Conventions"). The cursor is the hex of the store's own position
//! (an id, or `<epoch ms>:<id>`), so clients cannot mistake it for an id.

use crate::error::ServiceError;

/// Items per page when the client names no `limit`.
pub const DEFAULT_LIMIT: usize = 100;

/// A validated page request.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Paging {
    /// 1..=1000.
    pub limit: usize,
    /// Where the previous page ended (decoded), or `None` for the first page.
    pub after: Option<String>,
}

impl Paging {
    /// The first page of `limit` items.
    pub fn first(limit: usize) -> Self {
        Paging { limit, after: None }
    }

    /// Parses `limit` and `cursor` as a client sent them. An empty cursor (`?cursor=`) is the
    /// first page, as no cursor is, on every list.
    pub fn parse(limit: Option<u64>, cursor: Option<&str>) -> Result<Self, ServiceError> {
        let cursor = cursor.filter(|c| !c.is_empty());
        let mut problems = crate::validation::Problems::default();
        problems.range("limit", limit, 1, slod_store::MAX_PAGE as u64);
        let after = match cursor {
            Some(c) => match decode_cursor(c) {
                Some(after) => Some(after),
                None => {
                    problems.add(
                        "cursor",
                        "not a cursor: lowercase hex, as nextCursor gives it",
                    );
                    None
                }
            },
            None => None,
        };
        problems.into_result()?;
        Ok(Paging {
            limit: limit.map_or(DEFAULT_LIMIT, |l| l as usize),
            after,
        })
    }
}

impl Paging {
    /// This page as part of a cache key: the size and the cursor as the client sent it (hex,
    /// so any position makes a valid key).
    pub fn key(&self) -> String {
        format!(
            "{}:{}",
            self.limit,
            self.after
                .as_deref()
                .map_or_else(|| "-".to_owned(), hex::encode)
        )
    }
}

/// The cursor a client sends back for the page after `position`.
pub fn encode_cursor(position: Option<String>) -> Option<String> {
    position.map(hex::encode)
}

/// Any even-length lowercase hex string is a cursor: it decodes to a position, and the page
/// after it is whatever comes after that position (a cursor this API did not return is no
/// error, as the schema promises).
fn decode_cursor(cursor: &str) -> Option<String> {
    let valid = cursor.len() % 2 == 0
        && cursor
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    valid
        .then(|| hex::decode(cursor).ok())
        .flatten()
        .map(|bytes| {
            // No stored id holds a control character, and PostgreSQL refuses NUL in text.
            String::from_utf8_lossy(&bytes)
                .chars()
                .map(|c| {
                    if c.is_control() {
                        char::REPLACEMENT_CHARACTER
                    } else {
                        c
                    }
                })
                .collect()
        })
}

/// The rule of a cursor, for the OpenAPI document.
pub const CURSOR_PATTERN: &str = "^([0-9a-f]{2})*$";
