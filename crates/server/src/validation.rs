//! Input rules shared by the services. Every failure names its field, and all of an input's
//! problems are reported at once so a client can fix them in one go.

use slod_engine::validate::{check_text, FieldError, Text};

use crate::error::ServiceError;
use crate::ids::TypedId;

/// Most systems one incident or maintenance window names.
pub const MAX_SYSTEMS: usize = 100;

/// Collects the problems of one input.
#[derive(Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    /// `field` breaks a rule.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// A name or title: 1..=`max` characters, at least one of them visible, no control
    /// characters (the engine's rule, `slod_engine::validate::check_text`).
    pub fn text(&mut self, field: &str, value: &str, max: usize) {
        self.0.extend(check_text(field, value, max, Text::Name));
    }

    /// Optional free text (a description, a message): at most `max` characters, no control
    /// characters but tabs and line breaks.
    pub fn optional_text(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(value) = value {
            self.0.extend(check_text(field, value, max, Text::Free));
        }
    }

    /// An optional integer within `min..=max`.
    pub fn range(&mut self, field: &str, value: Option<u64>, min: u64, max: u64) {
        if value.is_some_and(|v| !(min..=max).contains(&v)) {
            self.add(field, format!("must be from {min} to {max}"));
        }
    }

    /// Parses each of `raw` as an id of type `T`, reporting the first that breaks the rule.
    pub fn ids<T: TypedId>(&mut self, field: &str, raw: &[String]) -> Vec<T> {
        let mut out = Vec::with_capacity(raw.len());
        for id in raw {
            match T::parse(id) {
                Some(id) => out.push(id),
                None => {
                    self.add(field, format!("{id:?} is not a {} id", T::KIND));
                    break;
                }
            }
        }
        out
    }

    /// The systems a record names (an incident, a maintenance window): 1..=100 system ids.
    pub fn system_ids(&mut self, field: &str, ids: &[String]) -> Vec<String> {
        if ids.is_empty() {
            self.add(field, "must name at least one system");
        } else if ids.len() > MAX_SYSTEMS {
            self.add(field, format!("at most {MAX_SYSTEMS} systems"));
        }
        self.ids::<crate::ids::SystemId>(field, ids)
            .into_iter()
            .map(String::from)
            .collect()
    }

    /// The problems reported.
    pub fn into_details(self) -> Vec<FieldError> {
        self.0
    }

    /// Whether nothing was reported.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` if nothing was reported, else every problem as one `invalid` error.
    pub fn into_result(self) -> Result<(), ServiceError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::Invalid(self.0))
        }
    }
}

/// Deserializes a field that may be absent (keep), `null` (clear) or a value (set): with
/// `#[serde(default, deserialize_with = "nullable")]` on an `Option<Option<T>>`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}

/// Deserializes an optional field that must be a JSON object when present (serde would also
/// take an array whose items line up with the fields): with
/// `#[serde(default, deserialize_with = "optional_object")]`.
pub fn optional_object<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::Error;
    let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
    match value {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Object(_) => serde_json::from_value(value)
            .map(Some)
            .map_err(D::Error::custom),
        _ => Err(D::Error::custom("expected an object")),
    }
}

/// What a time must look like, in the API's words.
const RFC3339: &str =
    "must be an RFC 3339 time such as 2026-06-04T00:00:00Z, between 1970 and 9999-12-30";

/// Parses an RFC 3339 time within the range slod stores (1970 to 9999-12-30).
fn rfc3339_time(raw: &str) -> Option<jiff::Timestamp> {
    let t: jiff::Timestamp = raw.parse().ok()?;
    (t >= jiff::Timestamp::UNIX_EPOCH).then_some(t)
}

/// Deserializes a time: `#[serde(deserialize_with = "rfc3339")]`.
pub fn rfc3339<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<jiff::Timestamp, D::Error> {
    let raw = <String as serde::Deserialize>::deserialize(deserializer)?;
    rfc3339_time(&raw).ok_or_else(|| serde::de::Error::custom(RFC3339))
}

/// Deserializes an optional time: `#[serde(default, deserialize_with = "optional_rfc3339")]`.
pub fn optional_rfc3339<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<jiff::Timestamp>, D::Error> {
    match <Option<String> as serde::Deserialize>::deserialize(deserializer)? {
        None => Ok(None),
        Some(raw) => rfc3339_time(&raw)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(RFC3339)),
    }
}
