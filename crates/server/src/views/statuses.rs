//! Objectives with their statuses: the dashboard's hot path (scope `statuses`).
//!
//! There is no per-objective entry: `objectives:<systemId>` holds every objective of a system
//! with its status, and serves `GET /systems/{id}/objectives`, each entry of bulk-status (all
//! misses loaded with `wrap_many` in one batch) and, through `owner:<objectiveId>` (an
//! objective never changes system), `GET /objectives/{id}`. A timeline change is then one
//! invalidation per affected system. Burn-downs (`history:<systemId>:<objectiveId>:<points>`)
//! are a family per system, dropped with that system's entry. Statuses of objectives that exclude maintenance read
//! their system's windows at load time, so a window's change drops that system's entry too.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use slod_cache::{CacheError, CacheManager, CachedScope};
use slod_engine::{BudgetHistory, Objective, Status};
use slod_store::{Page, Store};

use super::derivation::DerivationInputs;
use super::{timed, Invalidation, Ttls};
use crate::error::ServiceResult;
use crate::ids::ObjectiveId;
use crate::paging::{encode_cursor, Paging};
use crate::signals::{Signal, StatusChanged};

const STATUS_TTL: Duration = Duration::from_secs(15);
const OWNER_TTL: Duration = Duration::from_secs(300);

/// An objective with its status, as every objectives route returns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ObjectiveStatus {
    pub objective: Objective,
    pub status: Status,
}

/// A page of objectives with their statuses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectiveList {
    pub objectives: Vec<ObjectiveStatus>,
    pub next_cursor: Option<String>,
}

/// Every objective of one system with its status. Shared, not copied: a cache hit costs a
/// reference count, and nobody can change what others read (`Arc` hands out `&` only).
pub type SystemObjectives = Arc<ObjectivesOfSystem>;

/// The objectives of one system, with their JSON encoded at most once per cache entry: a
/// bulk-status answer for 1,000 systems then copies bytes instead of encoding 3,000 statuses.
/// A value read from a remote cache keeps the JSON it arrived as, so a Redis hit is spliced
/// into the answer as it came, never encoded again.
#[derive(Debug, Default)]
pub struct ObjectivesOfSystem {
    items: Vec<ObjectiveStatus>,
    /// The JSON array of `items`.
    json: OnceLock<Box<RawValue>>,
    /// The JSON of each item, for `GET /objectives/{id}`.
    item_json: OnceLock<Vec<Box<RawValue>>>,
}

impl From<Vec<ObjectiveStatus>> for ObjectivesOfSystem {
    fn from(items: Vec<ObjectiveStatus>) -> Self {
        ObjectivesOfSystem {
            items,
            json: OnceLock::new(),
            item_json: OnceLock::new(),
        }
    }
}

/// JSON that cannot fail to encode, or `null` if it ever did (plain structs of strings,
/// numbers and enums always encode).
fn raw<T: Serialize + ?Sized>(value: &T) -> Box<RawValue> {
    serde_json::value::to_raw_value(value)
        .unwrap_or_else(|_| RawValue::from_string("null".into()).expect("null is JSON"))
}

impl ObjectivesOfSystem {
    /// The JSON array of the objectives, encoded at most once per entry.
    pub fn json(&self) -> &RawValue {
        self.json.get_or_init(|| raw(&self.items))
    }

    /// The JSON of the objective at `index`, encoded (or split from the array's JSON) at most
    /// once per entry.
    pub fn item_json(&self, index: usize) -> Option<&RawValue> {
        let items = self.item_json.get_or_init(|| match self.json.get() {
            Some(array) => serde_json::from_str(array.get())
                .unwrap_or_else(|_| self.items.iter().map(raw).collect()),
            None => self.items.iter().map(raw).collect(),
        });
        items.get(index).map(AsRef::as_ref)
    }
}

