//! Periodic jobs: the daily bookkeeping (00:00 UTC: snapshots, streaks, achievements,
//! milestones, retention) and the weekly digest (Monday 09:00 UTC).
//!
//! Each run belongs to a period (a UTC day, a week's Monday) and is claimed in the database
//! with a lease before it starts, so with several replicas exactly one runs it; a replica that
//! dies mid-run lets its lease expire and another takes over. Statuses are derived from the
//! timelines at any instant, so a day is computed at its own end even when it runs late: a
//! replica starting after a missed midnight catches the missed days up exactly.

use std::collections::HashMap;
use std::time::Duration;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde_json::json;
use slod_engine::achievements::{self, ObjectiveFacts, SystemFacts};
use slod_engine::{streak, AttributionType, Objective};
use slod_store::{DayRecord, Snapshot, StoreError};

use crate::app::AppState;
use crate::error::ApiError;
use crate::views::compute_statuses;

/// How long a claim holds before another replica may take the run over.
const LEASE: SignedDuration = SignedDuration::from_mins(15);
/// Most missed days caught up at start.
pub const MAX_CATCH_UP_DAYS: i64 = 31;
/// Streak lengths worth a milestone.
const STREAK_MILESTONES: [u32; 5] = [7, 30, 90, 180, 365];
/// Margin kept beyond the longest window when pruning results.
const RETENTION_MARGIN_DAYS: u32 = 7;
/// Windows assumed when no objective exists yet (for retention).
const DEFAULT_WINDOW_DAYS: u32 = 30;

/// What a call to a job did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// This process ran it.
    Ran,
    /// Another replica claimed this period (or already finished it).
    Claimed,
}

/// The UTC day `t` falls in.
pub fn day_of(t: Timestamp) -> Date {
    t.to_zoned_datetime(TimeZone::UTC).date()
}

