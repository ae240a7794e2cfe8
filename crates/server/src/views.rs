//! The dashboard's read models behind the cache: a small typed facade over one `CachedScope`,
//! like the seed's `cache.ts` (`wrap_objective`, `wrap_system`, `invalidate_for_mutation`).
//!
//! Keys (scope `dashboard`):
//! - `objectives:<systemId>`: every objective of a system with its status (15 s). Shared by
//!   `GET /systems/{id}/objectives`, `GET /objectives/{id}` and each entry of bulk-status,
//!   which loads all misses with `wrap_many` in one batch.
//! - `owner:<objectiveId>`: the system an objective belongs to (it never changes).
//! - `list:objectives:<limit>:<cursor>`: pages of `GET /objectives` (family `list:`).
//! - `health:<systemId>`: a system's rolled-up health (15 s).
//! - `topology:graph`, `topology:systems:<limit>:<cursor>`, `topology:system:<id>`: the
//!   systems and their dependency graph (25 s), dropped whole on any system change.
//!
//! Statuses of objectives that exclude maintenance read their system's windows at load time, so
//! a window's change drops that system's `objectives:` entry (`after_maintenance_change`).
//!
//! The rule every mutation follows: commit, then `await` the `after_*` invalidation here, then
//! emit the signal. A failed invalidation is logged; the cache then bypasses those keys for one
//! TTL in this process (slod-cache G7), so it never serves what it failed to invalidate.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use slod_cache::{CacheError, CacheManager, CachedScope};
use slod_engine::{
    upstream_closure, DownInterval, MaintenanceWindow, Objective, Status, Timelines, Upstream,
};
use slod_store::{Page, Store, StoreError, System, SystemHealth, TimelineSet};

use crate::error::ApiError;

const STATUS_TTL: Duration = Duration::from_secs(15);
const HEALTH_TTL: Duration = Duration::from_secs(15);
const TOPOLOGY_TTL: Duration = Duration::from_secs(25);
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
#[derive(Debug, Default, Deserialize)]
#[serde(from = "Vec<ObjectiveStatus>")]
pub struct ObjectivesOfSystem {
    items: Vec<ObjectiveStatus>,
    json: OnceLock<Box<RawValue>>,
}

impl From<Vec<ObjectiveStatus>> for ObjectivesOfSystem {
    fn from(items: Vec<ObjectiveStatus>) -> Self {
        ObjectivesOfSystem {
            items,
            json: OnceLock::new(),
        }
    }
}

