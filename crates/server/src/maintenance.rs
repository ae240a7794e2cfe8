//! Maintenance windows: routes, input rules, cached reads, and the announce step.
//!
//! A window's status is derived from time when served (a cached copy is re-stamped), and an
//! objective that excludes maintenance reads the windows on every status computation, so a
//! window recorded after the outage it covers corrects the budget at once.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;
use slod_engine::MaintenanceStatus;
use slod_store::{Maintenance, MaintenanceFilter, NewMaintenance};

use crate::app::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::validate::{self, Problems};

const MAX_TITLE: usize = 200;
/// Most systems one window or incident names.
pub const MAX_SYSTEMS: usize = 100;
/// Longest window accepted: a year.
const MAX_LENGTH: SignedDuration = SignedDuration::from_hours(366 * 24);

/// A maintenance window to record; it may lie in the past.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateMaintenance {
    system_ids: Vec<String>,
    title: String,
    #[schema(value_type = String, format = DateTime)]
    start_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    end_at: Timestamp,
}

/// `systemId`, `from`, `to` (windows overlapping `[from, to)`), `limit`, `cursor`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct MaintenanceQuery {
    system_id: Option<String>,
    #[param(value_type = Option<String>, format = DateTime)]
    from: Option<Timestamp>,
    #[param(value_type = Option<String>, format = DateTime)]
    to: Option<Timestamp>,
    limit: Option<u64>,
    cursor: Option<String>,
}

/// A page of maintenance windows, latest start first.
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MaintenanceList {
    maintenances: Vec<Maintenance>,
    next_cursor: Option<String>,
}

/// Checks the systems an incident or a window names.
pub fn check_system_ids(problems: &mut Problems, ids: &[String]) {
    if ids.is_empty() {
        problems.add("systemIds", "must name at least one system");
    } else if ids.len() > MAX_SYSTEMS {
        problems.add("systemIds", format!("at most {MAX_SYSTEMS} systems"));
    }
    if let Some(bad) = ids.iter().find(|id| !validate::system_id(id)) {
        problems.add("systemIds", format!("{bad:?} is not a system id"));
    }
}

fn restamp(list: MaintenanceList, now: Timestamp) -> MaintenanceList {
    MaintenanceList {
        maintenances: list.maintenances.into_iter().map(|m| m.at(now)).collect(),
        next_cursor: list.next_cursor,
    }
}

/// The announce step after a window changed: its cached reads, then the objectives of its
/// systems (their budgets may change), then the signals.
async fn announce(state: &AppState, m: &Maintenance) -> ApiResult<()> {
    state.maintenance.after_change(&m.id, &m.system_ids).await;
    state.views.after_maintenance_change(&m.system_ids).await;
    for system in &m.system_ids {
        state.signals.emit(
            "maintenance.changed",
            system,
            json!({"maintenanceId": m.id, "systemId": system, "status": m.status}),
        );
    }
    crate::objectives::announce_statuses(state, &m.system_ids).await
}

