//! Each system's rolled-up health with its checks' latest results (scope `health`, 15 s). Any
//! recorded result changes what it shows, even one that moves no timeline. `rollup` holds
//! every system's rolled-up health alone, which changes far less often.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use slod_cache::{CacheError, CacheManager, CachedScope};
use slod_engine::Health;
use slod_store::{Store, SystemHealth};

use super::{timed, Invalidation, Ttls};
use crate::error::ServiceResult;
use crate::ids::SystemId;

const TTL: Duration = Duration::from_secs(15);

/// The cached health of systems. Cheap to clone.
#[derive(Clone)]
pub struct HealthView {
    scope: CachedScope,
    store: Store,
    ttl: Duration,
}

impl HealthView {
    pub(crate) fn new(cache: &CacheManager, store: Store, ttls: Ttls) -> Result<Self, CacheError> {
        Ok(HealthView {
            scope: cache.scope("health", TTL)?,
            store,
            ttl: ttls.or(TTL),
        })
    }

    /// A system's health, or `None` if the system does not exist.
    pub async fn of(&self, system: &SystemId) -> ServiceResult<Option<SystemHealth>> {
        let store = self.store.clone();
        let id = system.clone();
        self.scope
            .wrap_with_ttl(&format!("health:{system}"), self.ttl, move || async move {
                Ok(timed("health", store.system_health(id.as_str())).await?)
            })
            .await
    }

    /// Every system's rolled-up health (`rollup`), shared: the systems alert evaluation
    /// walks. Dropped when any system's rolled-up health changes or a system comes or goes.
    pub async fn rollup(&self) -> ServiceResult<Arc<HashMap<String, Health>>> {
        let store = self.store.clone();
        self.scope
            .wrap_with_ttl("rollup", self.ttl, move || async move {
                Ok(Arc::new(timed("health", store.all_health()).await?))
            })
            .await
    }

    /// After a system's rolled-up health changed, or a system was created or deleted.
    pub fn rollup_changed(&self) -> Invalidation {
        Invalidation::key(&self.scope, "rollup".to_owned())
    }

    /// After anything a system's health view shows changed (its checks, their results, its
    /// override incidents, its existence).
    pub fn changed(&self, system: &str) -> Invalidation {
        Invalidation::key(&self.scope, format!("health:{system}"))
    }
}
