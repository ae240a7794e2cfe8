//! Extractors whose rejections are API errors: a client always gets the documented JSON error,
//! never axum's plain-text one. Ids and bodies are parsed here, once.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::ids::TypedId;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON body: 415 without a JSON content type, 413 over the size limit, 400 otherwise.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::payload_too_large("request body is larger than 1 MiB")
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::unsupported_media_type("expected a body with Content-Type: application/json")
        }
        _ => ApiError::invalid(match rejection {
            JsonRejection::JsonDataError(e) => format!(
                "invalid JSON body: {}",
                std::error::Error::source(&e).map_or_else(|| e.body_text(), |s| s.to_string())
            ),
            other => format!("malformed JSON body: {}", other.body_text()),
        }),
    }
}

/// Query parameters: 400 with the parameter's problem when they do not parse.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| ApiQuery(value))
            .map_err(|e: QueryRejection| {
                ApiError::invalid(format!("invalid query: {}", e.body_text()))
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
