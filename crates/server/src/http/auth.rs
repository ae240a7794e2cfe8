//! Bearer tokens and scopes on every route (api.md, "Conventions"): `manage` implies
//! everything; reads need no token while public reads are on. A secret is compared by its
//! SHA-256 hash, and the admin token in constant time.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use slod_store::Scope;

use super::error::ApiError;
use crate::state::AppState;
use crate::tokens::hash_secret;

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The bearer secret of a request, or why there is none.
fn bearer(request: &Request) -> Result<String, ApiError> {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token>"))?;
    let secret = header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::unauthorized("expected Authorization: Bearer <token>"))?;
    Ok(secret.to_owned())
}

/// Who made a request: the name of its token (`admin` for the configured admin token). Set
/// on every request that carried a valid token; records that say who made them (a silence)
/// read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller(pub String);

/// The name the configured admin token (`SLOD_ADMIN_TOKEN`) goes by.
pub const ADMIN: &str = "admin";

/// The scope a bearer secret grants and the token's name, or why it grants none.
async fn granted(state: &AppState, secret: &str) -> Result<(Scope, String), ApiError> {
    if let Some(admin) = &state.config.admin_token {
        if constant_time_eq(admin.as_bytes(), secret.as_bytes()) {
            return Ok((Scope::Manage, ADMIN.to_owned()));
        }
    }
    let found = state
        .store
        .find_token(&hash_secret(secret))
        .await
        .map_err(crate::error::ServiceError::from)?;
    match found {
        Some(token) => Ok((token.scope, token.name)),
        None => Err(ApiError::unauthorized("unknown or revoked token")),
    }
}

/// Middleware: lets the request through only with a token allowing `needed`.
pub async fn require(
    State((state, needed)): State<(AppState, Scope)>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if needed == Scope::Read && state.config.public_read {
        return Ok(next.run(request).await);
    }
    let secret = bearer(&request)?;
    let (scope, name) = granted(&state, &secret).await?;
    if !scope.allows(needed) {
        return Err(ApiError::forbidden(format!(
            "this token has the {} scope; this route needs {}",
            scope.as_str(),
            needed.as_str()
        )));
    }
    request.extensions_mut().insert(Caller(name));
    Ok(next.run(request).await)
}

/// Middleware for the event stream: as [`require`], but the token may also come as
/// `?access_token=` (RFC 6750, section 2.3), since a browser's EventSource cannot send an
/// `Authorization` header. Only this route accepts it, and request logs carry paths, never
/// query strings, so the secret is not written down.
pub async fn require_stream(
    state: State<(AppState, Scope)>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if !request.headers().contains_key(AUTHORIZATION) {
        let from_query = request.uri().query().and_then(|query| {
            form_urlencoded::parse(query.as_bytes())
                .find(|(key, _)| key == "access_token")
                .map(|(_, value)| value.into_owned())
        });
        if let Some(secret) = from_query {
            let value = axum::http::HeaderValue::from_str(&format!("Bearer {secret}"))
                .map_err(|_| ApiError::unauthorized("access_token is not a valid token"))?;
            request.headers_mut().insert(AUTHORIZATION, value);
        }
    }
    require(state, request, next).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd") && !constant_time_eq(b"abc", b"ab"));
    }
}
