//! API tokens. Only a hash of each secret is stored; the secret is shown once, at creation.

use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{ms, new_id, ts, Scope, Store, StoreError, TokenInfo, Tx};

fn token_from_row(row: &AnyRow) -> Result<TokenInfo, sqlx::Error> {
    let scope: String = row.try_get("scope")?;
    Ok(TokenInfo {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        scope: Scope::parse(&scope)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown scope {scope:?}").into()))?,
        created_at: ts(row.try_get("created_at")?),
        revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(ts),
    })
}

impl Store {
    /// The live (not revoked) token with this secret hash.
    pub async fn find_token(&self, secret_hash: &str) -> Result<Option<TokenInfo>, StoreError> {
        let row =
            sqlx::query("SELECT * FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
                .bind(secret_hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.as_ref().map(token_from_row).transpose()?)
    }

    /// Every token, newest first (secrets are never stored, so none is shown).
    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query("SELECT * FROM api_tokens ORDER BY created_at DESC, id")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(token_from_row).collect::<Result<_, _>>()?)
    }
}

impl Tx {
    /// Stores a token under the hash of its secret.
    pub async fn create_token(
        &mut self,
        name: &str,
        scope: Scope,
        secret_hash: &str,
        now: Timestamp,
    ) -> Result<TokenInfo, StoreError> {
        let now = crate::stored(now);
        let id = new_id();
        sqlx::query("INSERT INTO api_tokens (id, name, scope, token_hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, NULL)")
            .bind(&id)
            .bind(name)
            .bind(scope.as_str())
            .bind(secret_hash)
            .bind(ms(now))
            .execute(&mut *self.tx)
            .await?;
        Ok(TokenInfo {
            id,
            name: name.to_owned(),
            scope,
            created_at: now,
            revoked_at: None,
        })
    }

    /// Revokes the live tokens whose id or name is `id_or_name`; returns how many.
    pub async fn revoke_token(
        &mut self,
        id_or_name: &str,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE (id = $2 OR name = $3) AND revoked_at IS NULL")
            .bind(ms(now))
            .bind(id_or_name)
            .bind(id_or_name)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected())
    }
}