/// The JSON array of a system's objectives as bytes shared with the cache entry: an answer
/// sends them without copying them.
pub fn json_bytes(objectives: &SystemObjectives) -> bytes::Bytes {
    struct Array(SystemObjectives);
    impl AsRef<[u8]> for Array {
        fn as_ref(&self) -> &[u8] {
            self.0.json().get().as_bytes()
        }
    }
    bytes::Bytes::from_owner(Array(objectives.clone()))
}

/// The JSON of one objective of a system's entry, as bytes shared with the entry (`None`:
/// no objective at `index`).
pub fn item_json_bytes(objectives: &SystemObjectives, index: usize) -> Option<bytes::Bytes> {
    struct Item(SystemObjectives, usize);
    impl AsRef<[u8]> for Item {
        fn as_ref(&self) -> &[u8] {
            self.0
                .item_json(self.1)
                .map_or(&b"null"[..], |json| json.get().as_bytes())
        }
    }
    objectives.item_json(index)?;
    Some(bytes::Bytes::from_owner(Item(objectives.clone(), index)))
}

impl<'de> Deserialize<'de> for ObjectivesOfSystem {
    /// Parses the items (a value of another shape is an error, so the cache reads it as a miss,
    /// slod-cache G10) and keeps the JSON they were parsed from.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = Box::<RawValue>::deserialize(deserializer)?;
        let items: Vec<ObjectiveStatus> =
            serde_json::from_str(json.get()).map_err(serde::de::Error::custom)?;
        Ok(ObjectivesOfSystem {
            items,
            json: OnceLock::from(json),
            item_json: OnceLock::new(),
        })
    }
}

impl Clone for ObjectivesOfSystem {
    fn clone(&self) -> Self {
        ObjectivesOfSystem {
            items: self.items.clone(),
            json: self.json.clone(),
            item_json: self.item_json.clone(),
        }
    }
}

impl std::ops::Deref for ObjectivesOfSystem {
    type Target = [ObjectiveStatus];

    fn deref(&self) -> &[ObjectiveStatus] {
        &self.items
    }
}

impl Serialize for ObjectivesOfSystem {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.json().serialize(serializer)
    }
}

/// The statuses of every objective of `systems` at `now`, per system (every requested system
/// present, with `[]` when it has none).
pub async fn compute_statuses(
    store: &Store,
    systems: &[String],
    now: Timestamp,
) -> ServiceResult<HashMap<String, SystemObjectives>> {
    let started = std::time::Instant::now();
    let mut out: HashMap<String, Vec<ObjectiveStatus>> =
        systems.iter().map(|s| (s.clone(), Vec::new())).collect();
    let objectives = timed("statuses", store.objectives_for_systems(systems)).await?;
    if !objectives.is_empty() {
        let inputs = timed("statuses", async {
            let graph = store.dependency_graph().await?;
            DerivationInputs::load(store, &objectives, &graph, now).await
        })
        .await?;
        for (i, objective) in objectives.into_iter().enumerate() {
            let status = inputs
                .with_timelines(i, &objective, |t| slod_engine::status(&objective, t, now))?;
            out.entry(objective.system_id.clone())
                .or_default()
                .push(ObjectiveStatus { objective, status });
        }
    }
    let computed: usize = out.values().map(Vec::len).sum();
    metrics::histogram!("slod_engine_status_duration_seconds")
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("slod_engine_statuses_total").increment(computed as u64);
    Ok(out
        .into_iter()
        .map(|(k, v)| (k, Arc::new(ObjectivesOfSystem::from(v))))
        .collect())
}

/// The cached statuses. Cheap to clone.
#[derive(Clone)]
pub struct Statuses {
    scope: CachedScope,
    store: Store,
    status_ttl: Duration,
    owner_ttl: Duration,
}

impl Statuses {
    pub(crate) fn new(cache: &CacheManager, store: Store, ttls: Ttls) -> Result<Self, CacheError> {
        Ok(Statuses {
            scope: cache.scope("statuses", STATUS_TTL)?,
            store,
            status_ttl: ttls.or(STATUS_TTL),
            owner_ttl: ttls.or(OWNER_TTL),
        })
    }

