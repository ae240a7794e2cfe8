//! The daily bookkeeping of one UTC day (engine.md, "Daily bookkeeping"): a snapshot and the
//! streak of every objective that existed during the day, achievements and milestones, as one
//! unit of work; then the retention of old results.
//!
//! Statuses are derived from the timelines at any instant, so a day is computed at its own
//! end even when it runs late.

use std::collections::HashMap;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use slod_engine::achievements::{self, ObjectiveFacts, SystemFacts};
use slod_engine::{streak, AttributionType, Objective};
use slod_store::{DayRecord, Snapshot, StoreError};

use super::lease::{claim, Outcome};
use crate::calendar::start_of;
use crate::error::{ServiceError, ServiceResult};
use crate::signals::{AchievementUnlocked, Signal, StreakUpdated};
use crate::state::{AppState, Core};
use crate::views::compute_statuses;
use crate::work::Mutation;

/// Streak lengths worth a milestone.
const STREAK_MILESTONES: [u32; 5] = [7, 30, 90, 180, 365];
/// Margin kept beyond the longest window when pruning results.
const RETENTION_MARGIN_DAYS: u32 = 7;
/// Windows assumed when no objective exists yet (for retention).
const DEFAULT_WINDOW_DAYS: u32 = 30;

/// Every objective, a page (of up to 1,000) per query.
pub(super) async fn all_objectives(state: &AppState) -> Result<Vec<Objective>, StoreError> {
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
) -> ServiceResult<Outcome> {
    let Some(lease) = claim(state, "daily", day.to_string(), now, force).await? else {
        return Ok(Outcome::Claimed);
    };
    let started = std::time::Instant::now();
    let result = daily(state, day, now, &lease).await;
    let outcome = if result.is_ok() { "ran" } else { "failed" };
    metrics::counter!("slod_job_runs_total", "job" => "daily", "outcome" => outcome).increment(1);
    metrics::histogram!("slod_job_duration_seconds", "job" => "daily")
        .record(started.elapsed().as_secs_f64());
    let summary = result?;
    metrics::gauge!("slod_job_last_success_timestamp_seconds", "job" => "daily")
        .set(jiff::Timestamp::now().as_second() as f64);
    tracing::info!(
        day = %lease.period,
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

async fn daily(
    state: &AppState,
    day: Date,
    now: Timestamp,
    lease: &super::lease::Lease,
) -> ServiceResult<DailySummary> {
    let day_end = start_of(day.tomorrow().map_err(ServiceError::internal)?);
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
    let mut bases = HashMap::new();
    for o in &objectives {
        bases.insert(
            o.id.as_str(),
            state.store.streak_before(&o.id, &period).await?,
        );
    }
    let mut recoveries = HashMap::new();
    for system in &systems {
        recoveries.insert(
            system.as_str(),
            state.store.recent_recoveries(system, 10).await?,
        );
    }
    let mut work = Core::of(state).begin(Mutation::RecordDay).await?;
    for o in &objectives {
        let Some(item) = statuses
            .get(&o.system_id)
            .and_then(|all| all.iter().find(|s| s.objective.id == o.id))
        else {
            continue;
        };
        let s = &item.status;
        let base = bases[o.id.as_str()];
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
        work.tx().record_day(&record).await?;
        summary.snapshots += 1;
        if changed {
            work.signal(Signal::StreakUpdated(StreakUpdated {
                system_id: o.system_id.clone(),
                objective_id: o.id.clone(),
                day: period.clone(),
                current_days: next.current_days,
                best_days: next.best_days,
            }));
        }
        for days in STREAK_MILESTONES {
            if base.current_days < days && next.current_days >= days {
                work.tx()
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
    let mut earned: Vec<_> = facts.into_iter().collect();
    earned.sort_by_key(|(system, _)| *system);
    for (system, mut system_facts) in earned {
        system_facts.recent_recoveries_seconds = recoveries.remove(system).unwrap_or_default();
        for kind in achievements::earned(&system_facts) {
            if work.tx().unlock_achievement(system, kind, now).await? {
                summary.achievements += 1;
                work.signal(Signal::AchievementUnlocked(AchievementUnlocked {
                    system_id: system.to_owned(),
                    kind,
                    unlocked_at: now,
                }));
            }
        }
    }
    work.tx()
        .finish_job(
            lease.job,
            &lease.period,
            &lease.owner,
            Timestamp::now().max(now),
        )
        .await?;
    work.commit().await?;
    summary.pruned = prune_results(state, now).await?;
    Ok(summary)
}

/// Deletes results older than the retention (configured, or the longest window plus 7 days).
async fn prune_results(state: &AppState, now: Timestamp) -> ServiceResult<u64> {
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
    let mut work = Core::of(state).begin(Mutation::PruneResults).await?;
    let pruned = work.tx().prune_results(cutoff).await?;
    work.commit().await?;
    Ok(pruned)
}