impl Clone for ObjectivesOfSystem {
    fn clone(&self) -> Self {
        ObjectivesOfSystem {
            items: self.items.clone(),
            json: self.json.clone(),
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
        let json = match self.json.get() {
            Some(json) => json,
            None => {
                let encoded = serde_json::value::to_raw_value(&self.items)
                    .map_err(serde::ser::Error::custom)?;
                self.json.get_or_init(|| encoded)
            }
        };
        json.serialize(serializer)
    }
}

/// The graph of `dependsOn` edges: system -> upstreams.
pub type Graph = HashMap<String, Vec<String>>;

impl From<CacheError> for ApiError {
    fn from(e: CacheError) -> Self {
        match e {
            CacheError::InvalidKey(_) | CacheError::InvalidFamily(_) => {
                ApiError::not_found("no such resource")
            }
            other => ApiError::internal(other),
        }
    }
}

/// The systems that depend on `system`, transitively (not including it).
pub fn downstream(graph: &Graph, system: &str) -> Vec<String> {
    let mut reverse: HashMap<&str, Vec<&str>> = HashMap::new();
    for (from, ups) in graph {
        for up in ups {
            reverse.entry(up.as_str()).or_default().push(from.as_str());
        }
    }
    let mut seen: HashSet<&str> = HashSet::from([system]);
    let mut queue = VecDeque::from([system]);
    let mut out = Vec::new();
    while let Some(id) = queue.pop_front() {
        for &next in reverse.get(id).into_iter().flatten() {
            if seen.insert(next) {
                out.push(next.to_owned());
                queue.push_back(next);
            }
        }
    }
    out
}

/// Computes the statuses of every objective of `systems` at `now`, in a fixed number of
/// queries whatever the number of systems.
pub async fn compute_statuses(
    store: &Store,
    systems: &[String],
    now: Timestamp,
) -> Result<HashMap<String, SystemObjectives>, ApiError> {
    let mut out: HashMap<String, Vec<ObjectiveStatus>> =
        systems.iter().map(|s| (s.clone(), Vec::new())).collect();
    let objectives = store.objectives_for_systems(systems).await?;
    if !objectives.is_empty() {
        let graph = store.dependency_graph().await?;
        let inputs = DerivationInputs::load(store, &objectives, &graph, now).await?;
        for (i, objective) in objectives.into_iter().enumerate() {
            let status = inputs
                .with_timelines(i, &objective, |t| slod_engine::status(&objective, t, now))
                .map_err(ApiError::internal)?;
            out.entry(objective.system_id.clone())
                .or_default()
                .push(ObjectiveStatus { objective, status });
        }
    }
    Ok(out
        .into_iter()
        .map(|(k, v)| (k, Arc::new(ObjectivesOfSystem::from(v))))
        .collect())
}

/// Everything the statuses and downtime of some objectives are derived from: their upstream
/// closures, the timelines those read, and the maintenance windows of the systems whose
/// objectives exclude maintenance. Read in a fixed number of queries.
pub struct DerivationInputs {
    closures: Vec<Vec<(String, u32)>>,
    set: TimelineSet,
    maintenance: HashMap<String, Vec<MaintenanceWindow>>,
}

impl DerivationInputs {
    /// Loads what `objectives` need at `now` (their windows, and 72 hours for the burn rates).
    pub async fn load(
        store: &Store,
        objectives: &[Objective],
        graph: &Graph,
        now: Timestamp,
    ) -> Result<Self, ApiError> {
        let mut needed_systems: HashSet<String> = HashSet::new();
        let mut needed_checks: HashSet<String> = HashSet::new();
        let mut since = now
            .checked_sub(jiff::SignedDuration::from_hours(72))
            .unwrap_or(now);
        let mut closures = Vec::with_capacity(objectives.len());
        for o in objectives {
            let closure = upstream_closure(&o.system_id, graph, &o.excluded_dependency_ids);
            needed_systems.extend(closure.iter().map(|(id, _)| id.clone()));
            match &o.health_check_id {
                Some(check) => needed_checks.insert(check.clone()),
                None => needed_systems.insert(o.system_id.clone()),
            };
            let window = slod_engine::window::window_at(
                o.window_kind,
                o.window_days,
                o.time_zone.as_deref(),
                now,
            )
            .map_err(ApiError::internal)?;
            since = since.min(Timestamp::from_millisecond(window.observed.start).unwrap_or(now));
            closures.push(closure);
        }
        let set = store
            .timelines(
                &needed_systems.into_iter().collect::<Vec<_>>(),
                &needed_checks.into_iter().collect::<Vec<_>>(),
                since,
            )
            .await?;
        let mut maintained: Vec<String> = objectives
            .iter()
            .filter(|o| o.exclude_maintenance_windows)
            .map(|o| o.system_id.clone())
            .collect();
        maintained.sort_unstable();
        maintained.dedup();
        let maintenance = if maintained.is_empty() {
            HashMap::new()
        } else {
            store.maintenance_windows(&maintained, since).await?
        };
        Ok(DerivationInputs {
            closures,
            set,
            maintenance,
        })
    }

    /// Runs `f` on the timelines of `objective`, the `i`-th of those it was loaded for.
    pub fn with_timelines<R>(
        &self,
        i: usize,
        objective: &Objective,
        f: impl FnOnce(&Timelines<'_>) -> R,
    ) -> R {
        let (own, upstreams) = objective_timelines(objective, &self.closures[i], &self.set);
        f(&Timelines {
            own,
            upstreams: &upstreams,
            maintenance: self
                .maintenance
                .get(&objective.system_id)
                .map_or(&[][..], Vec::as_slice),
        })
    }
}

/// The timelines `objective` reads out of `set`: its system's (or its check's) own, and one per
/// upstream of `closure`. Missing entries are empty timelines (nothing was down).
fn objective_timelines<'a>(
    objective: &Objective,
    closure: &'a [(String, u32)],
    set: &'a TimelineSet,
) -> (&'a [DownInterval], Vec<Upstream<'a>>) {
    let own = match &objective.health_check_id {
        Some(check) => set.checks.get(check),
        None => set.systems.get(&objective.system_id),
    };
    let upstreams = closure
        .iter()
        .map(|(id, depth)| Upstream {
            system_id: id,
            depth: *depth,
            intervals: set.systems.get(id).map_or(&[][..], Vec::as_slice),
        })
        .collect();
    (own.map_or(&[][..], Vec::as_slice), upstreams)
}

/// The cached read models. Cheap to clone.
#[derive(Clone)]
pub struct Views {
    scope: CachedScope,
    store: Store,
}

impl Views {
    pub fn new(cache: &CacheManager, store: Store) -> Result<Self, CacheError> {
        Ok(Views {
            scope: cache.scope("dashboard", STATUS_TTL)?,
            store,
        })
    }

