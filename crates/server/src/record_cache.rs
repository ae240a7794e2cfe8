//! The cache facade shared by incidents and maintenance windows, like the seed's incident and
//! maintenance backends: each record cached per entity (`<kind>:<id>`), per system
//! (`system:<systemId>`), and per list shape (`list:<hash of the normalized filter>`, one
//! family dropped whole on any write, so a new record never misses a cached list).

use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};
use slod_cache::{CacheError, CacheManager, CacheValue, CachedScope};

use crate::error::ApiError;

const ENTITY_TTL: Duration = Duration::from_secs(30);
const SYSTEM_TTL: Duration = Duration::from_secs(15);
const LIST_TTL: Duration = Duration::from_secs(15);

/// One scope of records (`incidents`, `maintenance`). Cheap to clone.
#[derive(Clone)]
pub struct RecordCache {
    scope: CachedScope,
    /// The entity key prefix (`incident`, `maintenance`).
    kind: &'static str,
}

/// The key of one list shape: a stable hash of the filter as serialized (fields in declaration
/// order, so equal filters give equal keys), never the raw input.
pub fn list_key(filter: &impl Serialize) -> String {
    let json = serde_json::to_vec(filter).unwrap_or_default();
    let digest = Sha256::digest(&json);
    format!("list:{}", hex::encode(&digest[..16]))
}

impl RecordCache {
    pub fn new(cache: &CacheManager, scope: &str, kind: &'static str) -> Result<Self, CacheError> {
        Ok(RecordCache {
            scope: cache.scope(scope, ENTITY_TTL)?,
            kind,
        })
    }

    /// One record by id.
    pub async fn entity<T, F, Fut>(&self, id: &str, load: F) -> Result<T, ApiError>
    where
        T: CacheValue,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ApiError>> + Send + 'static,
    {
        let key = format!("{}:{id}", self.kind);
        self.scope.wrap_with_ttl(&key, ENTITY_TTL, load).await
    }

    /// The records of one system (the shape a system's dashboard panel reads).
    pub async fn for_system<T, F, Fut>(&self, system: &str, load: F) -> Result<T, ApiError>
    where
        T: CacheValue,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ApiError>> + Send + 'static,
    {
        let key = format!("system:{system}");
        self.scope.wrap_with_ttl(&key, SYSTEM_TTL, load).await
    }

    /// One page of a list, cached per shape: the filter, the page size and the cursor.
    pub async fn page<F, T, L, Fut>(
        &self,
        filter: F,
        limit: usize,
        cursor: Option<String>,
        load: L,
    ) -> Result<T, ApiError>
    where
        F: Serialize + Send + 'static,
        T: CacheValue,
        L: FnOnce(F, usize, Option<String>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ApiError>> + Send + 'static,
    {
        let key = list_key(&(&filter, limit, &cursor));
        self.scope
            .wrap_with_ttl(&key, LIST_TTL, move || load(filter, limit, cursor))
            .await
    }

    /// After a record changed: its entity entry, each of its systems' entries, every list.
    /// Awaited before the change is signalled. A failure is logged; the cache then bypasses
    /// what it failed to invalidate for one TTL in this process (slod-cache G7).
    pub async fn after_change(&self, id: &str, systems: &[String]) {
        self.drop_key(&format!("{}:{id}", self.kind)).await;
        for system in systems {
            self.drop_key(&format!("system:{system}")).await;
        }
        self.drop_lists().await;
    }

    /// After a system was deleted: its entry and every list.
    pub async fn after_system_deleted(&self, system: &str) {
        self.drop_key(&format!("system:{system}")).await;
        self.drop_lists().await;
    }

    async fn drop_key(&self, key: &str) {
        if let Err(e) = self.scope.invalidate(key).await {
            tracing::warn!(key, error = %e, "cache invalidation failed; bypassing the key for one TTL");
        }
    }

    async fn drop_lists(&self) {
        if let Err(e) = self.scope.invalidate_prefix("list:").await {
            tracing::warn!(error = %e, "cache invalidation failed; bypassing the lists for one TTL");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Filter {
        system_id: Option<String>,
        limit: usize,
    }

    #[test]
    fn equal_filters_share_a_key_and_different_ones_do_not() {
        let a = list_key(&Filter {
            system_id: Some("api".into()),
            limit: 100,
        });
        let b = list_key(&Filter {
            system_id: Some("api".into()),
            limit: 100,
        });
        let c = list_key(&Filter {
            system_id: None,
            limit: 100,
        });
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.starts_with("list:") && a.len() == "list:".len() + 32);
    }
}
