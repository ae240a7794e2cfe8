//! `/api/v1/systems`: extract, one service call, respond.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use slod_store::{System, SystemHealth};

use super::{CreateSystem, SystemList, Systems, UpdateSystem};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiQuery, Id};
use crate::http::params::ListQuery;
use crate::ids::SystemId;

#[utoipa::path(operation_id = "createSystem", post, path = "/api/v1/systems", tag = "systems", request_body = CreateSystem,
    responses((status = 201, body = System), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(systems): State<Systems>,
    ApiJson(input): ApiJson<CreateSystem>,
) -> ApiResult<(StatusCode, Json<System>)> {
    Ok((StatusCode::CREATED, Json(systems.create(input).await?)))
}

#[utoipa::path(operation_id = "listSystems", get, path = "/api/v1/systems", tag = "systems", params(ListQuery),
    responses((status = 200, body = SystemList), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(systems): State<Systems>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<SystemList>> {
    Ok(Json(systems.list(&query.paging()?).await?))
}

#[utoipa::path(operation_id = "getSystem", get, path = "/api/v1/systems/{id}", tag = "systems", params(("id" = SystemId, Path)),
    responses((status = 200, body = System), (status = 404, body = ErrorBody)))]
pub async fn get(State(systems): State<Systems>, Id(id): Id<SystemId>) -> ApiResult<Json<System>> {
    Ok(Json(systems.get(&id).await?))
}

#[utoipa::path(operation_id = "updateSystem", patch, path = "/api/v1/systems/{id}", tag = "systems", params(("id" = SystemId, Path)), request_body = UpdateSystem,
    responses((status = 200, body = System), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(systems): State<Systems>,
    Id(id): Id<SystemId>,
    ApiJson(input): ApiJson<UpdateSystem>,
) -> ApiResult<Json<System>> {
    Ok(Json(systems.update(&id, input).await?))
}

#[utoipa::path(operation_id = "deleteSystem", delete, path = "/api/v1/systems/{id}", tag = "systems", params(("id" = SystemId, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(State(systems): State<Systems>, Id(id): Id<SystemId>) -> ApiResult<StatusCode> {
    systems.delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(operation_id = "getSystemHealth", get, path = "/api/v1/systems/{id}/health", tag = "systems", params(("id" = SystemId, Path)),
    responses((status = 200, body = SystemHealth), (status = 404, body = ErrorBody)))]
pub async fn health(
    State(systems): State<Systems>,
    Id(id): Id<SystemId>,
) -> ApiResult<Json<SystemHealth>> {
    Ok(Json(systems.health(&id).await?))
}
