//! The one error shape of the API, `{"error": {"code", "message", "details"}}` with the right
//! status (api.md, "Conventions"), and the mapping of service errors onto it. Internal errors
//! are logged here, once, where the response is made; the client sees `internal` and no cause.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use slod_engine::validate::FieldError;

use crate::error::ServiceError;

/// An error answer.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<FieldError>,
    /// What went wrong inside, for the log only.
    cause: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// The body of every error answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    error: ErrorFields,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ErrorFields {
    /// `invalid_input`, `unauthorized`, `forbidden`, `not_found`, `method_not_allowed`,
    /// `conflict`, `payload_too_large`, `unsupported_media_type`, `internal` or `unavailable`.
    code: &'static str,
    message: String,
    /// One entry per offending field (`invalid_input` only; otherwise empty).
    details: Vec<FieldError>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            cause: None,
        }
    }

    /// 400: the request as a whole is malformed.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_input", message)
    }

    /// 400 with one detail per offending field.
    pub fn invalid_fields(details: Vec<FieldError>) -> Self {
        let fields: Vec<&str> = details.iter().map(|d| d.field.as_str()).collect();
        ApiError {
            details: details.clone(),
            ..Self::invalid(format!("invalid fields: {}", fields.join(", ")))
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn payload_too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    }

    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            message,
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method not allowed on this route",
        )
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound { kind, id } => {
                ApiError::not_found(format!("{kind} {id:?} not found"))
            }
            ServiceError::Invalid(details) => ApiError::invalid_fields(details),
            ServiceError::Conflict(message) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", message)
            }
            ServiceError::Unavailable(message) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
            }
            ServiceError::Internal(cause) => ApiError {
                cause: Some(cause),
                ..ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            tracing::error!(%cause, "internal error");
        } else if self.status == StatusCode::SERVICE_UNAVAILABLE {
            tracing::warn!(message = %self.message, "answering unavailable");
        }
        let body = ErrorBody {
            error: ErrorFields {
                code: self.code,
                message: self.message,
                details: self.details,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

/// Handler results.
pub type ApiResult<T> = Result<T, ApiError>;
