//! Objectives: routes, input rules, and the announce step every change goes through.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use slod_engine::{
    BurnRateThresholds, DependencyExclusion, DowntimeSegment, Health, Objective, WindowKind,
};

use crate::app::AppState;
use crate::error::{ApiError, ApiResult, Detail, ErrorBody};
use crate::extract::{nullable, ApiJson, ApiQuery};
use crate::systems::ListQuery;
use crate::validate;
use crate::views::{DerivationInputs, ObjectiveList, ObjectiveStatus, SystemObjectives};

/// Most systems one bulk-status request may name.
pub const MAX_BULK: usize = 1000;

/// Optional burn-rate thresholds; omitted ones keep their (default or stored) values.
#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ThresholdsInput {
    warning_percent: Option<f64>,
    critical_percent: Option<f64>,
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
    system_id: String,
    health_check_id: Option<String>,
    name: Option<String>,
    /// Percent, 0..=100.
    target: f64,
    /// 1..=3650.
    window_days: u32,
    #[serde(default)]
    window_kind: WindowKind,
    time_zone: Option<String>,
    #[serde(default)]
    dependency_exclusion: DependencyExclusion,
    #[serde(default)]
    excluded_dependency_ids: Vec<String>,
    #[serde(default)]
    exclude_maintenance_windows: bool,
    burn_rate_thresholds: Option<ThresholdsInput>,
}

/// Changes to an objective; omitted fields (also inside `burnRateThresholds`) keep their values.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateObjective {
    /// Accepted only if unchanged: an objective never moves to another system.
    system_id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    health_check_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    name: Option<Option<String>>,
    target: Option<f64>,
    window_days: Option<u32>,
    window_kind: Option<WindowKind>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    time_zone: Option<Option<String>>,
    dependency_exclusion: Option<DependencyExclusion>,
    excluded_dependency_ids: Option<Vec<String>>,
    exclude_maintenance_windows: Option<bool>,
    burn_rate_thresholds: Option<ThresholdsInput>,
}

/// Systems whose objectives to return.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkStatusRequest {
    system_ids: Vec<String>,
}

/// Every requested system, unknown ones with `[]`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkStatusResponse {
    #[schema(value_type = std::collections::BTreeMap<String, Vec<ObjectiveStatus>>)]
    systems: std::collections::BTreeMap<String, SystemObjectives>,
}

/// The derived downtime of an objective, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DowntimeList {
    events: Vec<DowntimeSegment>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DowntimeQuery {
    /// 1..=1000, default 100.
    limit: Option<u64>,
}

fn validated(o: &Objective) -> ApiResult<()> {
    slod_engine::validate::validate_objective(o).map_err(|errors| {
        ApiError::invalid_fields(
            errors
                .into_iter()
                .map(|e| Detail {
                    field: e.field,
                    message: e.message,
                })
                .collect(),
        )
    })
}

/// The announce step after an objective changed: invalidate, then signal its new status.
async fn announce_objective(
    state: &AppState,
    system: &str,
    objective: &str,
) -> ApiResult<Option<ObjectiveStatus>> {
    state.views.after_objective_change(system, objective).await;
    let current = state.views.objective(objective).await?;
    if let Some(o) = &current {
        emit_status(state, o);
    }
    Ok(current)
}

fn emit_status(state: &AppState, o: &ObjectiveStatus) {
    state.signals.emit(
        "slo.status.changed",
        &o.objective.system_id,
        json!({
            "systemId": o.objective.system_id,
            "objectiveId": o.objective.id,
            "budgetRemainingPercent": o.status.error_budget_remaining_percent,
            "isBreaching": o.status.is_breaching,
            "tier": o.status.tier,
        }),
    );
}

/// The announce step after a system's timeline or health changed: invalidate its health, its
/// objectives and everything downstream, then signal `health.changed` (if the rolled-up
/// status changed) and each affected objective's new status.
pub async fn announce_timeline_change(
    state: &AppState,
    system: &str,
    health: Option<Health>,
) -> ApiResult<()> {
    announce_timeline_changes(state, &[(system.to_owned(), health)]).await
}

/// The same for several systems changed at once (an incident's): every invalidation first,
/// then the signals, each affected objective's status once even where the systems share
/// downstream systems.
pub async fn announce_timeline_changes(
    state: &AppState,
    changes: &[(String, Option<Health>)],
) -> ApiResult<()> {
    let mut affected: Vec<String> = Vec::new();
    for (system, _) in changes {
        for id in state.views.after_timeline_change(system).await? {
            if !affected.contains(&id) {
                affected.push(id);
            }
        }
    }
    for (system, health) in changes {
        if let Some(health) = health {
            state.signals.emit(
                "health.changed",
                system,
                json!({"systemId": system, "status": health}),
            );
        }
    }
    announce_statuses(state, &affected).await
}

