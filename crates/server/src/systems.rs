//! Systems: routes and their input rules.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use slod_store::{NewSystem, System, SystemHealth, SystemPatch};

use crate::app::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{nullable, ApiJson, ApiQuery};
use crate::validate::{self, Problems};

const MAX_NAME: usize = 200;
const MAX_DESCRIPTION: usize = 2000;
const MAX_DEPENDENCIES: usize = 100;

/// A system to register.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateSystem {
    /// `[a-z0-9][a-z0-9._-]{0,63}`; a UUID is generated when absent.
    id: Option<String>,
    name: String,
    description: Option<String>,
    /// Ids of the systems this one depends on.
    #[serde(default)]
    depends_on: Vec<String>,
}

/// Changes to a system; omitted fields keep their values, `description: null` clears it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateSystem {
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    depends_on: Option<Vec<String>>,
}

/// `limit` (1..=1000, default 100) and `cursor` (from `nextCursor`).
#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    limit: Option<u64>,
    cursor: Option<String>,
}

impl ListQuery {
    /// The cursor as given.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    pub fn limit(&self) -> ApiResult<usize> {
        let mut problems = Problems::default();
        problems.range("limit", self.limit, 1, slod_store::MAX_PAGE as u64);
        problems.into_result()?;
        Ok(self.limit.unwrap_or(100) as usize)
    }
}

/// A page of systems.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SystemList {
    systems: Vec<System>,
    next_cursor: Option<String>,
}

fn check_dependencies(problems: &mut Problems, deps: &[String]) {
    if deps.len() > MAX_DEPENDENCIES {
        problems.add(
            "dependsOn",
            format!("at most {MAX_DEPENDENCIES} dependencies"),
        );
    }
    if let Some(bad) = deps.iter().find(|d| !validate::system_id(d)) {
        problems.add("dependsOn", format!("{bad:?} is not a system id"));
    }
}

#[utoipa::path(operation_id = "createSystem", post, path = "/api/v1/systems", tag = "systems", request_body = CreateSystem,
    responses((status = 201, body = System), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<CreateSystem>,
) -> ApiResult<(StatusCode, Json<System>)> {
    let mut problems = Problems::default();
    if input
        .id
        .as_deref()
        .is_some_and(|id| !validate::system_id(id))
    {
        problems.add("id", "must match [a-z0-9][a-z0-9._-]{0,63}");
    }
    problems.text("name", &input.name, MAX_NAME);
    problems.optional_text("description", input.description.as_deref(), MAX_DESCRIPTION);
    check_dependencies(&mut problems, &input.depends_on);
    problems.into_result()?;
    let new = NewSystem {
        id: input.id,
        name: input.name.trim().to_owned(),
        description: input.description,
        depends_on: input.depends_on,
    };
    let system = state.store.create_system(new, Timestamp::now()).await?;
    state.views.after_system_change(&system.id, &[]).await?;
    Ok((StatusCode::CREATED, Json(system)))
}

#[utoipa::path(operation_id = "listSystems", get, path = "/api/v1/systems", tag = "systems", params(ListQuery),
    responses((status = 200, body = SystemList), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<SystemList>> {
    let limit = query.limit()?;
    let after = validate::cursor(query.cursor.as_deref())?;
    let (systems, next) = state.views.systems_page(limit, after).await?;
    Ok(Json(SystemList {
        systems,
        next_cursor: validate::make_cursor(next),
    }))
}

#[utoipa::path(operation_id = "getSystem", get, path = "/api/v1/systems/{id}", tag = "systems", params(("id" = String, Path)),
    responses((status = 200, body = System), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<System>> {
    if !validate::system_id(&id) {
        return Err(ApiError::not_found(format!("system {id:?} not found")));
    }
    let system = state.views.system(&id).await?;
    system
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("system {id:?} not found")))
}

#[utoipa::path(operation_id = "updateSystem", patch, path = "/api/v1/systems/{id}", tag = "systems", params(("id" = String, Path)), request_body = UpdateSystem,
    responses((status = 200, body = System), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UpdateSystem>,
) -> ApiResult<Json<System>> {
    let mut problems = Problems::default();
    if let Some(name) = &input.name {
        problems.text("name", name, MAX_NAME);
    }
    problems.optional_text(
        "description",
        input.description.clone().flatten().as_deref(),
        MAX_DESCRIPTION,
    );
    if let Some(deps) = &input.depends_on {
        check_dependencies(&mut problems, deps);
    }
    problems.into_result()?;
    let patch = SystemPatch {
        name: input.name.map(|n| n.trim().to_owned()),
        description: input.description,
        depends_on: input.depends_on,
    };
    let before = crate::views::downstream(&state.store.dependency_graph().await?, &id);
    let system = state
        .store
        .update_system(&id, patch, Timestamp::now())
        .await?;
    let affected = state.views.after_system_change(&id, &before).await?;
    crate::objectives::announce_statuses(&state, &affected).await?;
    Ok(Json(system))
}

#[utoipa::path(operation_id = "deleteSystem", delete, path = "/api/v1/systems/{id}", tag = "systems", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let before = crate::views::downstream(&state.store.dependency_graph().await?, &id);
    let objectives = state
        .store
        .objectives_for_systems(std::slice::from_ref(&id))
        .await?;
    if !state.store.delete_system(&id).await? {
        return Err(ApiError::not_found(format!("system {id:?} not found")));
    }
    let affected = state.views.after_system_change(&id, &before).await?;
    for o in &objectives {
        state.views.forget_owner(&o.id).await;
    }
    state.incidents.after_system_deleted(&id).await;
    state.maintenance.after_system_deleted(&id).await;
    state
        .signals
        .emit("system.deleted", &id, serde_json::json!({"systemId": id}));
    crate::objectives::announce_statuses(&state, &affected[1..]).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(operation_id = "getSystemHealth", get, path = "/api/v1/systems/{id}/health", tag = "systems", params(("id" = String, Path)),
    responses((status = 200, body = SystemHealth), (status = 404, body = ErrorBody)))]
pub async fn health(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SystemHealth>> {
    if !validate::system_id(&id) {
        return Err(ApiError::not_found(format!("system {id:?} not found")));
    }
    let health = state.views.health(&id).await?;
    health
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("system {id:?} not found")))
}
