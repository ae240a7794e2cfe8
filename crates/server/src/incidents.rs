//! Incidents: routes, input rules, cached reads, and the announce step.
//!
//! An incident with `healthOverride` holds its systems unhealthy while open; opening and
//! resolving one moves their timelines (in the store, under each system's lock), so the
//! announce step is the timeline one: invalidate each system and everything downstream, then
//! signal.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use slod_store::{HealthMove, Incident, IncidentFilter, IncidentStatus, NewIncident};

use crate::app::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::maintenance::check_system_ids;
use crate::validate::{self, Problems};

const MAX_TITLE: usize = 200;

/// An incident to open.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateIncident {
    system_ids: Vec<String>,
    title: String,
    /// Hold the systems unhealthy while the incident is open (default false).
    #[serde(default)]
    health_override: bool,
}

/// `systemId`, `status` (`open` | `resolved`), `limit`, `cursor`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct IncidentQuery {
    system_id: Option<String>,
    status: Option<IncidentStatus>,
    limit: Option<u64>,
    cursor: Option<String>,
}

/// A page of incidents, latest opened first.
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IncidentList {
    incidents: Vec<Incident>,
    next_cursor: Option<String>,
}

/// A system's open incidents.
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SystemIncidents {
    incidents: Vec<Incident>,
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("incident {id:?} not found"))
}

/// The announce step after an incident opened or was resolved: its cached reads, then the
/// timeline announce step for every system whose timeline or health moved (each downstream
/// objective signalled once), then `incident.changed`.
async fn announce(state: &AppState, incident: &Incident, moves: &[HealthMove]) -> ApiResult<()> {
    state
        .incidents
        .after_change(&incident.id, &incident.system_ids)
        .await;
    let changes: Vec<_> = moves
        .iter()
        .filter(|m| m.timeline_changed || m.before != m.after)
        .map(|m| {
            (
                m.system_id.clone(),
                (m.before != m.after).then_some(m.after),
            )
        })
        .collect();
    crate::objectives::announce_timeline_changes(state, &changes).await?;
    for system in &incident.system_ids {
        state.signals.emit(
            "incident.changed",
            system,
            json!({"incidentId": incident.id, "systemId": system, "status": incident.status}),
        );
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", operation_id = "createIncident", request_body = CreateIncident,
    responses((status = 201, body = Incident), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<CreateIncident>,
) -> ApiResult<(StatusCode, Json<Incident>)> {
    let mut problems = Problems::default();
    check_system_ids(&mut problems, &input.system_ids);
    problems.text("title", &input.title, MAX_TITLE);
    problems.into_result()?;
    let new = NewIncident {
        title: input.title.trim().to_owned(),
        system_ids: input.system_ids,
        health_override: input.health_override,
    };
    let (incident, moves) = state.store.open_incident(&new, Timestamp::now()).await?;
    announce(&state, &incident, &moves).await?;
    Ok((StatusCode::CREATED, Json(incident)))
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/resolve", tag = "incidents", operation_id = "resolveIncident", params(("id" = String, Path)),
    responses((status = 200, body = Incident), (status = 404, body = ErrorBody)))]
pub async fn resolve(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Incident>> {
    let (incident, moves) = state
        .store
        .resolve_incident(&id, Timestamp::now())
        .await?
        .ok_or_else(|| not_found(&id))?;
    announce(&state, &incident, &moves).await?;
    Ok(Json(incident))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents", operation_id = "getIncident", params(("id" = String, Path)),
    responses((status = 200, body = Incident), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Incident>> {
    let store = state.store.clone();
    let owned = id.clone();
    let found: Option<Incident> = state
        .incidents
        .entity(&id, move || async move {
            Ok::<_, ApiError>(store.get_incident(&owned).await?)
        })
        .await?;
    found.map(Json).ok_or_else(|| not_found(&id))
}

#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", operation_id = "listIncidents", params(IncidentQuery),
    responses((status = 200, body = IncidentList), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<IncidentQuery>,
) -> ApiResult<Json<IncidentList>> {
    let mut problems = Problems::default();
    problems.range("limit", query.limit, 1, slod_store::MAX_PAGE as u64);
    problems.into_result()?;
    let cursor = validate::cursor(query.cursor.as_deref())?;
    let limit = query.limit.unwrap_or(100) as usize;
    let filter = IncidentFilter {
        system_id: query.system_id,
        status: query.status,
    };
    let store = state.store.clone();
    let list = state
        .incidents
        .page(
            filter,
            limit,
            cursor,
            move |filter, limit, cursor| async move {
                let page = store
                    .list_incidents(&filter, limit, cursor.as_deref())
                    .await?;
                Ok::<_, ApiError>(IncidentList {
                    incidents: page.items,
                    next_cursor: validate::make_cursor(page.next_cursor),
                })
            },
        )
        .await?;
    Ok(Json(list))
}

#[utoipa::path(get, path = "/api/v1/systems/{id}/incidents", tag = "incidents", operation_id = "getIncidentsForSystem", params(("id" = String, Path)),
    responses((status = 200, body = SystemIncidents), (status = 404, body = ErrorBody)))]
pub async fn for_system(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SystemIncidents>> {
    if !validate::system_id(&id) || state.views.system(&id).await?.is_none() {
        return Err(ApiError::not_found(format!("system {id:?} not found")));
    }
    let store = state.store.clone();
    let system = id.clone();
    let incidents: Vec<Incident> = state
        .incidents
        .for_system(&id, move || async move {
            let filter = IncidentFilter {
                system_id: Some(system),
                status: Some(IncidentStatus::Open),
            };
            let page = store
                .list_incidents(&filter, slod_store::MAX_PAGE, None)
                .await?;
            Ok::<_, ApiError>(page.items)
        })
        .await?;
    Ok(Json(SystemIncidents { incidents }))
}
