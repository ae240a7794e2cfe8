//! Records that name systems (incidents, maintenance windows, alerts, silences), cached the way a dashboard
//! reads them (like the seed's incident and maintenance backends): per entity
//! (`<kind>:<id>`, 30 s), per system (`system:<systemId>`, 15 s), and per list shape
//! (`list:<hash of the filter, size and cursor>`, 15 s), and the records in effect
//! (`active`, 15 s) for alert evaluation. Any write drops the lists as one family and the
//! active records, so a new record never misses a cached list.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use slod_cache::{CacheError, CacheManager, CachedScope};
use slod_store::{
    Alert, AlertFilter, Incident, IncidentFilter, IncidentStatus, Maintenance, MaintenanceFilter,
    Page, Silence, Store, StoreError,
};

use super::{timed, Invalidation, Ttls};
use crate::error::ServiceResult;
use crate::paging::{encode_cursor, Paging};

const ENTITY_TTL: Duration = Duration::from_secs(30);
const SYSTEM_TTL: Duration = Duration::from_secs(15);
const LIST_TTL: Duration = Duration::from_secs(15);

/// A kind of record and how it is loaded from the store.
pub trait Record: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// The cache scope (`incidents`, `maintenance`).
    const SCOPE: &'static str;
    /// The entity key prefix (`incident`, `maintenance`).
    const KIND: &'static str;
    /// What lists are filtered by.
    type Filter: Serialize + Clone + Send + Sync + 'static;

    /// One record.
    fn load(
        store: Store,
        id: String,
    ) -> impl Future<Output = Result<Option<Self>, StoreError>> + Send;
    /// What a system's panel shows (open incidents; upcoming windows).
    fn load_for_system(
        store: Store,
        system: String,
    ) -> impl Future<Output = Result<Vec<Self>, StoreError>> + Send;
    /// The records in effect now or still to come (open incidents, windows not yet ended,
    /// active alerts, silences not ended), as alert evaluation reads them.
    fn load_active(store: Store) -> impl Future<Output = Result<Vec<Self>, StoreError>> + Send;
    /// One page of a filtered list.
    fn load_page(
        store: Store,
        filter: Self::Filter,
        paging: Paging,
    ) -> impl Future<Output = Result<Page<Self>, StoreError>> + Send;
}

/// A page of records as cached: the items and the next page's cursor.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecordPage<R> {
    pub items: Vec<R>,
    pub next_cursor: Option<String>,
}

/// A page of incidents, latest opened first.
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IncidentList {
    pub incidents: Vec<Incident>,
    pub next_cursor: Option<String>,
}

/// A system's open incidents.
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SystemIncidents {
    pub incidents: Vec<Incident>,
}

/// A page of maintenance windows, latest start first.
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MaintenanceList {
    pub maintenances: Vec<Maintenance>,
    pub next_cursor: Option<String>,
}

/// The cached reads of one kind of record. Cheap to clone.
#[derive(Clone)]
pub struct Records<R> {
    scope: CachedScope,
    store: Store,
    ttls: Ttls,
    kind: PhantomData<fn() -> R>,
}

/// The key of one list shape: a stable hash of the filter, size and cursor as serialized
/// (fields in declaration order, so equal requests give equal keys), never the raw input.
fn list_key(shape: &impl Serialize) -> String {
    let json = serde_json::to_vec(shape).unwrap_or_default();
    let digest = Sha256::digest(&json);
    format!("list:{}", hex::encode(&digest[..16]))
}

impl<R: Record> Records<R> {
    pub(crate) fn new(cache: &CacheManager, store: Store, ttls: Ttls) -> Result<Self, CacheError> {
        Ok(Records {
            scope: cache.scope(R::SCOPE, ENTITY_TTL)?,
            store,
            ttls,
            kind: PhantomData,
        })
    }

    /// One record by id.
    pub async fn one(&self, id: &str) -> ServiceResult<Option<R>> {
        let (store, id) = (self.store.clone(), id.to_owned());
        let key = format!("{}:{id}", R::KIND);
        self.scope
            .wrap_with_ttl(&key, self.ttls.or(ENTITY_TTL), move || async move {
                Ok(timed(R::SCOPE, R::load(store, id)).await?)
            })
            .await
    }

    /// The records a system's panel shows.
    pub async fn for_system(&self, system: &str) -> ServiceResult<Vec<R>> {
        let (store, system) = (self.store.clone(), system.to_owned());
        let key = format!("system:{system}");
        self.scope
            .wrap_with_ttl(&key, self.ttls.or(SYSTEM_TTL), move || async move {
                Ok(timed(R::SCOPE, R::load_for_system(store, system)).await?)
            })
            .await
    }

    /// The records in effect now or still to come, shared (`active`, 15 s). What is "now" is
    /// the load's instant: a reader checks each record against its own clock.
    pub async fn active(&self) -> ServiceResult<Arc<Vec<R>>> {
        let store = self.store.clone();
        self.scope
            .wrap_with_ttl("active", self.ttls.or(SYSTEM_TTL), move || async move {
                Ok(Arc::new(timed(R::SCOPE, R::load_active(store)).await?))
            })
            .await
    }

    /// One page of a list, cached per shape.
    pub async fn page(&self, filter: R::Filter, paging: Paging) -> ServiceResult<RecordPage<R>> {
        let key = list_key(&(&filter, &paging));
        let store = self.store.clone();
        self.scope
            .wrap_with_ttl(&key, self.ttls.or(LIST_TTL), move || async move {
                let page = timed(R::SCOPE, R::load_page(store, filter, paging)).await?;
                Ok(RecordPage {
                    items: page.items,
                    next_cursor: encode_cursor(page.next_cursor),
                })
            })
            .await
    }

