//! What a service call can fail with, as data that knows nothing of HTTP. The edge
//! (`http::error`) maps each kind to a status code; jobs, probes and the CLI log or print it.
//!
//! Errors are `Clone` (an internal cause is shared through an `Arc`), so a cache load that
//! fails hands every waiter the same error, with the store's own error inside, unchanged.

use std::sync::Arc;

use slod_cache::CacheError;
use slod_engine::validate::FieldError;
use slod_store::StoreError;

/// A failed service call.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ServiceError {
    /// The named record does not exist.
    #[error("{kind} {id:?} not found")]
    NotFound { kind: &'static str, id: String },
    /// The input breaks a rule; one entry per offending field.
    #[error("invalid fields: {}", fields(.0))]
    Invalid(Vec<FieldError>),
    /// The input contradicts stored data (a duplicate id, a cycle, an out-of-order result).
    #[error("{0}")]
    Conflict(String),
    /// Something slod depends on (the database) cannot be reached now; retrying may work.
    #[error("{0}")]
    Unavailable(String),
    /// A failure the caller cannot fix. Shown to clients as `internal`, logged once at the edge.
    #[error("internal error: {0}")]
    Internal(Arc<dyn std::error::Error + Send + Sync>),
}

fn fields(details: &[FieldError]) -> String {
    details
        .iter()
        .map(|d| d.field.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Service results.
pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    /// `kind` `id` does not exist.
    pub fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        ServiceError::NotFound {
            kind,
            id: id.into(),
        }
    }

    /// One invalid field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ServiceError::Invalid(vec![FieldError::new(field, message)])
    }

    /// A failure the caller cannot fix, with its cause.
    pub fn internal(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        ServiceError::Internal(Arc::new(cause))
    }

    /// A failure the caller cannot fix, described in words.
    pub fn bug(message: impl Into<String>) -> Self {
        ServiceError::Internal(Arc::new(Message(message.into())))
    }
}

/// An internal cause given as text.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Message(String);

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { kind, id } => ServiceError::NotFound { kind, id },
            StoreError::Conflict(message) => ServiceError::Conflict(message),
            StoreError::Invalid { field, message } => ServiceError::field(&field, message),
            unreachable if unreachable.is_unavailable() => ServiceError::Unavailable(format!(
                "the database is unavailable ({unreachable}); try again shortly"
            )),
            full if full.is_storage_full() => ServiceError::Unavailable(
                "the database's disk is full: nothing was written; try again once space is freed"
                    .into(),
            ),
            read_only if read_only.is_read_only() => ServiceError::Unavailable(
                "the database is read-only: nothing was written; try again once it is writable"
                    .into(),
            ),
            other => ServiceError::internal(other),
        }
    }
}

impl From<CacheError> for ServiceError {
    fn from(e: CacheError) -> Self {
        // Keys are built from typed ids, so a key the cache refuses is a bug here, not input.
        ServiceError::internal(e)
    }
}

impl From<slod_engine::EngineError> for ServiceError {
    fn from(e: slod_engine::EngineError) -> Self {
        ServiceError::internal(e)
    }
}
