//! `/api/v1/objectives/{id}/snapshots`, `/api/v1/streaks`, `/api/v1/systems/{id}/achievements`,
//! `/api/v1/milestones`: extract, one service call, respond.

use axum::extract::State;
use axum::Json;
use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use slod_store::{Achievement, Milestone, Snapshot, StreakRecord};

use super::Bookkeeping;
use crate::calendar::day_of;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{ApiQuery, Id};
use crate::http::params::LimitQuery;
use crate::ids::{ObjectiveId, SystemId};
use crate::validation::Problems;

/// `from`, `to`: UTC days (`2026-11-01`) or RFC 3339 times; by default the objective's window.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SnapshotQuery {
    /// The first day: `2026-11-01` or an RFC 3339 time (its UTC day).
    #[param(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}")]
    from: Option<String>,
    /// The last day, likewise.
    #[param(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}")]
    to: Option<String>,
}

/// An objective's daily snapshots, oldest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SnapshotList {
    snapshots: Vec<Snapshot>,
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

#[utoipa::path(get, path = "/api/v1/objectives/{id}/snapshots", tag = "bookkeeping", operation_id = "getObjectiveSnapshots", params(("id" = ObjectiveId, Path), SnapshotQuery),
    responses((status = 200, body = SnapshotList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn snapshots(
    State(bookkeeping): State<Bookkeeping>,
    Id(id): Id<ObjectiveId>,
    ApiQuery(query): ApiQuery<SnapshotQuery>,
) -> ApiResult<Json<SnapshotList>> {
    let mut problems = Problems::default();
    let from = parse_day(&mut problems, "from", query.from.as_deref());
    let to = parse_day(&mut problems, "to", query.to.as_deref());
    problems.into_result()?;
    let snapshots = bookkeeping.snapshots(&id, from, to).await?;
    Ok(Json(SnapshotList { snapshots }))
}

#[utoipa::path(get, path = "/api/v1/streaks", tag = "bookkeeping", operation_id = "listStreaks", params(LimitQuery),
    responses((status = 200, body = StreakList), (status = 400, body = ErrorBody)))]
pub async fn streaks(
    State(bookkeeping): State<Bookkeeping>,
    ApiQuery(query): ApiQuery<LimitQuery>,
) -> ApiResult<Json<StreakList>> {
    let streaks = bookkeeping.streaks(query.limit()?).await?;
    Ok(Json(StreakList { streaks }))
}

#[utoipa::path(get, path = "/api/v1/systems/{id}/achievements", tag = "bookkeeping", operation_id = "getSystemAchievements", params(("id" = SystemId, Path)),
    responses((status = 200, body = AchievementList), (status = 404, body = ErrorBody)))]
pub async fn achievements(
    State(bookkeeping): State<Bookkeeping>,
    Id(id): Id<SystemId>,
) -> ApiResult<Json<AchievementList>> {
    let achievements = bookkeeping.achievements(&id).await?;
    Ok(Json(AchievementList { achievements }))
}

#[utoipa::path(get, path = "/api/v1/milestones", tag = "bookkeeping", operation_id = "listMilestones", params(LimitQuery),
    responses((status = 200, body = MilestoneList), (status = 400, body = ErrorBody)))]
pub async fn milestones(
    State(bookkeeping): State<Bookkeeping>,
    ApiQuery(query): ApiQuery<LimitQuery>,
) -> ApiResult<Json<MilestoneList>> {
    let milestones = bookkeeping.milestones(query.limit()?).await?;
    Ok(Json(MilestoneList { milestones }))
}
