//! Health checks and their results: routes and input rules.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use slod_engine::CheckStatus;
use slod_store::{Check, CheckKind, CheckPatch, CheckResult, Ingested, NewCheck, NewResult};

use crate::app::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{nullable, ApiJson, ApiQuery};
use crate::validate::Problems;

const MAX_NAME: usize = 200;
const MAX_TARGET: usize = 2048;
const MAX_MESSAGE: usize = 1000;
/// Most results one request may carry.
pub const MAX_BATCH: usize = 1000;

/// A check to add to a system.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateCheck {
    name: String,
    kind: CheckKind,
    /// A URL for `http`, `host:port` for `tcp`; absent for `push`.
    target: Option<String>,
    /// 5..=86400, default 60.
    interval_seconds: Option<u64>,
    /// 100..=60000, default 5000.
    timeout_ms: Option<u64>,
    /// Accepted HTTP statuses `[min, max]`, default `[200, 299]`.
    expect_status: Option<[u16; 2]>,
    enabled: Option<bool>,
}

/// Changes to a check; omitted fields keep their values. The kind cannot change.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateCheck {
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    target: Option<Option<String>>,
    interval_seconds: Option<u64>,
    timeout_ms: Option<u64>,
    expect_status: Option<[u16; 2]>,
    enabled: Option<bool>,
}

/// One result of a check run.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResultInput {
    status: CheckStatus,
    /// When the check ran (default: now). May lie in the past; per check, in time order.
    #[schema(value_type = Option<String>, format = DateTime)]
    at: Option<Timestamp>,
    latency_ms: Option<f64>,
    message: Option<String>,
}

/// Several results, oldest first.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultBatch {
    results: Vec<ResultInput>,
}

/// How many results were recorded.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Accepted {
    accepted: usize,
}

/// `from`, `to` (RFC 3339) and `limit` (1..=1000, default 100).
#[derive(Deserialize, utoipa::IntoParams)]
pub struct ResultsQuery {
    #[param(value_type = Option<String>, format = DateTime)]
    from: Option<Timestamp>,
    #[param(value_type = Option<String>, format = DateTime)]
    to: Option<Timestamp>,
    limit: Option<u64>,
}

/// A check's results, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ResultList {
    results: Vec<CheckResult>,
}

fn check_target(problems: &mut Problems, kind: CheckKind, target: Option<&str>) {
    match (kind, target) {
        (CheckKind::Push, None) => {}
        (CheckKind::Push, Some(_)) => problems.add("target", "push checks have no target"),
        (_, None) => problems.add("target", "required for http and tcp checks"),
        (_, Some(t)) if t.len() > MAX_TARGET => {
            problems.add("target", format!("must be at most {MAX_TARGET} characters"))
        }
        (CheckKind::Http, Some(url)) => {
            let host = url
                .strip_prefix("http://")
                .or_else(|| url.strip_prefix("https://"));
            if host.is_none_or(|rest| {
                rest.split(['/', '?', '#']).next().unwrap_or("").is_empty()
                    || rest.contains(char::is_whitespace)
            }) {
                problems.add("target", "must be an http:// or https:// URL with a host");
            }
        }
        (CheckKind::Tcp, Some(address)) => {
            let ok = address.rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty()
                    && !host.contains(char::is_whitespace)
                    && port.parse::<u16>().is_ok_and(|p| p > 0)
            });
            if !ok {
                problems.add("target", "must be host:port");
            }
        }
    }
}

fn check_settings(
    problems: &mut Problems,
    interval: Option<u64>,
    timeout: Option<u64>,
    expect: Option<[u16; 2]>,
) {
    problems.range("intervalSeconds", interval, 5, 86_400);
    problems.range("timeoutMs", timeout, 100, 60_000);
    if expect.is_some_and(|[min, max]| {
        !(100..=599).contains(&min) || !(100..=599).contains(&max) || min > max
    }) {
        problems.add(
            "expectStatus",
            "must be [min, max] with 100 <= min <= max <= 599",
        );
    }
}

