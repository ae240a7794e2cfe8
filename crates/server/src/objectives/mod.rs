//! Objectives: the service that defines, changes and deletes them, the reads of their
//! statuses (through `crate::views::Statuses`), and their routes. An objective is a view over
//! its system's timeline (engine.md), so a change of its definition invalidates and
//! re-signals only its own system's statuses.

pub mod export;
pub mod gate;
pub mod routes;

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use slod_engine::{
    BurnRateThresholds, DependencyExclusion, DowntimeSegment, Objective, WindowKind,
};

use crate::error::{ServiceError, ServiceResult};
use crate::ids::{new_uuid, CheckId, ObjectiveId, SystemId, TypedId};
use crate::paging::Paging;
use crate::signals::{ObjectiveRef, Signal};
use crate::state::Core;
use crate::validation::{nullable, optional_object, Problems};
use crate::views::{
    status_signal, DerivationInputs, ObjectiveList, ObjectiveStatus, SystemObjectives,
};
use crate::work::{Mutation, Work};

/// Most systems one bulk-status request may name.
pub const MAX_BULK: usize = 1000;

/// Optional burn-rate thresholds; omitted ones keep their (default or stored) values.
#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ThresholdsInput {
    /// Percent of the budget consumed at which an objective is flagged a warning, (0, 100].
    #[schema(exclusive_minimum = 0, maximum = 100)]
    warning_percent: Option<f64>,
    /// Percent of the budget consumed at which an objective is flagged critical, (0, 100],
    /// not below `warningPercent`.
    #[schema(exclusive_minimum = 0, maximum = 100)]
    critical_percent: Option<f64>,
    /// The 1-hour burn rate that pages on a 30-day window, > 0.
    #[schema(exclusive_minimum = 0)]
    fast_burn_multiplier: Option<f64>,
}

impl ThresholdsInput {
    fn apply(self, to: &mut BurnRateThresholds) {
        to.warning_percent = self.warning_percent.unwrap_or(to.warning_percent);
        to.critical_percent = self.critical_percent.unwrap_or(to.critical_percent);
        to.fast_burn_multiplier = self.fast_burn_multiplier.unwrap_or(to.fast_burn_multiplier);
    }
}

/// An objective to create.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateObjective {
    #[schema(value_type = SystemId)]
    pub system_id: String,
    /// A check of the system: the objective reads that check's timeline instead of the
    /// system's.
    #[schema(value_type = Option<CheckId>)]
    pub health_check_id: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Percent, 0..=100.
    #[schema(minimum = 0, maximum = 100)]
    pub target: f64,
    /// Days, 1..=3650: required for a rolling window, not given for a calendar one (whose
    /// length is the period's).
    #[schema(minimum = 1, maximum = 3650)]
    pub window_days: Option<u32>,
    #[serde(default)]
    pub window_kind: WindowKind,
    pub time_zone: Option<String>,
    #[serde(default)]
    pub dependency_exclusion: DependencyExclusion,
    /// Upstream systems whose outages count as this system's own.
    #[serde(default)]
    #[schema(value_type = Vec<SystemId>)]
    pub excluded_dependency_ids: Vec<String>,
    #[serde(default)]
    pub exclude_maintenance_windows: bool,
    #[serde(default, deserialize_with = "optional_object")]
    pub burn_rate_thresholds: Option<ThresholdsInput>,
}

/// Changes to an objective; omitted fields (also inside `burnRateThresholds`) keep their values.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateObjective {
    /// Accepted only if unchanged: an objective never moves to another system.
    #[schema(value_type = Option<SystemId>)]
    pub system_id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<CheckId>)]
    pub health_check_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    pub name: Option<Option<String>>,
    #[schema(minimum = 0, maximum = 100)]
    pub target: Option<f64>,
    /// Days, 1..=3650, of a rolling window; `null` (or nothing, when `windowKind` becomes a
    /// calendar kind) for a calendar window.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 3650)]
    pub window_days: Option<Option<u32>>,
    pub window_kind: Option<WindowKind>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<Option<String>>,
    pub dependency_exclusion: Option<DependencyExclusion>,
    #[schema(value_type = Option<Vec<SystemId>>)]
    pub excluded_dependency_ids: Option<Vec<String>>,
    pub exclude_maintenance_windows: Option<bool>,
    #[serde(default, deserialize_with = "optional_object")]
    pub burn_rate_thresholds: Option<ThresholdsInput>,
}