/// Signals the current status of every objective of `systems` (after their invalidation).
pub async fn announce_statuses(state: &AppState, systems: &[String]) -> ApiResult<()> {
    for id in systems {
        for o in state.views.system_objectives(id).await?.iter() {
            emit_status(state, o);
        }
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/objectives", tag = "objectives", operation_id = "createObjective", request_body = CreateObjective,
    responses((status = 201, body = Objective), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<CreateObjective>,
) -> ApiResult<(StatusCode, Json<Objective>)> {
    let now = Timestamp::now();
    let mut thresholds = BurnRateThresholds::default();
    input
        .burn_rate_thresholds
        .unwrap_or_default()
        .apply(&mut thresholds);
    let objective = Objective {
        id: uuid::Uuid::new_v4().to_string(),
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
    let stored = state.store.create_objective(&objective).await?;
    announce_objective(&state, &stored.system_id, &stored.id).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

#[utoipa::path(get, path = "/api/v1/objectives", tag = "objectives", operation_id = "listObjectives", params(ListQuery),
    responses((status = 200, body = ObjectiveList), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<ObjectiveList>> {
    let limit = query.limit()?;
    let after = validate::cursor(query.cursor())?;
    Ok(Json(state.views.objectives_page(limit, after).await?))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("objective {id:?} not found"))
}

#[utoipa::path(get, path = "/api/v1/objectives/{id}", tag = "objectives", operation_id = "getObjective", params(("id" = String, Path)),
    responses((status = 200, body = ObjectiveStatus), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ObjectiveStatus>> {
    if !validate::system_id(&id) {
        return Err(not_found(&id));
    }
    state
        .views
        .objective(&id)
        .await?
        .map(Json)
        .ok_or_else(|| not_found(&id))
}

#[utoipa::path(patch, path = "/api/v1/objectives/{id}", tag = "objectives", operation_id = "updateObjective", params(("id" = String, Path)), request_body = UpdateObjective,
    responses((status = 200, body = Objective), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UpdateObjective>,
) -> ApiResult<Json<Objective>> {
    let mut o = state
        .store
        .get_objective(&id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    if input.system_id.as_ref().is_some_and(|s| *s != o.system_id) {
        return Err(ApiError::field(
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
    o.window_days = input.window_days.unwrap_or(o.window_days);
    o.window_kind = input.window_kind.unwrap_or(o.window_kind);
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
    let stored = state.store.update_objective(&o).await?;
    announce_objective(&state, &stored.system_id, &stored.id).await?;
    Ok(Json(stored))
}

#[utoipa::path(delete, path = "/api/v1/objectives/{id}", tag = "objectives", operation_id = "deleteObjective", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let system = state
        .store
        .delete_objective(&id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    state.views.after_objective_change(&system, &id).await;
    state.signals.emit(
        "slo.objective.deleted",
        &system,
        json!({"systemId": system, "objectiveId": id}),
    );
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/systems/{id}/objectives", tag = "objectives", operation_id = "getObjectivesForSystem", params(("id" = String, Path)),
    responses((status = 200, body = Vec<ObjectiveStatus>), (status = 404, body = ErrorBody)))]
pub async fn for_system(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SystemObjectives>> {
    if !validate::system_id(&id) || state.views.system(&id).await?.is_none() {
        return Err(ApiError::not_found(format!("system {id:?} not found")));
    }
    Ok(Json(state.views.system_objectives(&id).await?))
}

#[utoipa::path(post, path = "/api/v1/objectives/bulk-status", tag = "objectives", operation_id = "getBulkObjectivesForSystems", request_body = BulkStatusRequest,
    responses((status = 200, body = BulkStatusResponse), (status = 400, body = ErrorBody)))]
pub async fn bulk_status(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<BulkStatusRequest>,
) -> ApiResult<Json<BulkStatusResponse>> {
    if input.system_ids.len() > MAX_BULK {
        return Err(ApiError::field(
            "systemIds",
            format!("at most {MAX_BULK} system ids"),
        ));
    }
    // Ids that cannot name a system are answered with [] without a cache or database trip.
    let valid: Vec<String> = input
        .system_ids
        .iter()
        .filter(|id| validate::system_id(id))
        .cloned()
        .collect();
    let found = state.views.bulk_objectives(&valid).await?;
    let mut systems: std::collections::BTreeMap<String, SystemObjectives> =
        valid.into_iter().zip(found).collect();
    for id in input.system_ids {
        systems.entry(id).or_default();
    }
    Ok(Json(BulkStatusResponse { systems }))
}

#[utoipa::path(get, path = "/api/v1/objectives/{id}/downtime", tag = "objectives", operation_id = "getObjectiveDowntime", params(("id" = String, Path), DowntimeQuery),
    responses((status = 200, body = DowntimeList), (status = 404, body = ErrorBody)))]
pub async fn downtime(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<DowntimeQuery>,
) -> ApiResult<Json<DowntimeList>> {
    let mut problems = validate::Problems::default();
    problems.range("limit", query.limit, 1, 1000);
    problems.into_result()?;
    let objective = state
        .store
        .get_objective(&id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let now = Timestamp::now();
    let graph = state.views.graph().await?;
    let objectives = [objective];
    let inputs = DerivationInputs::load(&state.store, &objectives, &graph, now).await?;
    let limit = query.limit.unwrap_or(100) as usize;
    let events = inputs
        .with_timelines(0, &objectives[0], |t| {
            slod_engine::downtime(&objectives[0], t, now, limit)
        })
        .map_err(ApiError::internal)?;
    Ok(Json(DowntimeList { events }))
}