    /// Every objective of `system` with its status (`[]` for a system without objectives or
    /// one that does not exist).
    pub async fn of_system(&self, system: &str) -> ServiceResult<SystemObjectives> {
        let store = self.store.clone();
        let id = system.to_owned();
        self.scope
            .wrap_with_ttl(
                &format!("objectives:{system}"),
                self.status_ttl,
                move || async move {
                    let mut all =
                        compute_statuses(&store, std::slice::from_ref(&id), Timestamp::now())
                            .await?;
                    Ok(all.remove(&id).unwrap_or_default())
                },
            )
            .await
    }

    /// The objectives of many systems, each from its own entry; all misses load in one batch.
    pub async fn of_systems(&self, systems: &[String]) -> ServiceResult<Vec<SystemObjectives>> {
        let store = self.store.clone();
        self.scope
            .wrap_many(
                systems,
                |id| format!("objectives:{id}"),
                move |ids: Vec<String>| async move {
                    compute_statuses(&store, &ids, Timestamp::now()).await
                },
            )
            .await
    }

    /// The system an objective belongs to, or `None` if it does not exist.
    pub async fn owner(&self, objective: &ObjectiveId) -> ServiceResult<Option<String>> {
        let store = self.store.clone();
        let id = objective.clone();
        self.scope
            .wrap_with_ttl(&format!("owner:{objective}"), self.owner_ttl, move || async move {
                Ok(store.get_objective(id.as_str()).await?.map(|o| o.system_id))
            })
            .await
    }

    /// The entry holding one objective and its index there, or `None`: what
    /// `GET /objectives/{id}` answers from without copying or encoding anything.
    pub async fn objective_entry(
        &self,
        id: &ObjectiveId,
    ) -> ServiceResult<Option<(SystemObjectives, usize)>> {
        let Some(system) = self.owner(id).await? else {
            return Ok(None);
        };
        let entry = self.of_system(&system).await?;
        Ok(entry
            .iter()
            .position(|o| o.objective.id == id.as_str())
            .map(|index| (entry.clone(), index)))
    }

    /// One objective with its status, or `None`.
    pub async fn objective(&self, id: &ObjectiveId) -> ServiceResult<Option<ObjectiveStatus>> {
        let Some(system) = self.owner(id).await? else {
            return Ok(None);
        };
        Ok(self
            .of_system(&system)
            .await?
            .iter()
            .find(|o| o.objective.id == id.as_str())
            .cloned())
    }

    /// A page of all objectives (ordered by id) with their statuses.
    pub async fn page(&self, paging: &Paging) -> ServiceResult<ObjectiveList> {
        let key = format!("list:objectives:{}", paging.key());
        let statuses = self.clone();
        let paging = paging.clone();
        self.scope
            .wrap_with_ttl(&key, self.status_ttl, move || async move {
                let page: Page<Objective> = statuses
                    .store
                    .list_objectives(paging.limit, paging.after.as_deref())
                    .await?;
                let mut systems: Vec<String> =
                    page.items.iter().map(|o| o.system_id.clone()).collect();
                systems.sort_unstable();
                systems.dedup();
                let per_system = statuses.of_systems(&systems).await?;
                let mut by_id: HashMap<&str, &ObjectiveStatus> = per_system
                    .iter()
                    .flat_map(|system| system.iter())
                    .map(|o| (o.objective.id.as_str(), o))
                    .collect();
                let objectives = page
                    .items
                    .iter()
                    .filter_map(|o| by_id.remove(o.id.as_str()).cloned())
                    .collect();
                Ok(ObjectiveList {
                    objectives,
                    next_cursor: encode_cursor(page.next_cursor),
                })
            })
            .await
    }