/// 00:00 UTC of `day`.
pub fn start_of(day: Date) -> Timestamp {
    day.to_zoned_datetime(TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The Monday of the week `day` is in.
pub fn monday_of(day: Date) -> Date {
    let back = i64::from(day.weekday().to_monday_zero_offset());
    day.checked_sub(back.days()).unwrap_or(day)
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(e)
}

/// Every system's name by id, a page (of up to 1,000) per query.
async fn system_names(state: &AppState) -> Result<HashMap<String, String>, StoreError> {
    let mut out = HashMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = state
            .store
            .list_systems(slod_store::MAX_PAGE, cursor.as_deref())
            .await?;
        out.extend(page.items.into_iter().map(|s| (s.id, s.name)));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}

async fn all_objectives(state: &AppState) -> Result<Vec<Objective>, StoreError> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = state
            .store
            .list_objectives(slod_store::MAX_PAGE, cursor.as_deref())
            .await?;
        out.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}

/// Runs the daily bookkeeping for `day` (which ended at or before `now`) unless another
/// replica claimed it. With `force`, runs even so (an operator's re-run): a re-run replaces the
/// day's snapshots and recomputes its streaks from the same base.
pub async fn run_daily(
    state: &AppState,
    day: Date,
    now: Timestamp,
    force: bool,
) -> Result<Outcome, ApiError> {
    let period = day.to_string();
    let owner = uuid::Uuid::new_v4().to_string();
    let lease_until = now.checked_add(LEASE).unwrap_or(now);
    if !state
        .store
        .claim_job("daily", &period, &owner, now, lease_until)
        .await?
        && !force
    {
        metrics::counter!("slod_job_runs_total", "job" => "daily", "outcome" => "claimed_elsewhere").increment(1);
        return Ok(Outcome::Claimed);
    }
    let started = std::time::Instant::now();
    let result = daily(state, day, now).await;
    let outcome = if result.is_ok() { "ran" } else { "failed" };
    metrics::counter!("slod_job_runs_total", "job" => "daily", "outcome" => outcome).increment(1);
    metrics::histogram!("slod_job_duration_seconds", "job" => "daily")
        .record(started.elapsed().as_secs_f64());
    let summary = result?;
    state
        .store
        .finish_job("daily", &period, &owner, Timestamp::now().max(now))
        .await?;
    tracing::info!(
        day = %period,
        snapshots = summary.snapshots,
        achievements = summary.achievements,
        pruned_results = summary.pruned,
        "daily bookkeeping done"
    );
    Ok(Outcome::Ran)
}

#[derive(Default)]
struct DailySummary {
    snapshots: usize,
    achievements: usize,
    pruned: u64,
}

async fn daily(state: &AppState, day: Date, now: Timestamp) -> Result<DailySummary, ApiError> {
    let day_end = start_of(day.tomorrow().map_err(internal)?);
    let at = day_end.min(now);
    let period = day.to_string();
    // Only objectives that existed during the day.
    let objectives: Vec<Objective> = all_objectives(state)
        .await?
        .into_iter()
        .filter(|o| o.created_at < day_end)
        .collect();
    let mut systems: Vec<String> = objectives.iter().map(|o| o.system_id.clone()).collect();
    systems.sort_unstable();
    systems.dedup();
    let statuses = compute_statuses(&state.store, &systems, at).await?;
    let mut summary = DailySummary::default();
    let mut facts: HashMap<&str, SystemFacts> = HashMap::new();
    for o in &objectives {
        let Some(item) = statuses
            .get(&o.system_id)
            .and_then(|all| all.iter().find(|s| s.objective.id == o.id))
        else {
            continue;
        };
        let s = &item.status;
        let base = state.store.streak_before(&o.id, &period).await?;
        let (next, changed) = streak::advance(base, s.is_breaching, s.has_open_downtime);
        let record = DayRecord {
            snapshot: Snapshot {
                objective_id: o.id.clone(),
                day: period.clone(),
                availability: s.current_availability,
                consumed_minutes: s.error_budget_consumed_minutes,
                remaining_percent: s.error_budget_remaining_percent,
                burn_rate: s.burn_rate,
                is_breaching: s.is_breaching,
                streak_days: next.current_days,
                taken_at: now,
            },
            base,
            streak: next,
        };
        state.store.record_day(&record).await?;
        summary.snapshots += 1;
        if changed {
            state.signals.emit(
                "slo.streak.updated",
                &o.system_id,
                json!({"systemId": o.system_id, "objectiveId": o.id, "day": period,
                       "currentDays": next.current_days, "bestDays": next.best_days}),
            );
        }
        for days in STREAK_MILESTONES {
            if base.current_days < days && next.current_days >= days {
                state
                    .store
                    .streak_milestone(&o.system_id, &o.id, days, now)
                    .await?;
            }
        }
        let own_minutes = s
            .attribution
            .iter()
            .filter(|a| a.source_type == AttributionType::Own)
            .map(|a| a.minutes)
            .sum();
        facts
            .entry(o.system_id.as_str())
            .or_default()
            .objectives
            .push(ObjectiveFacts {
                availability: s.current_availability,
                remaining_percent: s.error_budget_remaining_percent,
                streak_days: next.current_days,
                total_minutes: s.error_budget_consumed_strict_minutes,
                own_minutes,
            });
    }
    for (system, mut system_facts) in facts {
        system_facts.recent_recoveries_seconds = state.store.recent_recoveries(system, 10).await?;
        for kind in achievements::earned(&system_facts) {
            if state.store.unlock_achievement(system, kind, now).await? {
                summary.achievements += 1;
                state.signals.emit(
                    "slo.achievement.unlocked",
                    system,
                    json!({"systemId": system, "kind": kind, "unlockedAt": now}),
                );
            }
        }
    }
    summary.pruned = prune_results(state, now).await?;
    Ok(summary)
}

/// Deletes results older than the retention (configured, or the longest window plus 7 days).
async fn prune_results(state: &AppState, now: Timestamp) -> Result<u64, ApiError> {
    let days = match state.config.result_retention_days {
        Some(days) => days,
        None => {
            state
                .store
                .longest_window_days()
                .await?
                .unwrap_or(DEFAULT_WINDOW_DAYS)
                + RETENTION_MARGIN_DAYS
        }
    };
    let cutoff = now
        .checked_sub(SignedDuration::from_hours(24 * i64::from(days)))
        .unwrap_or(Timestamp::UNIX_EPOCH);
    Ok(state.store.prune_results(cutoff).await?)
}

/// Runs the weekly digest for the week starting `monday` unless another replica claimed it
/// (with `force`, even so): logged, and emitted as the `slo.digest` signal.
pub async fn run_digest(
    state: &AppState,
    monday: Date,
    now: Timestamp,
    force: bool,
) -> Result<(Outcome, Option<slod_engine::digest::Digest>), ApiError> {
    let period = monday.to_string();
    let owner = uuid::Uuid::new_v4().to_string();
    let lease_until = now.checked_add(LEASE).unwrap_or(now);
    if !state
        .store
        .claim_job("digest", &period, &owner, now, lease_until)
        .await?
        && !force
    {
        metrics::counter!("slod_job_runs_total", "job" => "digest", "outcome" => "claimed_elsewhere").increment(1);
        return Ok((Outcome::Claimed, None));
    }
    let objectives = all_objectives(state).await?;
    let mut systems: Vec<String> = objectives.iter().map(|o| o.system_id.clone()).collect();
    systems.sort_unstable();
    systems.dedup();
    let statuses = compute_statuses(&state.store, &systems, now).await?;
    let mut entries = Vec::with_capacity(objectives.len());
    let names = system_names(state).await?;
    for system in &systems {
        let name = names.get(system).cloned().unwrap_or_else(|| system.clone());
        for item in statuses.get(system).into_iter().flat_map(|all| all.iter()) {
            entries.push(slod_engine::digest::entry(
                &item.status,
                item.objective.name.clone(),
                name.clone(),
            ));
        }
    }
    let digest = slod_engine::digest::digest(entries, now);
    let payload = serde_json::to_value(&digest).map_err(internal)?;
    tracing::info!(week = %period, digest = %payload, "weekly digest");
    state.signals.emit("slo.digest", "", payload);
    state
        .store
        .finish_job("digest", &period, &owner, Timestamp::now().max(now))
        .await?;
    metrics::counter!("slod_job_runs_total", "job" => "digest", "outcome" => "ran").increment(1);
    Ok((Outcome::Ran, Some(digest)))
}

/// The days whose bookkeeping is due at `now` and not yet done: from the day after the last
/// finished one (or the first day an objective existed) to yesterday, at most
/// [`MAX_CATCH_UP_DAYS`].
pub async fn due_days(state: &AppState, now: Timestamp) -> Result<Vec<Date>, ApiError> {
    let today = day_of(now);
    let yesterday = today.yesterday().map_err(internal)?;
    let oldest_allowed = today
        .checked_sub(MAX_CATCH_UP_DAYS.days())
        .map_err(internal)?;
    let first = match state.store.last_finished("daily").await? {
        Some(last) => last
            .parse::<Date>()
            .map_err(internal)?
            .tomorrow()
            .map_err(internal)?,
        None => match all_objectives(state)
            .await?
            .iter()
            .map(|o| o.created_at)
            .min()
        {
            Some(created) => day_of(created),
            None => return Ok(Vec::new()),
        },
    };
    let mut day = first.max(oldest_allowed);
    let mut out = Vec::new();
    while day <= yesterday {
        out.push(day);
        day = day.tomorrow().map_err(internal)?;
    }
    Ok(out)
}

/// Whether [`catch_up`] did everything due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CatchUp {
    /// Nothing due is left undone.
    Done,
    /// Another replica holds a due day: the later days wait for it (a day's streak is counted
    /// from the day before), so try again shortly.
    Waiting,
}