/// Every requested system, unknown ones with `[]`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkStatusResponse {
    #[schema(value_type = BTreeMap<String, Vec<ObjectiveStatus>>)]
    pub systems: BTreeMap<String, SystemObjectives>,
}

/// The derived downtime of an objective, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DowntimeList {
    pub events: Vec<DowntimeSegment>,
}

/// The engine's rules of an objective (engine.md), and the id rule of each excluded
/// dependency; every failure names its field.
fn validated(o: &Objective) -> ServiceResult<()> {
    let mut problems = match slod_engine::validate::validate_objective(o) {
        Ok(()) => Vec::new(),
        Err(problems) => problems,
    };
    let mut ids = Problems::default();
    ids.ids::<SystemId>("excludedDependencyIds", &o.excluded_dependency_ids);
    problems.extend(ids.into_details());
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Invalid(problems))
    }
}

/// The objectives service. Cheap to clone.
#[derive(Clone)]
pub struct Objectives(Core);

impl axum::extract::FromRef<crate::state::AppState> for Objectives {
    fn from_ref(state: &crate::state::AppState) -> Self {
        Objectives(Core::of(state))
    }
}

impl Objectives {
    /// The service over `core`.
    pub fn new(core: Core) -> Self {
        Objectives(core)
    }

    /// Defines an objective. It shows its window's history at once (everything is derived).
    pub async fn create(&self, input: CreateObjective) -> ServiceResult<Objective> {
        let now = Timestamp::now();
        let mut thresholds = BurnRateThresholds::default();
        input
            .burn_rate_thresholds
            .unwrap_or_default()
            .apply(&mut thresholds);
        let objective = Objective {
            id: new_uuid(),
            system_id: input.system_id,
            health_check_id: input.health_check_id,
            name: input.name,
            target: input.target,
            window_days: input.window_days,
            window_kind: input.window_kind,
            time_zone: input.time_zone,
            dependency_exclusion: input.dependency_exclusion,
            excluded_dependency_ids: input.excluded_dependency_ids,
            exclude_maintenance_windows: input.exclude_maintenance_windows,
            burn_rate_thresholds: thresholds,
            created_at: now,
            updated_at: now,
        };
        validated(&objective)?;
        let mut work = self.0.begin(Mutation::CreateObjective).await?;
        let stored = work.tx().create_objective(&objective).await?;
        self.definition_changed(&mut work, &stored);
        work.commit().await?;
        Ok(stored)
    }

    /// Changes an objective; omitted fields keep their values, and its system never changes.
    pub async fn update(
        &self,
        id: &ObjectiveId,
        input: UpdateObjective,
    ) -> ServiceResult<Objective> {
        let mut work = self.0.begin(Mutation::UpdateObjective).await?;
        let mut o = work
            .tx()
            .get_objective(id.as_str())
            .await?
            .ok_or_else(|| ServiceError::not_found(ObjectiveId::KIND, id.as_str()))?;
        if input.system_id.as_ref().is_some_and(|s| *s != o.system_id) {
            return Err(ServiceError::field(
                "systemId",
                "an objective cannot move to another system",
            ));
        }
        if let Some(v) = input.health_check_id {
            o.health_check_id = v;
        }
        if let Some(v) = input.name {
            o.name = v;
        }
        o.target = input.target.unwrap_or(o.target);
        o.window_kind = input.window_kind.unwrap_or(o.window_kind);
        o.window_days = match input.window_days {
            Some(days) => days,
            // A window that becomes a calendar one leaves its days behind.
            None if o.window_kind != WindowKind::Rolling => None,
            None => o.window_days,
        };
        if let Some(v) = input.time_zone {
            o.time_zone = v;
        }
        o.dependency_exclusion = input.dependency_exclusion.unwrap_or(o.dependency_exclusion);
        o.excluded_dependency_ids = input
            .excluded_dependency_ids
            .unwrap_or(o.excluded_dependency_ids);
        o.exclude_maintenance_windows = input
            .exclude_maintenance_windows
            .unwrap_or(o.exclude_maintenance_windows);
        if let Some(t) = input.burn_rate_thresholds {
            t.apply(&mut o.burn_rate_thresholds);
        }
        o.updated_at = Timestamp::now();
        validated(&o)?;
        let stored = work.tx().update_objective(&o).await?;
        self.definition_changed(&mut work, &stored);
        work.commit().await?;
        Ok(stored)
    }

