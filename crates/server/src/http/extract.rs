//! Extractors whose rejections are API errors: a client always gets the documented JSON error,
//! never axum's plain-text one. Ids and bodies are parsed here, once (api.md, "Conventions").

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;
use slod_engine::validate::FieldError;

use super::error::ApiError;
use super::words;
use crate::ids::TypedId;

/// Largest request body accepted, in bytes (2 MiB: a full batch of 1,000 results with
/// 1,000-character messages fits).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// A JSON object body: 415 without a JSON content type, 413 over [`MAX_BODY_BYTES`], 400 for
/// anything that is not a JSON object or does not fit `T`, naming the field by its path.
/// Integer fields accept integral numbers written with a fraction (`30.0`), as JSON Schema
/// counts them integers.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime_type::Essence>().ok())
            .is_some_and(|m| m.is_json());
        if !json {
            return Err(ApiError::unsupported_media_type(
                "expected a body with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::payload_too_large(format!(
                    "request body is larger than {} MiB",
                    MAX_BODY_BYTES / (1024 * 1024)
                ))
            } else {
                ApiError::invalid(format!("unreadable body: {}", rejection.body_text()))
            }
        })?;
        parse_object(&bytes).map(ApiJson)
    }
}

/// Parses `bytes` as a JSON object into `T`.
pub fn parse_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::invalid(format!(
            "the body is not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    if !value.is_object() {
        return Err(ApiError::invalid(format!(
            "the body must be a JSON object, not {}",
            kind(&value)
        )));
    }
    integral_floats_as_integers(&mut value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        refusal(
            words::field_error(&path, &e.into_inner().to_string()),
            "body",
        )
    })
}

/// A field's problem as an error answer; `what` names the whole (`body`, `query`) when the
/// problem has no field.
fn refusal(problem: FieldError, what: &str) -> ApiError {
    if problem.field.is_empty() {
        ApiError::invalid(format!("invalid {what}: {}", problem.message))
    } else {
        ApiError::invalid_fields(vec![problem])
    }
}

/// What kind of JSON value `v` is, for messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Rewrites every number with no fractional part (`30.0`) as an integer, so integer fields
/// accept it; float fields accept integers anyway. Numbers beyond ±2^53 are left as they are
/// (no float there is exact).
fn integral_floats_as_integers(v: &mut Value) {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match v {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            if f.fract() == 0.0 && f.abs() <= EXACT {
                *v = if f < 0.0 {
                    Value::from(f as i64)
                } else {
                    Value::from(f as u64)
                };
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

mod mime_type {
    /// The type/subtype of a `Content-Type`, without parameters.
    pub struct Essence(String);

    impl std::str::FromStr for Essence {
        type Err = ();
        fn from_str(s: &str) -> Result<Self, ()> {
            let essence = s
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if essence.contains('/') {
                Ok(Essence(essence))
            } else {
                Err(())
            }
        }
    }

    impl Essence {
        /// `application/json` or any `+json` type.
        pub fn is_json(&self) -> bool {
            self.0 == "application/json" || self.0.ends_with("+json")
        }
    }
}

/// Query parameters: 400 naming the parameter when one does not parse.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let pairs = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(pairs)
            .map(ApiQuery)
            .map_err(|e| {
                let path = e.path().to_string();
                refusal(
                    words::field_error(&path, &e.into_inner().to_string()),
                    "query",
                )
            })
    }
}

/// The one id in a route's path, parsed as `T`: an id that breaks `T`'s rule cannot name
/// anything, so it is a 404, like any other unknown id.
pub struct Id<T>(pub T);

impl<S: Send + Sync, T: TypedId> FromRequestParts<S> for Id<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|e| ApiError::invalid(format!("invalid path: {}", e.body_text())))?;
        T::parse(&raw)
            .map(Id)
            .ok_or_else(|| ApiError::not_found(format!("{} {raw:?} not found", T::KIND)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Body {
        window_days: u32,
        target: f64,
        inner: Option<Inner>,
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Inner {
        warning_percent: f64,
    }

    #[test]
    fn an_object_is_required_and_integral_numbers_are_integers() {
        let ok: Body = parse_object(br#"{"windowDays": 2831.0, "target": 99}"#).unwrap();
        assert_eq!((ok.window_days, ok.target), (2831, 99.0));
        for (body, field) in [
            (&br#"["x", 1]"#[..], None),
            (br#""text""#, None),
            (br#"null"#, None),
            (br#"{"windowDays": 30.5, "target": 99}"#, Some("windowDays")),
            (
                br#"{"windowDays": 30, "target": 99, "inner": {"warningPercent": "x"}}"#,
                Some("inner.warningPercent"),
            ),
        ] {
            let e = parse_object::<Body>(body).unwrap_err();
            assert_eq!(e.code, "invalid_input");
            assert_eq!(
                e.details.first().map(|d| d.field.as_str()),
                field,
                "{}",
                e.message
            );
        }
    }
}
