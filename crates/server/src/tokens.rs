//! API tokens: minted and revoked by the operator (`slod token create|revoke|list`), checked on
//! every request by `crate::http::auth`. Only a SHA-256 hash of each secret is stored; the
//! secret is shown once, when it is minted.

use jiff::Timestamp;
use sha2::{Digest, Sha256};
use slod_store::{Scope, TokenInfo};

use crate::error::{ServiceError, ServiceResult};
use crate::state::Core;
use crate::work::Mutation;

/// The prefix of every minted secret, so a leaked one is recognizable.
const SECRET_PREFIX: &str = "slod_";

/// A new random secret: the prefix and 32 random bytes in hex.
pub fn new_secret() -> ServiceResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ServiceError::bug(format!("no randomness available: {e}")))?;
    Ok(format!("{SECRET_PREFIX}{}", hex::encode(bytes)))
}

/// What is stored for a secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The tokens service. Cheap to clone.
#[derive(Clone)]
pub struct Tokens(Core);

impl Tokens {
    /// The service over `core`.
    pub fn new(core: Core) -> Self {
        Tokens(core)
    }

    /// Mints a token named `name` with `scope`; returns it and its secret (shown once).
    pub async fn create(&self, name: &str, scope: Scope) -> ServiceResult<(TokenInfo, String)> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ServiceError::field("name", "must not be empty"));
        }
        let secret = new_secret()?;
        let mut work = self.0.begin(Mutation::CreateToken).await?;
        let info = work
            .tx()
            .create_token(name, scope, &hash_secret(&secret), Timestamp::now())
            .await?;
        work.commit().await?;
        Ok((info, secret))
    }

    /// Revokes the live tokens whose id or name is `id_or_name`; returns how many.
    pub async fn revoke(&self, id_or_name: &str) -> ServiceResult<u64> {
        let mut work = self.0.begin(Mutation::RevokeToken).await?;
        let revoked = work.tx().revoke_token(id_or_name, Timestamp::now()).await?;
        work.commit().await?;
        Ok(revoked)
    }

    /// Every token, newest first (never their secrets).
    pub async fn list(&self) -> ServiceResult<Vec<TokenInfo>> {
        Ok(self.0.store.list_tokens().await?)
    }
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
    }
}
