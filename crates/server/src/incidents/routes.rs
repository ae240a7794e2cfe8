//! `/api/v1/incidents...`, `/api/v1/systems/{id}/incidents`: extract, one service call,
//! respond.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use slod_store::{Incident, IncidentFilter, IncidentStatus};

use super::{CreateIncident, Incidents};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiQuery, Id};
use crate::ids::{IncidentId, SystemId};
use crate::paging::Paging;
use crate::views::{IncidentList, SystemIncidents};

/// `systemId`, `status` (`open` | `resolved`), `limit`, `cursor`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct IncidentQuery {
    /// Only the incidents naming this system.
    system_id: Option<SystemId>,
    status: Option<IncidentStatus>,
    /// Items per page, 1..=1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
    /// `nextCursor` of the previous page; empty or absent for the first page.
    #[param(pattern = "^([0-9a-f]{2})*$")]
    cursor: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", operation_id = "createIncident", request_body = CreateIncident,
    responses((status = 201, body = Incident), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(incidents): State<Incidents>,
    ApiJson(input): ApiJson<CreateIncident>,
) -> ApiResult<(StatusCode, Json<Incident>)> {
    Ok((StatusCode::CREATED, Json(incidents.open(input).await?)))
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/resolve", tag = "incidents", operation_id = "resolveIncident", params(("id" = IncidentId, Path)),
    responses((status = 200, body = Incident), (status = 404, body = ErrorBody)))]
pub async fn resolve(
    State(incidents): State<Incidents>,
    Id(id): Id<IncidentId>,
) -> ApiResult<Json<Incident>> {
    Ok(Json(incidents.resolve(&id).await?))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents", operation_id = "getIncident", params(("id" = IncidentId, Path)),
    responses((status = 200, body = Incident), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(incidents): State<Incidents>,
    Id(id): Id<IncidentId>,
) -> ApiResult<Json<Incident>> {
    Ok(Json(incidents.get(&id).await?))
}

#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", operation_id = "listIncidents", params(IncidentQuery),
    responses((status = 200, body = IncidentList), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(incidents): State<Incidents>,
    ApiQuery(query): ApiQuery<IncidentQuery>,
) -> ApiResult<Json<IncidentList>> {
    let paging = Paging::parse(query.limit, query.cursor.as_deref())?;
    let filter = IncidentFilter {
        system_id: query.system_id.map(String::from),
        status: query.status,
    };
    Ok(Json(incidents.list(filter, paging).await?))
}

#[utoipa::path(get, path = "/api/v1/systems/{id}/incidents", tag = "incidents", operation_id = "getIncidentsForSystem", params(("id" = SystemId, Path)),
    responses((status = 200, body = SystemIncidents), (status = 404, body = ErrorBody)))]
pub async fn for_system(
    State(incidents): State<Incidents>,
    Id(system): Id<SystemId>,
) -> ApiResult<Json<SystemIncidents>> {
    Ok(Json(incidents.for_system(&system).await?))
}
