//! `/api/v1/maintenances...`, `/api/v1/systems/{id}/maintenances`: extract, one service
//! call, respond.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use jiff::Timestamp;
use serde::Deserialize;
use slod_store::{Maintenance, MaintenanceFilter};

use super::{CreateMaintenance, MaintenanceWindows, SystemMaintenances};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiQuery, Id};
use crate::ids::{MaintenanceId, SystemId};
use crate::paging::Paging;
use crate::views::MaintenanceList;

/// `systemId`, `from`, `to` (windows overlapping `[from, to)`), `limit`, `cursor`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct MaintenanceQuery {
    /// Only the windows naming this system.
    system_id: Option<SystemId>,
    #[param(value_type = Option<String>, format = DateTime)]
    #[serde(default, deserialize_with = "crate::validation::optional_rfc3339")]
    from: Option<Timestamp>,
    #[param(value_type = Option<String>, format = DateTime)]
    #[serde(default, deserialize_with = "crate::validation::optional_rfc3339")]
    to: Option<Timestamp>,
    /// Items per page, 1..=1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
    /// `nextCursor` of the previous page; empty or absent for the first page.
    #[param(pattern = "^([0-9a-f]{2})*$")]
    cursor: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/maintenances", tag = "maintenance", operation_id = "createMaintenance", request_body = CreateMaintenance,
    responses((status = 201, body = Maintenance), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(windows): State<MaintenanceWindows>,
    ApiJson(input): ApiJson<CreateMaintenance>,
) -> ApiResult<(StatusCode, Json<Maintenance>)> {
    Ok((StatusCode::CREATED, Json(windows.create(input).await?)))
}

#[utoipa::path(post, path = "/api/v1/maintenances/{id}/cancel", tag = "maintenance", operation_id = "cancelMaintenance", params(("id" = MaintenanceId, Path)),
    responses((status = 200, body = Maintenance), (status = 404, body = ErrorBody)))]
pub async fn cancel(
    State(windows): State<MaintenanceWindows>,
    Id(id): Id<MaintenanceId>,
) -> ApiResult<Json<Maintenance>> {
    Ok(Json(windows.cancel(&id).await?))
}

#[utoipa::path(get, path = "/api/v1/maintenances/{id}", tag = "maintenance", operation_id = "getMaintenance", params(("id" = MaintenanceId, Path)),
    responses((status = 200, body = Maintenance), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(windows): State<MaintenanceWindows>,
    Id(id): Id<MaintenanceId>,
) -> ApiResult<Json<Maintenance>> {
    Ok(Json(windows.get(&id).await?))
}

#[utoipa::path(get, path = "/api/v1/maintenances", tag = "maintenance", operation_id = "listMaintenances", params(MaintenanceQuery),
    responses((status = 200, body = MaintenanceList), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(windows): State<MaintenanceWindows>,
    ApiQuery(query): ApiQuery<MaintenanceQuery>,
) -> ApiResult<Json<MaintenanceList>> {
    let paging = Paging::parse(query.limit, query.cursor.as_deref())?;
    let filter = MaintenanceFilter {
        system_id: query.system_id.map(String::from),
        from: query.from,
        to: query.to,
    };
    Ok(Json(windows.list(filter, paging).await?))
}

#[utoipa::path(get, path = "/api/v1/systems/{id}/maintenances", tag = "maintenance", operation_id = "getMaintenancesForSystem", params(("id" = SystemId, Path)),
    responses((status = 200, body = SystemMaintenances), (status = 404, body = ErrorBody)))]
pub async fn for_system(
    State(windows): State<MaintenanceWindows>,
    Id(system): Id<SystemId>,
) -> ApiResult<Json<SystemMaintenances>> {
    Ok(Json(windows.for_system(&system).await?))
}