#[utoipa::path(operation_id = "createCheck", post, path = "/api/v1/systems/{id}/checks", tag = "checks", params(("id" = String, Path)), request_body = CreateCheck,
    responses((status = 201, body = Check), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Path(system_id): Path<String>,
    ApiJson(input): ApiJson<CreateCheck>,
) -> ApiResult<(StatusCode, Json<Check>)> {
    let mut problems = Problems::default();
    problems.text("name", &input.name, MAX_NAME);
    check_target(&mut problems, input.kind, input.target.as_deref());
    check_settings(
        &mut problems,
        input.interval_seconds,
        input.timeout_ms,
        input.expect_status,
    );
    problems.into_result()?;
    let new = NewCheck {
        name: input.name.trim().to_owned(),
        kind: input.kind,
        target: input.target,
        interval_seconds: input.interval_seconds.unwrap_or(60) as u32,
        timeout_ms: input.timeout_ms.unwrap_or(5000) as u32,
        expect_status: input.expect_status.unwrap_or([200, 299]),
        enabled: input.enabled.unwrap_or(true),
    };
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .store
                .create_check(&system_id, new, Timestamp::now())
                .await?,
        ),
    ))
}

#[utoipa::path(operation_id = "listChecks", get, path = "/api/v1/systems/{id}/checks", tag = "checks", params(("id" = String, Path)),
    responses((status = 200, body = Vec<Check>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Path(system_id): Path<String>,
) -> ApiResult<Json<Vec<Check>>> {
    Ok(Json(state.store.list_checks(&system_id).await?))
}

#[utoipa::path(operation_id = "updateCheck", patch, path = "/api/v1/checks/{checkId}", tag = "checks", params(("checkId" = String, Path)), request_body = UpdateCheck,
    responses((status = 200, body = Check), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Path(check_id): Path<String>,
    ApiJson(input): ApiJson<UpdateCheck>,
) -> ApiResult<Json<Check>> {
    let current = state
        .store
        .get_check(&check_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("check {check_id:?} not found")))?;
    let mut problems = Problems::default();
    if let Some(name) = &input.name {
        problems.text("name", name, MAX_NAME);
    }
    if let Some(target) = &input.target {
        check_target(&mut problems, current.kind, target.as_deref());
    }
    check_settings(
        &mut problems,
        input.interval_seconds,
        input.timeout_ms,
        input.expect_status,
    );
    problems.into_result()?;
    let patch = CheckPatch {
        name: input.name.map(|n| n.trim().to_owned()),
        target: input.target,
        interval_seconds: input.interval_seconds.map(|v| v as u32),
        timeout_ms: input.timeout_ms.map(|v| v as u32),
        expect_status: input.expect_status,
        enabled: input.enabled,
    };
    let before = state
        .store
        .system_health(&current.system_id)
        .await?
        .map(|h| h.status);
    let (check, changed) = state
        .store
        .update_check(&check_id, patch, Timestamp::now())
        .await?;
    if changed {
        let after = state
            .store
            .system_health(&current.system_id)
            .await?
            .map(|h| h.status);
        crate::objectives::announce_timeline_change(
            &state,
            &current.system_id,
            after.filter(|a| Some(*a) != before),
        )
        .await?;
    } else {
        state.views.after_health_change(&current.system_id).await;
    }
    Ok(Json(check))
}

