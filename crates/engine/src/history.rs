//! An objective's error budget over its window, as a burn-down: how much budget was left at
//! evenly spaced instants from the window's start to now.
//!
//! Each point counts the downtime of the current window from its start up to the point's
//! instant (with the objective's attribution and maintenance rules, exactly as
//! [`crate::status`] counts it), against the whole window's budget. The last point is therefore
//! the current status: its remaining percent is `errorBudgetRemainingPercent` and, on a rolling
//! window, its availability is `currentAvailability`. The ideal burn-down, a budget spent
//! evenly, falls in a straight line from 100 % at the window's start to 0 % at its end: a
//! curve below that line spends faster than the window allows (the SRE workbook's burn rate
//! above 1).
//!
//! The curve exists from the first minute: it is derived from the health timeline, not from
//! the daily snapshots.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::derive::{derive, Owner, Timelines};
use crate::intervals::{self, Span};
use crate::model::{DependencyExclusion, Objective};
use crate::status::{target_units, window_of, HUNDRED_PERCENT};
use crate::window::MINUTE_MS;
use crate::EngineError;

/// Fewest points a history has: the window's start and now.
pub const MIN_POINTS: usize = 2;
/// Most points a history has (a chart is rarely wider than this in pixels).
pub const MAX_POINTS: usize = 1000;

/// The budget at one instant of the window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BudgetPoint {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    /// Percent of the window's error budget left at `at`, 0..=100 (0 once spent).
    pub remaining_percent: f64,
    /// Minutes of counted downtime from the window's start to `at`.
    pub consumed_minutes: f64,
    /// Percent of the time from the window's start to `at` that was not counted as down
    /// (100 at the start itself).
    pub availability: f64,
}

/// An objective's burn-down over its current window, as
/// `GET /objectives/{id}/budget-history` serves it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BudgetHistory {
    pub objective_id: String,
    /// The window's start: the first point, where the ideal line is at 100 %.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub window_start: Timestamp,
    /// The window's end, where the ideal line reaches 0 %: now for a rolling window, the end
    /// of the period for a calendar one.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub window_end: Timestamp,
    /// The budget of the whole window, minutes: `(100 - target) / 100 * W`.
    pub error_budget_total_minutes: f64,
    /// Evenly spaced from the window's start to now, oldest first; the last is now.
    pub points: Vec<BudgetPoint>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub computed_at: Timestamp,
}

/// The burn-down of `objective` over `timelines` at `now`, in `points` points (clamped to
/// [`MIN_POINTS`]..=[`MAX_POINTS`]; the service rejects other values first). Errors: an
/// unknown time zone of a calendar window.
pub fn budget_history(
    objective: &Objective,
    timelines: &Timelines<'_>,
    now: Timestamp,
    points: usize,
) -> Result<BudgetHistory, EngineError> {
    let points = points.clamp(MIN_POINTS, MAX_POINTS);
    let window = window_of(objective, now)?;
    let now_ms = now.as_millisecond();
    let observed = window.observed;
    let strict = objective.dependency_exclusion == DependencyExclusion::Strict;

    let mut counted: Vec<Span> = Vec::new();
    derive(
        timelines,
        objective.exclude_maintenance_windows,
        observed,
        now_ms,
        |segment| {
            if strict || segment.owner == Owner::Own {
                counted.extend(segment.span.clip(observed));
            }
        },
    );
    let counted = intervals::normalize(counted);

    let budget_units = HUNDRED_PERCENT - target_units(objective.target);
    let allowed_ms = window.length_ms() as f64 * budget_units as f64 / HUNDRED_PERCENT as f64;
    let step = (observed.end - observed.start) as f64 / (points - 1) as f64;

    // One sweep: the instants grow, so each span is added once in full and at most once in
    // part per instant.
    let mut next = 0;
    let mut closed_ms = 0i64;
    let points = (0..points)
        .map(|k| {
            let at_ms = if k == points - 1 {
                observed.end
            } else {
                observed.start + (step * k as f64).round() as i64
            };
            while next < counted.len() && counted[next].end <= at_ms {
                closed_ms += counted[next].len();
                next += 1;
            }
            let partial = counted
                .get(next)
                .map_or(0, |s| (at_ms - s.start).clamp(0, s.len()));
            let consumed_ms = closed_ms + partial;
            let elapsed_ms = at_ms - observed.start;
            BudgetPoint {
                at: Timestamp::from_millisecond(at_ms).expect("inside the window"),
                remaining_percent: if allowed_ms > 0.0 {
                    ((1.0 - consumed_ms as f64 / allowed_ms) * 100.0).clamp(0.0, 100.0)
                } else {
                    100.0
                },
                consumed_minutes: consumed_ms as f64 / MINUTE_MS as f64,
                availability: if elapsed_ms > 0 {
                    (elapsed_ms - consumed_ms) as f64 / elapsed_ms as f64 * 100.0
                } else {
                    100.0
                },
            }
        })
        .collect();
    Ok(BudgetHistory {
        objective_id: objective.id.clone(),
        window_start: Timestamp::from_millisecond(observed.start).expect("a valid window"),
        window_end: Timestamp::from_millisecond(window.period.end).expect("a valid window"),
        error_budget_total_minutes: allowed_ms / MINUTE_MS as f64,
        points,
        computed_at: now,
    })
}
