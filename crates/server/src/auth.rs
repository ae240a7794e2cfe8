//! Bearer tokens and scopes. `manage` implies everything; reads need no token while public
//! reads are on. Secrets are stored as SHA-256 hashes and compared in constant time.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use slod_store::Scope;

use crate::app::AppState;
use crate::error::ApiError;

/// The prefix of every minted secret, so a leaked one is recognizable.
const SECRET_PREFIX: &str = "slod_";

/// A new random secret: the prefix and 32 random bytes in hex.
pub fn new_secret() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
    Ok(format!("{SECRET_PREFIX}{}", hex::encode(bytes)))
}

/// What is stored for a secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

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

/// The scope a bearer secret grants, or why it grants none.
async fn granted(state: &AppState, secret: &str) -> Result<Scope, ApiError> {
    if let Some(admin) = &state.config.admin_token {
        if constant_time_eq(admin.as_bytes(), secret.as_bytes()) {
            return Ok(Scope::Manage);
        }
    }
    match state.store.find_token(&hash_secret(secret)).await? {
        Some(token) => Ok(token.scope),
        None => Err(ApiError::unauthorized("unknown or revoked token")),
    }
}

/// Middleware: lets the request through only with a token allowing `needed`.
pub async fn require(
    State((state, needed)): State<(AppState, Scope)>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if needed == Scope::Read && state.config.public_read {
        return Ok(next.run(request).await);
    }
    let secret = bearer(&request)?;
    let scope = granted(&state, &secret).await?;
    if !scope.allows(needed) {
        return Err(ApiError::forbidden(format!(
            "this token has the {} scope; this route needs {}",
            scope.as_str(),
            needed.as_str()
        )));
    }
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_prefixed_and_hashed() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with("slod_") && a.len() == 5 + 64);
        assert_eq!(
            hash_secret("x"),
            "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
        );
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd") && !constant_time_eq(b"abc", b"ab"));
    }
}