    /// The burn-down of one objective in `points` points (see [`slod_engine::history`]), or
    /// `None` if the objective does not exist. Cached per system, like the statuses: the same
    /// changes drop both.
    pub async fn history(
        &self,
        id: &ObjectiveId,
        points: usize,
    ) -> ServiceResult<Option<Arc<BudgetHistory>>> {
        let Some(system) = self.owner(id).await? else {
            return Ok(None);
        };
        let store = self.store.clone();
        let id = id.clone();
        let key = format!("history:{system}:{id}:{points}");
        self.scope
            .wrap_with_ttl(&key, self.status_ttl, move || async move {
                let Some(objective) = store.get_objective(id.as_str()).await? else {
                    return Ok(None);
                };
                let now = Timestamp::now();
                let graph = store.dependency_graph().await?;
                let objectives = [objective];
                let inputs = DerivationInputs::load(&store, &objectives, &graph, now).await?;
                let history = inputs.with_timelines(0, &objectives[0], |t| {
                    slod_engine::budget_history(&objectives[0], t, now, points)
                })?;
                Ok(Some(Arc::new(history)))
            })
            .await
    }

    /// After the objectives of `systems` (their definitions, timelines, windows or upstreams)
    /// changed: each system's entry and burn-downs, and every page of the list.
    pub fn changed(&self, systems: &[String]) -> Vec<Invalidation> {
        systems
            .iter()
            .flat_map(|id| {
                [
                    Invalidation::key(&self.scope, format!("objectives:{id}")),
                    Invalidation::family(&self.scope, &format!("history:{id}:")),
                ]
            })
            .chain(std::iter::once(Invalidation::family(&self.scope, "list:")))
            .collect()
    }

    /// After an objective was created or deleted: its owner entry (so a recreated id is never
    /// misfiled).
    pub fn owner_changed(&self, objective: &str) -> Invalidation {
        Invalidation::key(&self.scope, format!("owner:{objective}"))
    }

    /// `slo.status.changed` for every objective of `systems`, read after their invalidation.
    /// A read that fails is logged and signals nothing for that system: the change is
    /// committed, and a dashboard still sees it on its next refetch.
    pub async fn signals_for(&self, systems: Vec<String>) -> Vec<Signal> {
        let mut out = Vec::new();
        for system in systems {
            match self.of_system(&system).await {
                Ok(objectives) => out.extend(objectives.iter().map(status_signal)),
                Err(e) => tracing::warn!(system, error = %e, "reading statuses to signal failed"),
            }
        }
        out
    }
}

/// The `slo.status.changed` signal of one objective's status.
pub fn status_signal(o: &ObjectiveStatus) -> Signal {
    Signal::StatusChanged(StatusChanged {
        system_id: o.objective.system_id.clone(),
        objective_id: o.objective.id.clone(),
        budget_remaining_percent: o.status.error_budget_remaining_percent,
        is_breaching: o.status.is_breaching,
        tier: o.status.tier,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use slod_engine::Timelines;

    #[test]
    fn memoized_json_is_the_plain_encoding_and_round_trips() {
        let now: Timestamp = "2026-06-30T12:00:00Z".parse().unwrap();
        let objective = Objective {
            id: "o".into(),
            system_id: "s".into(),
            health_check_id: None,
            name: Some("n".into()),
            target: 99.9,
            window_days: Some(30),
            window_kind: slod_engine::WindowKind::Rolling,
            time_zone: None,
            dependency_exclusion: slod_engine::DependencyExclusion::Strict,
            excluded_dependency_ids: vec![],
            exclude_maintenance_windows: false,
            burn_rate_thresholds: slod_engine::BurnRateThresholds::default(),
            created_at: now,
            updated_at: now,
        };
        let status = slod_engine::status(
            &objective,
            &Timelines {
                own: &[],
                upstreams: &[],
                maintenance: &[],
            },
            now,
        )
        .unwrap();
        let items = vec![ObjectiveStatus { objective, status }];
        let plain = serde_json::to_string(&items).unwrap();
        let memo = ObjectivesOfSystem::from(items.clone());
        assert_eq!(serde_json::to_string(&memo).unwrap(), plain);
        assert_eq!(
            serde_json::to_string(&memo).unwrap(),
            plain,
            "the second encoding reuses the first"
        );
        let back: ObjectivesOfSystem = serde_json::from_str(&plain).unwrap();
        assert_eq!(&*back, &items[..]);
    }
}
