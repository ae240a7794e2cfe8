//! `/api/v1/objectives...`, `/api/v1/systems/{id}/objectives`: extract, one service call,
//! respond.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use std::sync::Arc;

use slod_engine::{BudgetHistory, Objective};

use super::{BulkStatusResponse, CreateObjective, DowntimeList, Objectives, UpdateObjective};
use crate::http::encoded::EncodedJson;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiQuery, Id};
use crate::http::params::{LimitQuery, ListQuery};
use crate::ids::{ObjectiveId, SystemId};
use crate::views::{json_bytes, ObjectiveList, ObjectiveStatus, SystemObjectives};

/// Systems whose objectives to return.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkStatusRequest {
    /// Up to 1000 system ids (ids that name no system are answered with `[]`).
    #[schema(max_items = 1000)]
    system_ids: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/objectives", tag = "objectives", operation_id = "createObjective", request_body = CreateObjective,
    responses((status = 201, body = Objective), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(objectives): State<Objectives>,
    ApiJson(input): ApiJson<CreateObjective>,
) -> ApiResult<(StatusCode, Json<Objective>)> {
    Ok((StatusCode::CREATED, Json(objectives.create(input).await?)))
}

#[utoipa::path(get, path = "/api/v1/objectives", tag = "objectives", operation_id = "listObjectives", params(ListQuery),
    responses((status = 200, body = ObjectiveList), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(objectives): State<Objectives>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<ObjectiveList>> {
    Ok(Json(objectives.list(&query.paging()?).await?))
}

#[utoipa::path(get, path = "/api/v1/objectives/{id}", tag = "objectives", operation_id = "getObjective", params(("id" = ObjectiveId, Path)),
    responses((status = 200, body = ObjectiveStatus), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(objectives): State<Objectives>,
    Id(id): Id<ObjectiveId>,
) -> ApiResult<EncodedJson> {
    let mut answer = EncodedJson::default();
    answer.push(objectives.get_encoded(&id).await?);
    Ok(answer)
}

#[utoipa::path(patch, path = "/api/v1/objectives/{id}", tag = "objectives", operation_id = "updateObjective", params(("id" = ObjectiveId, Path)), request_body = UpdateObjective,
    responses((status = 200, body = Objective), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(objectives): State<Objectives>,
    Id(id): Id<ObjectiveId>,
    ApiJson(input): ApiJson<UpdateObjective>,
) -> ApiResult<Json<Objective>> {
    Ok(Json(objectives.update(&id, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/objectives/{id}", tag = "objectives", operation_id = "deleteObjective", params(("id" = ObjectiveId, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(objectives): State<Objectives>,
    Id(id): Id<ObjectiveId>,
) -> ApiResult<StatusCode> {
    objectives.delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/systems/{id}/objectives", tag = "objectives", operation_id = "getObjectivesForSystem", params(("id" = SystemId, Path)),
    responses((status = 200, body = Vec<ObjectiveStatus>), (status = 404, body = ErrorBody)))]
pub async fn for_system(
    State(objectives): State<Objectives>,
    Id(system): Id<SystemId>,
) -> ApiResult<Json<SystemObjectives>> {
    Ok(Json(objectives.for_system(&system).await?))
}

#[utoipa::path(post, path = "/api/v1/objectives/bulk-status", tag = "objectives", operation_id = "getBulkObjectivesForSystems", request_body = BulkStatusRequest,
    responses((status = 200, body = BulkStatusResponse), (status = 400, body = ErrorBody)))]
pub async fn bulk_status(
    State(objectives): State<Objectives>,
    ApiJson(input): ApiJson<BulkStatusRequest>,
) -> ApiResult<EncodedJson> {
    let found = objectives.bulk_status(input.system_ids).await?;
    // `{"systems":{"<id>":[...],...}}`, each array the cache entry's own bytes.
    let mut answer = EncodedJson::default();
    answer.push_text("{\"systems\":{");
    for (i, (id, of_system)) in found.systems.iter().enumerate() {
        let key = serde_json::to_string(id).map_err(crate::error::ServiceError::internal)?;
        answer.push_text(format!("{}{key}:", if i == 0 { "" } else { "," }));
        answer.push(json_bytes(of_system));
    }
    answer.push_text("}}");
    Ok(answer)
}

#[utoipa::path(get, path = "/api/v1/objectives/{id}/downtime", tag = "objectives", operation_id = "getObjectiveDowntime", params(("id" = ObjectiveId, Path), LimitQuery),
    responses((status = 200, body = DowntimeList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn downtime(
    State(objectives): State<Objectives>,
    Id(id): Id<ObjectiveId>,
    ApiQuery(query): ApiQuery<LimitQuery>,
) -> ApiResult<Json<DowntimeList>> {
    let limit = query.limit()?;
    Ok(Json(objectives.downtime(&id, limit).await?))
}

/// `points`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Points from the window's start to now, 2..=1000 (default 60).
    #[param(minimum = 2, maximum = 1000)]
    points: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/objectives/{id}/budget-history", tag = "objectives", operation_id = "getObjectiveBudgetHistory", params(("id" = ObjectiveId, Path), HistoryQuery),
    responses((status = 200, body = BudgetHistory, description = "The error budget's burn-down over the window, from the health timeline"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn budget_history(
    State(objectives): State<Objectives>,
    Id(id): Id<ObjectiveId>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> ApiResult<Json<Arc<BudgetHistory>>> {
    Ok(Json(objectives.budget_history(&id, query.points).await?))
}

/// `minRemainingPercent`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct GateQuery {
    /// The least error budget left, percent (0..=100, default 0): below it the gate closes.
    #[param(minimum = 0, maximum = 100)]
    min_remaining_percent: Option<f64>,
}

/// `200` when the gate is open, `409` when it is closed; the same body either way.
fn gate_answer(gate: super::gate::Gate) -> (StatusCode, Json<super::gate::Gate>) {
    let status = if gate.allowed {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    (status, Json(gate))
}

#[utoipa::path(get, path = "/api/v1/objectives/{id}/gate", tag = "objectives", operation_id = "getObjectiveGate", params(("id" = ObjectiveId, Path), GateQuery),
    responses((status = 200, description = "the gate is open", body = super::gate::Gate), (status = 409, description = "the gate is closed: breaching, budget below the threshold, or a page-level burn alert", body = super::gate::Gate),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn gate(
    State(objectives): State<Objectives>,
    Id(id): Id<ObjectiveId>,
    ApiQuery(query): ApiQuery<GateQuery>,
) -> ApiResult<(StatusCode, Json<super::gate::Gate>)> {
    Ok(gate_answer(
        objectives.gate(&id, query.min_remaining_percent).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/systems/{id}/gate", tag = "objectives", operation_id = "getSystemGate", params(("id" = SystemId, Path), GateQuery),
    responses((status = 200, description = "the gate is open", body = super::gate::Gate), (status = 409, description = "the gate is closed for one of the system's objectives", body = super::gate::Gate),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn system_gate(
    State(objectives): State<Objectives>,
    Id(system): Id<SystemId>,
    ApiQuery(query): ApiQuery<GateQuery>,
) -> ApiResult<(StatusCode, Json<super::gate::Gate>)> {
    Ok(gate_answer(
        objectives
            .system_gate(&system, query.min_remaining_percent)
            .await?,
    ))
}

#[utoipa::path(get, path = "/metrics/slo", tag = "objectives", operation_id = "getSloMetrics",
    responses((status = 200, description = "Every objective as Sloth-named Prometheus gauges (text format 0.0.4)", content_type = "text/plain")))]
pub async fn slo_metrics(
    State(objectives): State<Objectives>,
) -> ApiResult<([(axum::http::header::HeaderName, &'static str); 1], String)> {
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        objectives.slo_metrics().await?,
    ))
}