    /// After a record changed: its entity entry, each of its systems' entries, every list.
    pub fn changed(&self, record: &str, systems: &[String]) -> Vec<Invalidation> {
        let mut out = vec![
            Invalidation::key(&self.scope, format!("{}:{record}", R::KIND)),
            Invalidation::key(&self.scope, "active".to_owned()),
        ];
        out.extend(
            systems
                .iter()
                .map(|s| Invalidation::key(&self.scope, format!("system:{s}"))),
        );
        out.push(Invalidation::family(&self.scope, "list:"));
        out
    }

    /// After old records were deleted in bulk (retention): every entity entry and every list,
    /// each family dropped at once.
    pub fn pruned(&self) -> Vec<Invalidation> {
        vec![
            Invalidation::family(&self.scope, &format!("{}:", R::KIND)),
            Invalidation::family(&self.scope, "list:"),
        ]
    }

    /// After a system was deleted: its entry, the active records (they name it), every list.
    pub fn system_deleted(&self, system: &str) -> Vec<Invalidation> {
        vec![
            Invalidation::key(&self.scope, format!("system:{system}")),
            Invalidation::key(&self.scope, "active".to_owned()),
            Invalidation::family(&self.scope, "list:"),
        ]
    }
}

impl Record for Incident {
    const SCOPE: &'static str = "incidents";
    const KIND: &'static str = "incident";
    type Filter = IncidentFilter;

    async fn load(store: Store, id: String) -> Result<Option<Self>, StoreError> {
        store.get_incident(&id).await
    }

    async fn load_for_system(store: Store, system: String) -> Result<Vec<Self>, StoreError> {
        let filter = IncidentFilter {
            system_id: Some(system),
            status: Some(IncidentStatus::Open),
        };
        Ok(store
            .list_incidents(&filter, slod_store::MAX_PAGE, None)
            .await?
            .items)
    }

    async fn load_active(store: Store) -> Result<Vec<Self>, StoreError> {
        store.open_incidents().await
    }

    async fn load_page(
        store: Store,
        filter: IncidentFilter,
        paging: Paging,
    ) -> Result<Page<Self>, StoreError> {
        store
            .list_incidents(&filter, paging.limit, paging.after.as_deref())
            .await
    }
}

impl Record for Maintenance {
    const SCOPE: &'static str = "maintenance";
    const KIND: &'static str = "maintenance";
    type Filter = MaintenanceFilter;

    async fn load(store: Store, id: String) -> Result<Option<Self>, StoreError> {
        store.get_maintenance(&id).await
    }

    /// Windows that end after now (re-stamped and re-filtered when served: a cached copy may
    /// be up to one TTL old).
    async fn load_for_system(store: Store, system: String) -> Result<Vec<Self>, StoreError> {
        let filter = MaintenanceFilter {
            system_id: Some(system),
            from: Some(Timestamp::now()),
            to: None,
        };
        Ok(store
            .list_maintenances(&filter, slod_store::MAX_PAGE, None)
            .await?
            .items)
    }

    async fn load_active(store: Store) -> Result<Vec<Self>, StoreError> {
        store.maintenances_ending_after(Timestamp::now()).await
    }

    async fn load_page(
        store: Store,
        filter: MaintenanceFilter,
        paging: Paging,
    ) -> Result<Page<Self>, StoreError> {
        store
            .list_maintenances(&filter, paging.limit, paging.after.as_deref())
            .await
    }
}

impl Record for Alert {
    const SCOPE: &'static str = "alerts";
    const KIND: &'static str = "alert";
    type Filter = AlertFilter;

    async fn load(store: Store, id: String) -> Result<Option<Self>, StoreError> {
        store.get_alert(&id).await
    }

    /// The system's active alerts (firing, inhibited or silenced).
    async fn load_for_system(store: Store, system: String) -> Result<Vec<Self>, StoreError> {
        store.active_alerts(Some(&system)).await
    }

    async fn load_active(store: Store) -> Result<Vec<Self>, StoreError> {
        store.active_alerts(None).await
    }

    async fn load_page(
        store: Store,
        filter: AlertFilter,
        paging: Paging,
    ) -> Result<Page<Self>, StoreError> {
        store
            .list_alerts(&filter, paging.limit, paging.after.as_deref())
            .await
    }
}

impl Record for Silence {
    const SCOPE: &'static str = "silences";
    const KIND: &'static str = "silence";
    type Filter = ();

    async fn load(store: Store, id: String) -> Result<Option<Self>, StoreError> {
        store.get_silence(&id).await
    }

    /// The silences muting now that name the system or no system at all (re-stamped when
    /// served: a cached copy may be up to one TTL old).
    async fn load_for_system(store: Store, system: String) -> Result<Vec<Self>, StoreError> {
        Ok(store
            .active_silences(Timestamp::now())
            .await?
            .into_iter()
            .filter(|s| s.system_ids.is_empty() || s.system_ids.contains(&system))
            .collect())
    }

    async fn load_active(store: Store) -> Result<Vec<Self>, StoreError> {
        store.active_silences(Timestamp::now()).await
    }

    async fn load_page(store: Store, _: (), paging: Paging) -> Result<Page<Self>, StoreError> {
        store
            .list_silences(paging.limit, paging.after.as_deref())
            .await
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
