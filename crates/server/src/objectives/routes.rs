//! `/api/v1/objectives...`, `/api/v1/systems/{id}/objectives`: extract, one service call,
//! respond.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use slod_engine::Objective;

use super::{BulkStatusResponse, CreateObjective, DowntimeList, Objectives, UpdateObjective};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiQuery, Id};
use crate::http::params::{LimitQuery, ListQuery};
use crate::ids::{ObjectiveId, SystemId};
use crate::views::{ObjectiveList, ObjectiveStatus, SystemObjectives};

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
) -> ApiResult<Json<ObjectiveStatus>> {
    Ok(Json(objectives.get(&id).await?))
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
) -> ApiResult<Json<BulkStatusResponse>> {
    Ok(Json(objectives.bulk_status(input.system_ids).await?))
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
