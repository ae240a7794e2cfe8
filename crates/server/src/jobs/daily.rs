//! The daily bookkeeping of one UTC day (engine.md, "Daily bookkeeping"): a snapshot and the
//! streak of every objective that existed during the day, achievements and milestones, as one
//! unit of work; then the retention of old results.
//!
//! Statuses are derived from the timelines at any instant, so a day is computed at its own
//! end even when it runs late.

use std::collections::{BTreeSet, HashMap};

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};
use slod_engine::achievements::{self, ObjectiveFacts, SystemFacts};
use slod_engine::streak::{self, Streak};
use slod_engine::{AttributionType, Objective};
use slod_store::{Snapshot, StoreError};

use super::lease::{claim, Outcome};
use crate::calendar::{day_of, start_of};
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
/// replica claimed it. With `force`, runs even so (an operator's re-run, after correcting data).
///
/// Every day is computed from the day before it, so it recomputes, in order: any earlier day
/// not yet computed since the first objective existed, `day` itself, and every later day
/// already computed (their streaks count from `day`'s). Any order of runs and re-runs thus
/// ends in the same snapshots, streaks, achievements and milestones.
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
    let result = days_through(state, day, now).await;
    let outcome = if result.is_ok() { "ran" } else { "failed" };
    metrics::counter!("slod_job_runs_total", "job" => "daily", "outcome" => outcome).increment(1);
    metrics::histogram!("slod_job_duration_seconds", "job" => "daily")
        .record(started.elapsed().as_secs_f64());
    let summary = result?;
    metrics::gauge!("slod_job_last_success_timestamp_seconds", "job" => "daily")
        .set(jiff::Timestamp::now().as_second() as f64);
    tracing::info!(
        day = %lease.period,
        days = summary.days,
        snapshots = summary.snapshots,
        achievements = summary.achievements,
        pruned_results = summary.pruned,
        "daily bookkeeping done"
    );
    Ok(Outcome::Ran)
}

/// How far back a run fills days never computed.
const MAX_CHAIN_DAYS: i64 = 366;

#[derive(Default)]
struct DailySummary {
    days: usize,
    snapshots: usize,
    achievements: usize,
    pruned: u64,
}

/// Computes the days `day` depends on and the days that depend on it, in order.
async fn days_through(state: &AppState, day: Date, now: Timestamp) -> ServiceResult<DailySummary> {
    let mut summary = DailySummary::default();
    let objectives = all_objectives(state).await?;
    if let Some(first) = objectives.iter().map(|o| day_of(o.created_at)).min() {
        let computed: BTreeSet<Date> = state
            .store
            .snapshot_days()
            .await?
            .iter()
            .filter_map(|d| d.parse().ok())
            .collect();
        let floor = day
            .checked_sub(MAX_CHAIN_DAYS.days())
            .map_err(ServiceError::internal)?;
        let mut start = day;
        let mut d = first.max(floor);
        while d < day {
            if !computed.contains(&d) {
                start = d;
                break;
            }
            d = d.tomorrow().map_err(ServiceError::internal)?;
        }
        let end = computed.last().copied().unwrap_or(day).max(day);
        let current = state.store.current_streaks().await?;
        let before_start = start
            .yesterday()
            .map_err(ServiceError::internal)?
            .to_string();
        let mut previous: HashMap<String, Streak> = state
            .store
            .snapshots_on(&before_start)
            .await?
            .into_iter()
            .map(|s| {
                (
                    s.objective_id,
                    Streak {
                        current_days: s.streak_days,
                        best_days: s.best_days,
                    },
                )
            })
            .collect();
        let mut d = start;
        while d <= end {
            previous = one_day(
                state,
                &objectives,
                d,
                now,
                &previous,
                (d == end).then_some(&current),
                &mut summary,
            )
            .await?;
            summary.days += 1;
            d = d.tomorrow().map_err(ServiceError::internal)?;
        }
    }
    summary.pruned = prune_results(state, now).await?;
    Ok(summary)
}

/// Records one day from the streaks of the day before (`previous`); `current` is given for
/// the latest day, whose streaks become the current ones. Writes and signals only what
/// changed. Returns the day's streaks.
async fn one_day(
    state: &AppState,
    objectives: &[Objective],
    day: Date,
    now: Timestamp,
    previous: &HashMap<String, Streak>,
    current: Option<&HashMap<String, Streak>>,
    summary: &mut DailySummary,
) -> ServiceResult<HashMap<String, Streak>> {
    let day_end = start_of(day.tomorrow().map_err(ServiceError::internal)?);
    let at = day_end.min(now);
    let period = day.to_string();
    // Only objectives that existed during the day.
    let objectives: Vec<&Objective> = objectives
        .iter()
        .filter(|o| o.created_at < day_end)
        .collect();
    let mut systems: Vec<String> = objectives.iter().map(|o| o.system_id.clone()).collect();
    systems.sort_unstable();
    systems.dedup();
    let statuses = compute_statuses(&state.store, &systems, at).await?;
    let stored: HashMap<String, Snapshot> = state
        .store
        .snapshots_on(&period)
        .await?
        .into_iter()
        .map(|s| (s.objective_id.clone(), s))
        .collect();
    let mut recoveries = HashMap::new();
    for system in &systems {
        recoveries.insert(
            system.as_str(),
            state.store.recent_recoveries(system, 10, at).await?,
        );
    }
    let mut streaks = HashMap::new();
    let mut facts: HashMap<&str, SystemFacts> = HashMap::new();
    let mut work = Core::of(state).begin(Mutation::RecordDay).await?;
    for o in objectives {
        let Some(item) = statuses
            .get(&o.system_id)
            .and_then(|all| all.iter().find(|s| s.objective.id == o.id))
        else {
            continue;
        };
        let s = &item.status;
        let base = previous.get(&o.id).copied().unwrap_or_default();
        let (next, _) = streak::advance(base, s.is_breaching, s.has_open_downtime);
        let snapshot = Snapshot {
            objective_id: o.id.clone(),
            day: period.clone(),
            availability: s.current_availability,
            consumed_minutes: s.error_budget_consumed_minutes,
            remaining_percent: s.error_budget_remaining_percent,
            burn_rate: s.burn_rate,
            is_breaching: s.is_breaching,
            streak_days: next.current_days,
            best_days: next.best_days,
            taken_at: now,
        };
        let same_snapshot = stored.get(&o.id).is_some_and(|old| {
            Snapshot {
                taken_at: old.taken_at,
                ..snapshot.clone()
            } == *old
        });
        let streak_moved = current.is_some_and(|current| current.get(&o.id) != Some(&next));
        if !same_snapshot || streak_moved {
            work.tx().record_day(&snapshot, current.is_some()).await?;
            summary.snapshots += 1;
        }
        if streak_moved {
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
        streaks.insert(o.id.clone(), next);
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
        .mark_finished("daily", &period, Timestamp::now().max(now))
        .await?;
    work.commit().await?;
    Ok(streaks)
}

/// Deletes results older than the retention (configured, or the longest window plus 7 days),
/// and alerts resolved and silences finished before it.
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
    // Resolved alerts and finished silences are kept as long as results.
    if work.tx().prune_alerts(cutoff).await? > 0 {
        work.invalidate(state.views.alerts.pruned());
        work.invalidate(state.views.silences.pruned());
    }
    // Delivered and dead notifications too (the outbox is not cached).
    work.tx().prune_deliveries(cutoff).await?;
    work.commit().await?;
    Ok(pruned)
}