    /// Every objective of `system` with its status.
    pub async fn system_objectives(&self, system: &str) -> Result<SystemObjectives, ApiError> {
        let store = self.store.clone();
        let id = system.to_owned();
        self.scope
            .wrap_with_ttl(
                &format!("objectives:{system}"),
                STATUS_TTL,
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
    pub async fn bulk_objectives(
        &self,
        systems: &[String],
    ) -> Result<Vec<SystemObjectives>, ApiError> {
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
    pub async fn owner(&self, objective: &str) -> Result<Option<String>, ApiError> {
        let store = self.store.clone();
        let id = objective.to_owned();
        self.scope
            .wrap_with_ttl(
                &format!("owner:{objective}"),
                OWNER_TTL,
                move || async move {
                    Ok::<_, ApiError>(store.get_objective(&id).await?.map(|o| o.system_id))
                },
            )
            .await
    }

    /// One objective with its status.
    pub async fn objective(&self, id: &str) -> Result<Option<ObjectiveStatus>, ApiError> {
        let Some(system) = self.owner(id).await? else {
            return Ok(None);
        };
        Ok(self
            .system_objectives(&system)
            .await?
            .iter()
            .find(|o| o.objective.id == id)
            .cloned())
    }

    /// A page of all objectives with their statuses.
    pub async fn objectives_page(
        &self,
        limit: usize,
        after: Option<String>,
    ) -> Result<ObjectiveList, ApiError> {
        let key = format!(
            "list:objectives:{limit}:{}",
            after.as_deref().unwrap_or("-")
        );
        let views = self.clone();
        self.scope
            .wrap_with_ttl(&key, STATUS_TTL, move || async move {
                let page: Page<Objective> =
                    views.store.list_objectives(limit, after.as_deref()).await?;
                let mut systems: Vec<String> =
                    page.items.iter().map(|o| o.system_id.clone()).collect();
                systems.sort_unstable();
                systems.dedup();
                let per_system = views.bulk_objectives(&systems).await?;
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
                Ok::<_, ApiError>(ObjectiveList {
                    objectives,
                    next_cursor: crate::validate::make_cursor(page.next_cursor),
                })
            })
            .await
    }

    /// A system's rolled-up health.
    pub async fn health(&self, system: &str) -> Result<Option<SystemHealth>, ApiError> {
        let store = self.store.clone();
        let id = system.to_owned();
        self.scope
            .wrap_with_ttl(
                &format!("health:{system}"),
                HEALTH_TTL,
                move || async move { Ok::<_, ApiError>(store.system_health(&id).await?) },
            )
            .await
    }

    /// The dependency graph.
    pub async fn graph(&self) -> Result<Graph, ApiError> {
        let store = self.store.clone();
        self.scope
            .wrap_with_ttl("topology:graph", TOPOLOGY_TTL, move || async move {
                Ok::<_, ApiError>(store.dependency_graph().await?)
            })
            .await
    }

    /// A page of systems.
    pub async fn systems_page(
        &self,
        limit: usize,
        after: Option<String>,
    ) -> Result<(Vec<System>, Option<String>), ApiError> {
        let store = self.store.clone();
        let key = format!(
            "topology:systems:{limit}:{}",
            after.as_deref().unwrap_or("-")
        );
        self.scope
            .wrap_with_ttl(&key, TOPOLOGY_TTL, move || async move {
                let page = store.list_systems(limit, after.as_deref()).await?;
                Ok::<_, ApiError>((page.items, page.next_cursor))
            })
            .await
    }

    /// One system.
    pub async fn system(&self, id: &str) -> Result<Option<System>, ApiError> {
        let store = self.store.clone();
        let owned = id.to_owned();
        self.scope
            .wrap_with_ttl(
                &format!("topology:system:{id}"),
                TOPOLOGY_TTL,
                move || async move { Ok::<_, ApiError>(store.get_system(&owned).await?) },
            )
            .await
    }

    async fn drop_key(&self, key: &str) {
        if let Err(e) = self.scope.invalidate(key).await {
            tracing::warn!(key, error = %e, "cache invalidation failed; bypassing the key for one TTL");
        }
    }

    async fn drop_family(&self, family: &str) {
        if let Err(e) = self.scope.invalidate_prefix(family).await {
            tracing::warn!(family, error = %e, "cache invalidation failed; bypassing the family for one TTL");
        }
    }

    /// After a system's timeline or health changed (ingest, check changes): its health, its
    /// objectives and those of every system downstream of it, and the lists. Returns the
    /// systems whose objectives changed (the system first, then its downstream).
    pub async fn after_timeline_change(&self, system: &str) -> Result<Vec<String>, StoreError> {
        let graph = self.store.dependency_graph().await?;
        let mut affected = vec![system.to_owned()];
        affected.extend(downstream(&graph, system));
        self.drop_key(&format!("health:{system}")).await;
        for id in &affected {
            self.drop_key(&format!("objectives:{id}")).await;
        }
        self.drop_family("list:").await;
        Ok(affected)
    }

    /// After a maintenance window of `systems` was created or cancelled: their objectives (only
    /// a system's own objectives read its windows) and the lists.
    pub async fn after_maintenance_change(&self, systems: &[String]) {
        for id in systems {
            self.drop_key(&format!("objectives:{id}")).await;
        }
        self.drop_family("list:").await;
    }

    /// After only a system's health view changed (a result that moved no timeline).
    pub async fn after_health_change(&self, system: &str) {
        self.drop_key(&format!("health:{system}")).await;
    }

    /// After an objective was created, changed or deleted.
    pub async fn after_objective_change(&self, system: &str, objective: &str) {
        self.drop_key(&format!("objectives:{system}")).await;
        self.drop_key(&format!("owner:{objective}")).await;
        self.drop_family("list:").await;
    }

    /// After a system was created, changed or deleted: the topology, and (when its
    /// dependencies or existence changed) its objectives and everything downstream.
    /// `downstream_before` are the systems that depended on it before the change.
    pub async fn after_system_change(
        &self,
        system: &str,
        downstream_before: &[String],
    ) -> Result<Vec<String>, StoreError> {
        self.drop_family("topology:").await;
        let graph = self.store.dependency_graph().await?;
        let mut affected = vec![system.to_owned()];
        for id in downstream(&graph, system)
            .into_iter()
            .chain(downstream_before.iter().cloned())
        {
            if !affected.contains(&id) {
                affected.push(id);
            }
        }
        self.drop_key(&format!("health:{system}")).await;
        for id in &affected {
            self.drop_key(&format!("objectives:{id}")).await;
        }
        self.drop_family("list:").await;
        Ok(affected)
    }

    /// Drops an objective's owner entry (on delete, so a recreated id is not misfiled).
    pub async fn forget_owner(&self, objective: &str) {
        self.drop_key(&format!("owner:{objective}")).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memoized_json_is_the_plain_encoding_and_round_trips() {
        let now: Timestamp = "2026-06-30T12:00:00Z".parse().unwrap();
        let objective = Objective {
            id: "o".into(),
            system_id: "s".into(),
            health_check_id: None,
            name: Some("n".into()),
            target: 99.9,
            window_days: 30,
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

    #[test]
    fn downstream_is_transitive() {
        let graph: Graph = HashMap::from([
            ("web".into(), vec!["api".into()]),
            ("api".into(), vec!["db".into()]),
            ("batch".into(), vec!["db".into()]),
        ]);
        let mut d = downstream(&graph, "db");
        d.sort();
        assert_eq!(d, ["api", "batch", "web"]);
        assert!(downstream(&graph, "web").is_empty());
    }
}
