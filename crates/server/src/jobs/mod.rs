//! Periodic jobs, once per cluster: the daily bookkeeping (00:00 UTC: snapshots, streaks,
//! achievements, milestones, retention), the weekly digest (Monday 09:00 UTC), and alert
//! evaluation (every `SLOD_ALERTS_INTERVAL` seconds).
//!
//! - `lease`: claiming a period's run so that one replica runs it;
//! - `alerts`: evaluating alerts on the replica that holds the standing lease;
//! - `deliveries`: draining the notification outbox, on every replica, under claims;
//! - `daily`, `digest`: the jobs themselves, each a unit of work;
//! - this module: when they are due, catching up missed days, and the schedule loop.

mod alerts;
mod daily;
mod deliveries;
mod digest;
mod lease;

use std::time::Duration;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};

pub use crate::calendar::{day_of, monday_of, start_of};
pub use alerts::evaluate_forever;
pub use daily::run_daily;
pub use deliveries::deliver_forever;
pub use digest::run_digest;
pub use lease::Outcome;

use crate::error::{ServiceError, ServiceResult};
use crate::state::AppState;

/// Most missed days caught up at start.
pub const MAX_CATCH_UP_DAYS: i64 = 31;

/// The days whose bookkeeping is due at `now` and not yet done: from the day after the last
/// finished one (or the first day an objective existed) to yesterday, at most
/// [`MAX_CATCH_UP_DAYS`].
pub async fn due_days(state: &AppState, now: Timestamp) -> ServiceResult<Vec<Date>> {
    let today = day_of(now);
    let yesterday = today.yesterday().map_err(ServiceError::internal)?;
    let oldest_allowed = today
        .checked_sub(MAX_CATCH_UP_DAYS.days())
        .map_err(ServiceError::internal)?;
    let first = match state.store.last_finished("daily").await? {
        Some(last) => last
            .parse::<Date>()
            .map_err(ServiceError::internal)?
            .tomorrow()
            .map_err(ServiceError::internal)?,
        None => match daily::all_objectives(state)
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
        day = day.tomorrow().map_err(ServiceError::internal)?;
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
pub async fn catch_up(state: &AppState, now: Timestamp) -> ServiceResult<CatchUp> {
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
                tracing::warn!(error = %e, "a periodic job failed; retrying in a minute");
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
    }
}
