//! `/api/v1/alerts...`, `/api/v1/silences...`: extract, one service call, respond.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use slod_store::{Alert, AlertFilter, AlertKind, AlertState, Silence};

use super::{AlertList, Alerts, CreateSilence, SilenceList};
use crate::http::auth::Caller;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiQuery, Id};
use crate::ids::{AlertId, ObjectiveId, SilenceId, SystemId};
use crate::paging::Paging;

/// `state`, `systemId`, `objectiveId`, `kind`, `limit`, `cursor`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct AlertQuery {
    state: Option<AlertState>,
    /// Only the alerts about this system.
    system_id: Option<SystemId>,
    /// Only the alerts of this objective.
    objective_id: Option<ObjectiveId>,
    kind: Option<AlertKind>,
    /// Items per page, 1..=1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
    /// `nextCursor` of the previous page; empty or absent for the first page.
    #[param(pattern = "^([0-9a-f]{2})*$")]
    cursor: Option<String>,
}

/// `limit`, `cursor`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct PageQuery {
    /// Items per page, 1..=1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
    /// `nextCursor` of the previous page; empty or absent for the first page.
    #[param(pattern = "^([0-9a-f]{2})*$")]
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", operation_id = "listAlerts", params(AlertQuery),
    responses((status = 200, body = AlertList), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(alerts): State<Alerts>,
    ApiQuery(query): ApiQuery<AlertQuery>,
) -> ApiResult<Json<AlertList>> {
    let paging = Paging::parse(query.limit, query.cursor.as_deref())?;
    let filter = AlertFilter {
        state: query.state,
        system_id: query.system_id.map(String::from),
        objective_id: query.objective_id.map(String::from),
        kind: query.kind,
    };
    Ok(Json(alerts.list(filter, paging).await?))
}

#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts", operation_id = "getAlert", params(("id" = AlertId, Path)),
    responses((status = 200, body = Alert), (status = 404, body = ErrorBody)))]
pub async fn get(State(alerts): State<Alerts>, Id(id): Id<AlertId>) -> ApiResult<Json<Alert>> {
    Ok(Json(alerts.get(&id).await?))
}

#[utoipa::path(post, path = "/api/v1/silences", tag = "alerts", operation_id = "createSilence", request_body = CreateSilence,
    responses((status = 201, body = Silence), (status = 400, body = ErrorBody)))]
pub async fn create_silence(
    State(alerts): State<Alerts>,
    caller: Option<Extension<Caller>>,
    ApiJson(input): ApiJson<CreateSilence>,
) -> ApiResult<(StatusCode, Json<Silence>)> {
    // Writes always carry a token (the manage scope), so the caller is known.
    let created_by = caller.map_or_else(|| "unknown".to_owned(), |Extension(Caller(name))| name);
    Ok((
        StatusCode::CREATED,
        Json(alerts.silence(input, created_by).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/silences", tag = "alerts", operation_id = "listSilences", params(PageQuery),
    responses((status = 200, body = SilenceList), (status = 400, body = ErrorBody)))]
pub async fn list_silences(
    State(alerts): State<Alerts>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<SilenceList>> {
    let paging = Paging::parse(query.limit, query.cursor.as_deref())?;
    Ok(Json(alerts.silences(paging).await?))
}

#[utoipa::path(get, path = "/api/v1/silences/{id}", tag = "alerts", operation_id = "getSilence", params(("id" = SilenceId, Path)),
    responses((status = 200, body = Silence), (status = 404, body = ErrorBody)))]
pub async fn get_silence(
    State(alerts): State<Alerts>,
    Id(id): Id<SilenceId>,
) -> ApiResult<Json<Silence>> {
    Ok(Json(alerts.get_silence(&id).await?))
}

#[utoipa::path(delete, path = "/api/v1/silences/{id}", tag = "alerts", operation_id = "endSilence", params(("id" = SilenceId, Path)),
    responses((status = 200, body = Silence), (status = 404, body = ErrorBody)))]
pub async fn end_silence(
    State(alerts): State<Alerts>,
    Id(id): Id<SilenceId>,
) -> ApiResult<Json<Silence>> {
    Ok(Json(alerts.end_silence(&id).await?))
}
