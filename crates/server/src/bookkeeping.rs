//! What the daily job records, as routes: snapshots, streaks, achievements, milestones.
//!
//! These change once a day, so they are read from the store directly; the dashboard's hot
//! paths (statuses, health, lists) are the cached ones.

use axum::extract::{Path, State};
use axum::Json;
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};
use slod_store::{Achievement, Milestone, Snapshot, StreakRecord};

use crate::app::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::jobs::day_of;
use crate::validate::{self, Problems};

/// `from`, `to`: UTC days (`2026-11-01`) or RFC 3339 times; by default the objective's window.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct SnapshotQuery {
    from: Option<String>,
    to: Option<String>,
}

/// An objective's daily snapshots, oldest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SnapshotList {
    snapshots: Vec<Snapshot>,
}

/// `limit` (1..=1000, default 100).
#[derive(Deserialize, utoipa::IntoParams)]
pub struct LimitQuery {
    limit: Option<u64>,
}

impl LimitQuery {
    fn limit(&self) -> ApiResult<usize> {
        let mut problems = Problems::default();
        problems.range("limit", self.limit, 1, slod_store::MAX_PAGE as u64);
        problems.into_result()?;
        Ok(self.limit.unwrap_or(100) as usize)
    }
}

/// Every objective's streak, longest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct StreakList {
    streaks: Vec<StreakRecord>,
}

/// A system's achievements, in the order unlocked.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AchievementList {
    achievements: Vec<Achievement>,
}

/// The latest milestones, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MilestoneList {
    milestones: Vec<Milestone>,
}

/// A day given as `YYYY-MM-DD` or as an RFC 3339 time (its UTC day).
fn parse_day(problems: &mut Problems, field: &str, value: Option<&str>) -> Option<Date> {
    let value = value?;
    if let Ok(day) = value.parse::<Date>() {
        return Some(day);
    }
    match value.parse::<Timestamp>() {
        Ok(t) => Some(day_of(t)),
        Err(_) => {
            problems.add(field, "expected a day (2026-11-01) or an RFC 3339 time");
            None
        }
    }
}

#[utoipa::path(get, path = "/api/v1/objectives/{id}/snapshots", tag = "bookkeeping", operation_id = "getObjectiveSnapshots", params(("id" = String, Path), SnapshotQuery),
    responses((status = 200, body = SnapshotList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn snapshots(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<SnapshotQuery>,
) -> ApiResult<Json<SnapshotList>> {
    let mut problems = Problems::default();
    let from = parse_day(&mut problems, "from", query.from.as_deref());
    let to = parse_day(&mut problems, "to", query.to.as_deref());
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            problems.add("from", "must not be after to");
        }
    }
    problems.into_result()?;
    let objective = state
        .store
        .get_objective(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("objective {id:?} not found")))?;
    let to = to.unwrap_or_else(|| day_of(Timestamp::now()));
    let from = match from {
        Some(from) => from,
        None => to
            .checked_sub(i64::from(objective.window_days).days())
            .map_err(ApiError::internal)?,
    };
    let snapshots = state
        .store
        .list_snapshots(&id, &from.to_string(), &to.to_string())
        .await?;
    Ok(Json(SnapshotList { snapshots }))
}

#[utoipa::path(get, path = "/api/v1/streaks", tag = "bookkeeping", operation_id = "listStreaks", params(LimitQuery),
    responses((status = 200, body = StreakList), (status = 400, body = ErrorBody)))]
pub async fn streaks(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<LimitQuery>,
) -> ApiResult<Json<StreakList>> {
    let streaks = state.store.list_streaks(query.limit()?).await?;
    Ok(Json(StreakList { streaks }))
}

#[utoipa::path(get, path = "/api/v1/systems/{id}/achievements", tag = "bookkeeping", operation_id = "getSystemAchievements", params(("id" = String, Path)),
    responses((status = 200, body = AchievementList), (status = 404, body = ErrorBody)))]
pub async fn achievements(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<AchievementList>> {
    if !validate::system_id(&id) || state.views.system(&id).await?.is_none() {
        return Err(ApiError::not_found(format!("system {id:?} not found")));
    }
    let achievements = state.store.list_achievements(&id).await?;
    Ok(Json(AchievementList { achievements }))
}

#[utoipa::path(get, path = "/api/v1/milestones", tag = "bookkeeping", operation_id = "listMilestones", params(LimitQuery),
    responses((status = 200, body = MilestoneList), (status = 400, body = ErrorBody)))]
pub async fn milestones(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<LimitQuery>,
) -> ApiResult<Json<MilestoneList>> {
    let milestones = state.store.list_milestones(query.limit()?).await?;
    Ok(Json(MilestoneList { milestones }))
}