#[utoipa::path(post, path = "/api/v1/maintenances", tag = "maintenance", operation_id = "createMaintenance", request_body = CreateMaintenance,
    responses((status = 201, body = Maintenance), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<CreateMaintenance>,
) -> ApiResult<(StatusCode, Json<Maintenance>)> {
    let mut problems = Problems::default();
    check_system_ids(&mut problems, &input.system_ids);
    problems.text("title", &input.title, MAX_TITLE);
    if input.end_at <= input.start_at {
        problems.add("endAt", "must be after startAt");
    } else if input.end_at.duration_since(input.start_at) > MAX_LENGTH {
        problems.add("endAt", "a window lasts at most 366 days");
    }
    problems.into_result()?;
    let new = NewMaintenance {
        title: input.title.trim().to_owned(),
        system_ids: input.system_ids,
        start_at: input.start_at,
        end_at: input.end_at,
    };
    let stored = state
        .store
        .create_maintenance(&new, Timestamp::now())
        .await?;
    announce(&state, &stored).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

#[utoipa::path(post, path = "/api/v1/maintenances/{id}/cancel", tag = "maintenance", operation_id = "cancelMaintenance", params(("id" = String, Path)),
    responses((status = 200, body = Maintenance), (status = 404, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Maintenance>> {
    let now = Timestamp::now();
    let stored = state
        .store
        .cancel_maintenance(&id, now)
        .await?
        .ok_or_else(|| not_found(&id))?;
    announce(&state, &stored).await?;
    Ok(Json(stored.at(now)))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("maintenance {id:?} not found"))
}

#[utoipa::path(get, path = "/api/v1/maintenances/{id}", tag = "maintenance", operation_id = "getMaintenance", params(("id" = String, Path)),
    responses((status = 200, body = Maintenance), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Maintenance>> {
    let store = state.store.clone();
    let owned = id.clone();
    let found: Option<Maintenance> = state
        .maintenance
        .entity(&id, move || async move {
            Ok::<_, ApiError>(store.get_maintenance(&owned).await?)
        })
        .await?;
    found
        .map(|m| Json(m.at(Timestamp::now())))
        .ok_or_else(|| not_found(&id))
}

#[utoipa::path(get, path = "/api/v1/maintenances", tag = "maintenance", operation_id = "listMaintenances", params(MaintenanceQuery),
    responses((status = 200, body = MaintenanceList), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<MaintenanceQuery>,
) -> ApiResult<Json<MaintenanceList>> {
    let mut problems = Problems::default();
    problems.range("limit", query.limit, 1, slod_store::MAX_PAGE as u64);
    if let (Some(from), Some(to)) = (query.from, query.to) {
        if from > to {
            problems.add("from", "must not be after to");
        }
    }
    problems.into_result()?;
    let cursor = validate::cursor(query.cursor.as_deref())?;
    let limit = query.limit.unwrap_or(100) as usize;
    let filter = MaintenanceFilter {
        system_id: query.system_id,
        from: query.from,
        to: query.to,
    };
    let store = state.store.clone();
    let list = state
        .maintenance
        .page(
            filter,
            limit,
            cursor,
            move |filter, limit, cursor| async move {
                let page = store
                    .list_maintenances(&filter, limit, cursor.as_deref())
                    .await?;
                Ok::<_, ApiError>(MaintenanceList {
                    maintenances: page.items,
                    next_cursor: validate::make_cursor(page.next_cursor),
                })
            },
        )
        .await?;
    Ok(Json(restamp(list, Timestamp::now())))
}

/// A system's windows that are scheduled or in progress, soonest first.
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SystemMaintenances {
    maintenances: Vec<Maintenance>,
}

#[utoipa::path(get, path = "/api/v1/systems/{id}/maintenances", tag = "maintenance", operation_id = "getMaintenancesForSystem", params(("id" = String, Path)),
    responses((status = 200, body = SystemMaintenances), (status = 404, body = ErrorBody)))]
pub async fn for_system(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SystemMaintenances>> {
    if !validate::system_id(&id) || state.views.system(&id).await?.is_none() {
        return Err(ApiError::not_found(format!("system {id:?} not found")));
    }
    let store = state.store.clone();
    let system = id.clone();
    let upcoming: Vec<Maintenance> = state
        .maintenance
        .for_system(&id, move || async move {
            let filter = MaintenanceFilter {
                system_id: Some(system),
                from: Some(Timestamp::now()),
                to: None,
            };
            let page = store
                .list_maintenances(&filter, slod_store::MAX_PAGE, None)
                .await?;
            Ok::<_, ApiError>(page.items)
        })
        .await?;
    // Re-stamped and re-filtered at serve time: a cached copy may be up to one TTL old.
    let now = Timestamp::now();
    let mut maintenances: Vec<Maintenance> = upcoming
        .into_iter()
        .map(|m| m.at(now))
        .filter(|m| {
            matches!(
                m.status,
                MaintenanceStatus::Scheduled | MaintenanceStatus::InProgress
            )
        })
        .collect();
    maintenances.sort_by(|a, b| a.start_at.cmp(&b.start_at).then(a.id.cmp(&b.id)));
    Ok(Json(SystemMaintenances { maintenances }))
}