    /// Deletes an objective.
    pub async fn delete(&self, id: &ObjectiveId) -> ServiceResult<()> {
        let views = &self.0.views;
        let mut work = self.0.begin(Mutation::DeleteObjective).await?;
        let system = work
            .tx()
            .delete_objective(id.as_str())
            .await?
            .ok_or_else(|| ServiceError::not_found(ObjectiveId::KIND, id.as_str()))?;
        work.invalidate(views.statuses.changed(std::slice::from_ref(&system)));
        work.invalidate([views.statuses.owner_changed(id.as_str())]);
        work.signal(Signal::ObjectiveDeleted(ObjectiveRef {
            system_id: system,
            objective_id: id.to_string(),
        }));
        work.commit().await
    }

    /// An objective's definition changed: its system's statuses and its owner entry are
    /// dropped, then its own new status is signalled.
    fn definition_changed(&self, work: &mut Work, o: &Objective) {
        let statuses = &self.0.views.statuses;
        work.invalidate(statuses.changed(std::slice::from_ref(&o.system_id)));
        work.invalidate([statuses.owner_changed(&o.id)]);
        let (statuses, system, id) = (statuses.clone(), o.system_id.clone(), o.id.clone());
        work.signal_later(async move {
            match statuses.of_system(&system).await {
                Ok(all) => all
                    .iter()
                    .filter(|s| s.objective.id == id)
                    .map(status_signal)
                    .collect(),
                Err(e) => {
                    tracing::warn!(objective = id, error = %e, "reading a status to signal failed");
                    Vec::new()
                }
            }
        });
    }

    /// A page of every objective with its status, ordered by id.
    pub async fn list(&self, paging: &Paging) -> ServiceResult<ObjectiveList> {
        self.0.views.statuses.page(paging).await
    }

    /// One objective with its status.
    pub async fn get(&self, id: &ObjectiveId) -> ServiceResult<ObjectiveStatus> {
        self.0
            .views
            .statuses
            .objective(id)
            .await?
            .ok_or_else(|| ServiceError::not_found(ObjectiveId::KIND, id.as_str()))
    }

    /// One objective with its status as JSON, the bytes of its cache entry (nothing copied or
    /// encoded per request). Errors: not found.
    pub async fn get_encoded(&self, id: &ObjectiveId) -> ServiceResult<bytes::Bytes> {
        self.0
            .views
            .statuses
            .objective_entry(id)
            .await?
            .and_then(|(entry, index)| crate::views::item_json_bytes(&entry, index))
            .ok_or_else(|| ServiceError::not_found(ObjectiveId::KIND, id.as_str()))
    }

    /// Every objective of a system with its status.
    pub async fn for_system(&self, system: &SystemId) -> ServiceResult<SystemObjectives> {
        if self.0.views.topology.system(system).await?.is_none() {
            return Err(ServiceError::not_found(SystemId::KIND, system.as_str()));
        }
        self.0.views.statuses.of_system(system.as_str()).await
    }

    /// The objectives of up to 1,000 systems, every requested id present (unknown ones, and
    /// ids that cannot name a system, with `[]`).
    pub async fn bulk_status(&self, system_ids: Vec<String>) -> ServiceResult<BulkStatusResponse> {
        if system_ids.len() > MAX_BULK {
            return Err(ServiceError::field(
                "systemIds",
                format!("at most {MAX_BULK} system ids"),
            ));
        }
        // Ids that cannot name a system are answered with [] without a cache or database trip.
        let valid: Vec<String> = system_ids
            .iter()
            .filter(|id| SystemId::parse(id).is_some())
            .cloned()
            .collect();
        let found = self.0.views.statuses.of_systems(&valid).await?;
        let mut systems: BTreeMap<String, SystemObjectives> =
            valid.into_iter().zip(found).collect();
        for id in system_ids {
            systems.entry(id).or_default();
        }
        Ok(BulkStatusResponse { systems })
    }

