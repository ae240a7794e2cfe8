//! Input rules shared by the routes. Each failure names the field.

use crate::error::Detail;

/// `[a-z0-9][a-z0-9._-]{0,63}`: a client-chosen system id.
pub fn system_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.bytes().enumerate().all(|(i, b)| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || (i > 0 && matches!(b, b'.' | b'_' | b'-'))
        })
}

/// Collects field problems.
#[derive(Default)]
pub struct Problems(pub Vec<Detail>);

impl Problems {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(Detail {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// A required display text: 1..=max characters, not only whitespace.
    pub fn text(&mut self, field: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.add(field, "must not be empty");
        } else if value.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
        }
    }

    /// An optional text: at most `max` characters.
    pub fn optional_text(&mut self, field: &str, value: Option<&str>, max: usize) {
        if value.is_some_and(|v| v.chars().count() > max) {
            self.add(field, format!("must be at most {max} characters"));
        }
    }

    pub fn range(&mut self, field: &str, value: Option<u64>, min: u64, max: u64) {
        if value.is_some_and(|v| !(min..=max).contains(&v)) {
            self.add(field, format!("must be from {min} to {max}"));
        }
    }

    pub fn into_result(self) -> Result<(), crate::error::ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(crate::error::ApiError::invalid_fields(self.0))
        }
    }
}

/// Parses a list cursor (hex of the last id seen).
pub fn cursor(cursor: Option<&str>) -> Result<Option<String>, crate::error::ApiError> {
    cursor
        .map(|c| {
            hex::decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    crate::error::ApiError::field("cursor", "not a cursor this API returned")
                })
        })
        .transpose()
}

/// Makes a list cursor from the last id of a page.
pub fn make_cursor(last_id: Option<String>) -> Option<String> {
    last_id.map(hex::encode)
}

#[cfg(test)]
mod tests {
    #[test]
    fn system_ids() {
        for ok in ["a", "checkout", "db-1.eu_west", &"x".repeat(64)] {
            assert!(super::system_id(ok), "{ok}");
        }
        for bad in ["", "-a", ".a", "A", "a b", "a/b", &"x".repeat(65)] {
            assert!(!super::system_id(bad), "{bad}");
        }
    }
}