#[utoipa::path(operation_id = "deleteCheck", delete, path = "/api/v1/checks/{checkId}", tag = "checks", params(("checkId" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(check_id): Path<String>,
) -> ApiResult<StatusCode> {
    let Some(check) = state.store.get_check(&check_id).await? else {
        return Err(ApiError::not_found(format!("check {check_id:?} not found")));
    };
    // Objectives scoped to this check go with it.
    let scoped: Vec<String> = state
        .store
        .objectives_for_systems(std::slice::from_ref(&check.system_id))
        .await?
        .into_iter()
        .filter(|o| o.health_check_id.as_deref() == Some(check_id.as_str()))
        .map(|o| o.id)
        .collect();
    let before = state
        .store
        .system_health(&check.system_id)
        .await?
        .map(|h| h.status);
    let Some((system, _)) = state
        .store
        .delete_check(&check_id, Timestamp::now())
        .await?
    else {
        return Err(ApiError::not_found(format!("check {check_id:?} not found")));
    };
    for id in &scoped {
        state.views.forget_owner(id).await;
    }
    let after = state.store.system_health(&system).await?.map(|h| h.status);
    crate::objectives::announce_timeline_change(
        &state,
        &system,
        after.filter(|a| Some(*a) != before),
    )
    .await?;
    for id in scoped {
        state.signals.emit(
            "slo.objective.deleted",
            &system,
            serde_json::json!({"systemId": system, "objectiveId": id}),
        );
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Records results of a check and runs the announce step for what they changed. Shared by
/// pushed results and slod's own probes.
pub async fn ingest(
    state: &AppState,
    check_id: &str,
    results: &[NewResult],
) -> ApiResult<Ingested> {
    let ingested = state
        .store
        .record_results(check_id, results, Timestamp::now())
        .await?;
    let health_changed =
        (ingested.health_after != ingested.health_before).then_some(ingested.health_after);
    if ingested.timeline_changed || health_changed.is_some() {
        crate::objectives::announce_timeline_change(state, &ingested.system_id, health_changed)
            .await?;
    } else {
        // The health view shows each check's latest result.
        state.views.after_health_change(&ingested.system_id).await;
    }
    Ok(ingested)
}

fn to_new_result(problems: &mut Problems, prefix: &str, input: ResultInput) -> NewResult {
    if input.latency_ms.is_some_and(|l| !l.is_finite() || l < 0.0) {
        problems.add(&format!("{prefix}latencyMs"), "must be a number >= 0");
    }
    problems.optional_text(
        &format!("{prefix}message"),
        input.message.as_deref(),
        MAX_MESSAGE,
    );
    NewResult {
        status: input.status,
        at: input.at,
        latency_ms: input.latency_ms,
        message: input.message,
    }
}

#[utoipa::path(operation_id = "postResults", post, path = "/api/v1/checks/{checkId}/results", tag = "checks", params(("checkId" = String, Path)),
    request_body(content = ResultBatch, description = "One result (`ResultInput`) or `{\"results\": [...]}` with up to 1000, oldest first"),
    responses((status = 202, body = Accepted), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn post_results(
    State(state): State<AppState>,
    Path(check_id): Path<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    let parse = |e: serde_json::Error| ApiError::invalid(format!("invalid JSON body: {e}"));
    let mut problems = Problems::default();
    let results: Vec<NewResult> = if body.get("results").is_some() {
        let batch: ResultBatch = serde_json::from_value(body).map_err(parse)?;
        if batch.results.is_empty() || batch.results.len() > MAX_BATCH {
            problems.add("results", format!("must hold 1 to {MAX_BATCH} results"));
        }
        batch
            .results
            .into_iter()
            .enumerate()
            .map(|(i, r)| to_new_result(&mut problems, &format!("results[{i}]."), r))
            .collect()
    } else {
        let single: ResultInput = serde_json::from_value(body).map_err(parse)?;
        vec![to_new_result(&mut problems, "", single)]
    };
    problems.into_result()?;
    let ingested = ingest(&state, &check_id, &results).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            accepted: ingested.accepted,
        }),
    ))
}

#[utoipa::path(operation_id = "listResults", get, path = "/api/v1/checks/{checkId}/results", tag = "checks", params(("checkId" = String, Path), ResultsQuery),
    responses((status = 200, body = ResultList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_results(
    State(state): State<AppState>,
    Path(check_id): Path<String>,
    ApiQuery(query): ApiQuery<ResultsQuery>,
) -> ApiResult<Json<ResultList>> {
    let mut problems = Problems::default();
    problems.range("limit", query.limit, 1, slod_store::MAX_PAGE as u64);
    if let (Some(from), Some(to)) = (query.from, query.to) {
        if from > to {
            problems.add("from", "must not be after to");
        }
    }
    problems.into_result()?;
    let results = state
        .store
        .list_results(
            &check_id,
            query.from,
            query.to,
            query.limit.unwrap_or(100) as usize,
        )
        .await?;
    Ok(Json(ResultList { results }))
}
