//! `/api/v1/systems/{id}/checks`, `/api/v1/checks/...`: extract, one service call, respond.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use slod_store::{Check, CheckResult};

use super::{Checks, CreateCheck, ResultsBody, UpdateCheck};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiQuery, Id};
use crate::ids::{CheckId, SystemId};

/// How many results were recorded.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Accepted {
    accepted: usize,
}

/// `from`, `to` (RFC 3339) and `limit` (1..=1000, default 100).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResultsQuery {
    #[param(value_type = Option<String>, format = DateTime)]
    #[serde(default, deserialize_with = "crate::validation::optional_rfc3339")]
    from: Option<Timestamp>,
    #[param(value_type = Option<String>, format = DateTime)]
    #[serde(default, deserialize_with = "crate::validation::optional_rfc3339")]
    to: Option<Timestamp>,
    /// Results, 1..=1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
}

/// A check's results, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ResultList {
    results: Vec<CheckResult>,
}

#[utoipa::path(operation_id = "createCheck", post, path = "/api/v1/systems/{id}/checks", tag = "checks", params(("id" = SystemId, Path)), request_body = CreateCheck,
    responses((status = 201, body = Check), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create(
    State(checks): State<Checks>,
    Id(system): Id<SystemId>,
    ApiJson(input): ApiJson<CreateCheck>,
) -> ApiResult<(StatusCode, Json<Check>)> {
    Ok((
        StatusCode::CREATED,
        Json(checks.create(&system, input).await?),
    ))
}

#[utoipa::path(operation_id = "listChecks", get, path = "/api/v1/systems/{id}/checks", tag = "checks", params(("id" = SystemId, Path)),
    responses((status = 200, body = Vec<Check>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(checks): State<Checks>,
    Id(system): Id<SystemId>,
) -> ApiResult<Json<Vec<Check>>> {
    Ok(Json(checks.list(&system).await?))
}

#[utoipa::path(operation_id = "updateCheck", patch, path = "/api/v1/checks/{checkId}", tag = "checks", params(("checkId" = CheckId, Path)), request_body = UpdateCheck,
    responses((status = 200, body = Check), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(checks): State<Checks>,
    Id(id): Id<CheckId>,
    ApiJson(input): ApiJson<UpdateCheck>,
) -> ApiResult<Json<Check>> {
    Ok(Json(checks.update(&id, input).await?))
}

#[utoipa::path(operation_id = "deleteCheck", delete, path = "/api/v1/checks/{checkId}", tag = "checks", params(("checkId" = CheckId, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(State(checks): State<Checks>, Id(id): Id<CheckId>) -> ApiResult<StatusCode> {
    checks.delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(operation_id = "postResults", post, path = "/api/v1/checks/{checkId}/results", tag = "checks", params(("checkId" = CheckId, Path)),
    request_body(content = ResultsBody, description = "One result, or `{\"results\": [...]}` with up to 1000, oldest first"),
    responses((status = 202, body = Accepted), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn post_results(
    State(checks): State<Checks>,
    Id(id): Id<CheckId>,
    ApiJson(body): ApiJson<ResultsBody>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    let ingested = checks.post_results(&id, body).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            accepted: ingested.accepted,
        }),
    ))
}

#[utoipa::path(operation_id = "listResults", get, path = "/api/v1/checks/{checkId}/results", tag = "checks", params(("checkId" = CheckId, Path), ResultsQuery),
    responses((status = 200, body = ResultList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_results(
    State(checks): State<Checks>,
    Id(id): Id<CheckId>,
    ApiQuery(query): ApiQuery<ResultsQuery>,
) -> ApiResult<Json<ResultList>> {
    let results = checks
        .results(&id, query.from, query.to, query.limit)
        .await?;
    Ok(Json(ResultList { results }))
}