/// Runs every job due at `now`: the missed days in order (so streaks count each once), then
/// this week's digest if its time has come, nobody sent it, and there is something to report.
pub async fn catch_up(state: &AppState, now: Timestamp) -> Result<CatchUp, ApiError> {
    for day in due_days(state, now).await? {
        if run_daily(state, day, now, false).await? == Outcome::Claimed {
            return Ok(CatchUp::Waiting);
        }
    }
    let monday = monday_of(day_of(now));
    let digest_at = start_of(monday) + SignedDuration::from_hours(9);
    let sent = state.store.last_finished("digest").await?;
    // Without objectives there is nothing to report (a fresh install sends no empty digest).
    let anything = state.store.longest_window_days().await?.is_some();
    if now >= digest_at && sent.as_deref() < Some(monday.to_string().as_str()) && anything {
        run_digest(state, monday, now, false).await?;
    }
    Ok(CatchUp::Done)
}

/// The next instant a job is due after `now`: the next 00:00 UTC or Monday 09:00 UTC.
pub fn next_due(now: Timestamp) -> Timestamp {
    let today = day_of(now);
    let midnight = start_of(today.tomorrow().unwrap_or(today));
    let monday = monday_of(today);
    let mut digest = start_of(monday) + SignedDuration::from_hours(9);
    if digest <= now {
        digest = digest
            .checked_add(SignedDuration::from_hours(7 * 24))
            .unwrap_or(midnight);
    }
    midnight.min(digest)
}

/// Runs the jobs forever: catch-up at start, then at each due instant. A failed run is logged
/// and retried a minute later (its period stays unfinished, so the retry picks it up); so is a
/// catch-up waiting for another replica's day.
pub async fn schedule(state: AppState) {
    loop {
        let now = Timestamp::now();
        let wait = match catch_up(&state, now).await {
            Ok(CatchUp::Waiting) => Duration::from_secs(60),
            Ok(CatchUp::Done) => {
                let due = next_due(now);
                // A second late, so that "yesterday" has surely ended on this clock.
                Duration::from_millis(
                    u64::try_from(due.duration_since(now).as_millis()).unwrap_or(0) + 1000,
                )
            }
            Err(e) => {
                tracing::warn!(error = ?e, "a periodic job failed; retrying in a minute");
                Duration::from_secs(60)
            }
        };
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn next_due_is_midnight_or_monday_nine() {
        // 2026-11-27 is a Friday.
        assert_eq!(
            next_due(t("2026-11-27T13:00:00Z")),
            t("2026-11-28T00:00:00Z")
        );
        // Monday before nine: the digest comes first.
        assert_eq!(
            next_due(t("2026-11-30T08:00:00Z")),
            t("2026-11-30T09:00:00Z")
        );
        // Monday after nine: the next midnight.
        assert_eq!(
            next_due(t("2026-11-30T09:00:00Z")),
            t("2026-12-01T00:00:00Z")
        );
        assert_eq!(
            monday_of("2026-11-29".parse().unwrap()).to_string(),
            "2026-11-23"
        );
        assert_eq!(
            monday_of("2026-11-30".parse().unwrap()).to_string(),
            "2026-11-30"
        );
    }
}