    /// Every objective's status as Sloth-named Prometheus gauges (see [`export`]), read from
    /// the cache the dashboard reads.
    pub async fn slo_metrics(&self) -> ServiceResult<String> {
        let layers = self.0.views.topology.layers().await?;
        let all = self.0.views.statuses.of_systems(&layers.systems).await?;
        Ok(export::render(
            all.iter().flat_map(|of_system| of_system.iter()),
        ))
    }

    /// The deploy gate of one objective (see [`gate`]). Errors: not found; a threshold
    /// outside 0..=100 (`minRemainingPercent`).
    pub async fn gate(
        &self,
        id: &ObjectiveId,
        min_remaining_percent: Option<f64>,
    ) -> ServiceResult<gate::Gate> {
        let min = threshold(min_remaining_percent)?;
        let objective = self.get(id).await?;
        Ok(gate::decide([&objective], min))
    }

    /// The deploy gate of every objective of a system. Errors: as [`Objectives::gate`].
    pub async fn system_gate(
        &self,
        system: &SystemId,
        min_remaining_percent: Option<f64>,
    ) -> ServiceResult<gate::Gate> {
        let min = threshold(min_remaining_percent)?;
        let objectives = self.for_system(system).await?;
        Ok(gate::decide(objectives.iter(), min))
    }

    /// An objective's error budget burn-down over its window (see [`slod_engine::history`]),
    /// from the cache the statuses live in. Errors: not found; `points` outside 2..=1000.
    pub async fn budget_history(
        &self,
        id: &ObjectiveId,
        points: Option<u64>,
    ) -> ServiceResult<std::sync::Arc<slod_engine::BudgetHistory>> {
        let points = history_points(points)?;
        self.0
            .views
            .statuses
            .history(id, points)
            .await?
            .ok_or_else(|| ServiceError::not_found(ObjectiveId::KIND, id.as_str()))
    }

    /// An objective's derived downtime over its window, newest first, at most `limit`
    /// segments.
    pub async fn downtime(&self, id: &ObjectiveId, limit: usize) -> ServiceResult<DowntimeList> {
        let objective = self
            .0
            .store
            .get_objective(id.as_str())
            .await?
            .ok_or_else(|| ServiceError::not_found(ObjectiveId::KIND, id.as_str()))?;
        let now = Timestamp::now();
        let graph = self.0.views.topology.graph().await?;
        let objectives = [objective];
        let inputs = DerivationInputs::load(&self.0.store, &objectives, &graph, now).await?;
        let events = inputs.with_timelines(0, &objectives[0], |t| {
            slod_engine::downtime(&objectives[0], t, now, limit)
        })?;
        Ok(DowntimeList { events })
    }
}

/// Points of a burn-down when none are asked for: one every half day of a 30-day window.
pub const DEFAULT_HISTORY_POINTS: usize = 60;

/// A burn-down's number of points, [`slod_engine::history::MIN_POINTS`] to
/// [`slod_engine::history::MAX_POINTS`] (default [`DEFAULT_HISTORY_POINTS`]).
fn history_points(points: Option<u64>) -> ServiceResult<usize> {
    use slod_engine::history::{MAX_POINTS, MIN_POINTS};
    match points {
        None => Ok(DEFAULT_HISTORY_POINTS),
        Some(n) if (MIN_POINTS as u64..=MAX_POINTS as u64).contains(&n) => Ok(n as usize),
        Some(_) => Err(ServiceError::field(
            "points",
            format!("must be from {MIN_POINTS} to {MAX_POINTS}"),
        )),
    }
}

/// A gate's threshold: percent of the error budget, 0..=100 (default 0).
fn threshold(min_remaining_percent: Option<f64>) -> ServiceResult<f64> {
    match min_remaining_percent {
        None => Ok(0.0),
        Some(p) if (0.0..=100.0).contains(&p) => Ok(p),
        Some(_) => Err(ServiceError::field(
            "minRemainingPercent",
            "must be a percent from 0 to 100",
        )),
    }
}
