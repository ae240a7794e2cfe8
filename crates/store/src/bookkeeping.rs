//! The daily bookkeeping's records (snapshots, streaks, achievements, milestones), the leases
//! that make a periodic job run once per cluster, and the retention of old results.
//!
//! Every write here is idempotent per day: a snapshot is unique per (objective, day) and a
//! re-run replaces it. Each snapshot keeps the streak as of its day (current and best), so a
//! day is computed from the day before it, whatever order days are run in; the streaks table
//! holds the latest day's. Achievements and milestones are unique, so a re-run records
//! nothing new.

use jiff::Timestamp;
use slod_engine::achievements::AchievementKind;
use slod_engine::streak::Streak;
use sqlx::Row;

use std::collections::HashMap;

use sqlx::any::AnyRow;

use crate::{ms, ts, Achievement, Milestone, Snapshot, Store, StoreError, StreakRecord, Tx};

fn snapshot_from_row(row: &AnyRow) -> Result<Snapshot, sqlx::Error> {
    Ok(Snapshot {
        objective_id: row.try_get("objective_id")?,
        day: row.try_get("day")?,
        availability: row.try_get("availability")?,
        consumed_minutes: row.try_get("consumed_minutes")?,
        remaining_percent: row.try_get("remaining_percent")?,
        burn_rate: row.try_get("burn_rate")?,
        is_breaching: row.try_get::<i64, _>("is_breaching")? != 0,
        streak_days: row.try_get::<i64, _>("streak_days")? as u32,
        best_days: row.try_get::<i64, _>("best_days")? as u32,
        taken_at: ts(row.try_get("taken_at")?),
    })
}

impl Store {
    /// Every objective's snapshot of `day` (`YYYY-MM-DD`).
    pub async fn snapshots_on(&self, day: &str) -> Result<Vec<Snapshot>, StoreError> {
        let rows = sqlx::query("SELECT * FROM snapshots WHERE day = $1 ORDER BY objective_id")
            .bind(day)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(snapshot_from_row)
            .collect::<Result<_, _>>()?)
    }

    /// The days that have snapshots, oldest first.
    pub async fn snapshot_days(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT DISTINCT day FROM snapshots ORDER BY day")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|row| row.try_get("day"))
            .collect::<Result<_, _>>()?)
    }

    /// Every objective's current streak (as of the latest day counted).
    pub async fn current_streaks(&self) -> Result<HashMap<String, Streak>, StoreError> {
        let rows = sqlx::query("SELECT objective_id, current_days, best_days FROM streaks")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("objective_id")?,
                    Streak {
                        current_days: row.try_get::<i64, _>("current_days")? as u32,
                        best_days: row.try_get::<i64, _>("best_days")? as u32,
                    },
                ))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// An objective's snapshots for days in `[from, to]` (`YYYY-MM-DD`), oldest first.
    pub async fn list_snapshots(
        &self,
        objective_id: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<Snapshot>, StoreError> {
        let rows = sqlx::query("SELECT * FROM snapshots WHERE objective_id = $1 AND day >= $2 AND day <= $3 ORDER BY day")
            .bind(objective_id)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(snapshot_from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Every objective's streak, longest current streak first.
    pub async fn list_streaks(&self, limit: usize) -> Result<Vec<StreakRecord>, StoreError> {
        let rows = sqlx::query("SELECT s.*, o.system_id, o.name FROM streaks s JOIN objectives o ON o.id = s.objective_id ORDER BY s.current_days DESC, s.best_days DESC, s.objective_id LIMIT $1")
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(StreakRecord {
                    objective_id: row.try_get("objective_id")?,
                    system_id: row.try_get("system_id")?,
                    objective_name: row.try_get("name")?,
                    day: row.try_get("day")?,
                    current_days: row.try_get::<i64, _>("current_days")? as u32,
                    best_days: row.try_get::<i64, _>("best_days")? as u32,
                    updated_at: ts(row.try_get("updated_at")?),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// A system's achievements, in the order they were unlocked.
    pub async fn list_achievements(&self, system_id: &str) -> Result<Vec<Achievement>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM achievements WHERE system_id = $1 ORDER BY unlocked_at, kind",
        )
        .bind(system_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let kind: String = row.try_get("kind")?;
            if let Some(kind) = AchievementKind::parse(&kind) {
                out.push(Achievement {
                    system_id: row.try_get("system_id")?,
                    kind,
                    unlocked_at: ts(row.try_get("unlocked_at")?),
                });
            }
        }
        Ok(out)
    }

    /// The latest milestones, newest first.
    pub async fn list_milestones(&self, limit: usize) -> Result<Vec<Milestone>, StoreError> {
        let rows = sqlx::query("SELECT * FROM milestones ORDER BY at DESC, id DESC LIMIT $1")
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let objective_id: Option<String> = row.try_get("objective_id")?;
                let detail: String = row.try_get("detail")?;
                // Streak details carry the objective id to stay unique per objective.
                let detail = match &objective_id {
                    Some(o) => detail
                        .strip_prefix(&format!("{o}:"))
                        .unwrap_or(&detail)
                        .to_owned(),
                    None => detail,
                };
                Ok(Milestone {
                    kind: row.try_get("kind")?,
                    system_id: row.try_get("system_id")?,
                    objective_id,
                    detail,
                    at: ts(row.try_get("at")?),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Durations (seconds) of a system's latest down intervals closed by `as_of`, newest first.
    pub async fn recent_recoveries(
        &self,
        system_id: &str,
        limit: usize,
        as_of: Timestamp,
    ) -> Result<Vec<f64>, StoreError> {
        let rows = sqlx::query("SELECT start_at, end_at FROM down_intervals WHERE system_id = $1 AND check_id IS NULL AND end_at IS NOT NULL AND end_at <= $3 ORDER BY end_at DESC LIMIT $2")
            .bind(system_id)
            .bind(limit as i64)
            .bind(ms(as_of))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let start: i64 = row.try_get("start_at")?;
                let end: i64 = row.try_get("end_at")?;
                Ok((end - start) as f64 / 1000.0)
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Claims `job`'s run for `period` for `owner` until `lease_until`. True if this caller
    /// should run it: nobody claimed it, or a claim that never finished has expired (its
    /// replica died). One statement, so two replicas racing cannot both win.
    pub async fn claim_job(
        &self,
        job: &str,
        period: &str,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut w = self.begin().await?;
        let done = sqlx::query(
            "INSERT INTO job_runs (job, period, owner, lease_until, finished_at) VALUES ($1, $2, $3, $4, NULL) \
             ON CONFLICT (job, period) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until \
             WHERE job_runs.finished_at IS NULL AND job_runs.lease_until < $5",
        )
        .bind(job)
        .bind(period)
        .bind(owner)
        .bind(ms(lease_until))
        .bind(ms(now))
        .execute(&mut *w.tx)
        .await?;
        w.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Takes or renews the standing lease `name` for `owner` until `lease_until`: true if
    /// `owner` holds it now (it was free, expired, or already `owner`'s). For work that runs
    /// continuously on one replica at a time (alert evaluation) rather than once per period.
    /// One statement, so two replicas racing cannot both hold it.
    pub async fn hold_lease(
        &self,
        name: &str,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut w = self.begin().await?;
        let done = sqlx::query(
            "INSERT INTO job_runs (job, period, owner, lease_until, finished_at) VALUES ($1, 'lease', $2, $3, NULL) \
             ON CONFLICT (job, period) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until \
             WHERE job_runs.owner = excluded.owner OR job_runs.lease_until < $4",
        )
        .bind(name)
        .bind(owner)
        .bind(ms(lease_until))
        .bind(ms(now))
        .execute(&mut *w.tx)
        .await?;
        w.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// The latest period for which `job` finished, if any (periods sort as text).
    pub async fn last_finished(&self, job: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT MAX(period) AS period FROM job_runs WHERE job = $1 AND finished_at IS NOT NULL",
        )
        .bind(job)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("period")?)
    }

    /// The longest window, in days, of any objective (calendar windows by their longest
    /// length), or `None` without objectives.
    pub async fn longest_window_days(&self) -> Result<Option<u32>, StoreError> {
        let row = sqlx::query("SELECT MAX(CASE window_kind WHEN 'week' THEN 7 WHEN 'month' THEN 31 WHEN 'quarter' THEN 92 ELSE window_days END) AS days FROM objectives")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<Option<i64>, _>("days")?.map(|d| d as u32))
    }
}

async fn insert_milestone(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    kind: &str,
    system_id: &str,
    objective_id: Option<&str>,
    detail: &str,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let done = sqlx::query("INSERT INTO milestones (kind, system_id, objective_id, detail, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, system_id, detail) DO NOTHING")
        .bind(kind)
        .bind(system_id)
        .bind(objective_id)
        .bind(detail)
        .bind(ms(at))
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() > 0)
}

impl Tx {
    /// Stores one objective's day: its snapshot (replacing a previous run's) and its streak.
    /// Nothing is stored for an objective deleted meanwhile.
    pub async fn record_day(&mut self, s: &Snapshot, current: bool) -> Result<(), StoreError> {
        let exists = sqlx::query("SELECT id FROM objectives WHERE id = $1")
            .bind(&s.objective_id)
            .fetch_optional(&mut *self.tx)
            .await?;
        if exists.is_none() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO snapshots (objective_id, day, availability, consumed_minutes, remaining_percent, burn_rate, is_breaching, streak_days, best_days, taken_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (objective_id, day) DO UPDATE SET availability = excluded.availability, consumed_minutes = excluded.consumed_minutes, remaining_percent = excluded.remaining_percent, burn_rate = excluded.burn_rate, is_breaching = excluded.is_breaching, streak_days = excluded.streak_days, best_days = excluded.best_days, taken_at = excluded.taken_at",
        )
        .persistent(false)
        .bind(&s.objective_id)
        .bind(&s.day)
        .bind(s.availability)
        .bind(s.consumed_minutes)
        .bind(s.remaining_percent)
        .bind(s.burn_rate)
        .bind(i64::from(s.is_breaching))
        .bind(i64::from(s.streak_days))
        .bind(i64::from(s.best_days))
        .bind(ms(s.taken_at))
        .execute(&mut *self.tx)
        .await?;
        if current {
            sqlx::query(
                "INSERT INTO streaks (objective_id, day, current_days, best_days, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (objective_id) DO UPDATE SET day = excluded.day, current_days = excluded.current_days, best_days = excluded.best_days, updated_at = excluded.updated_at",
            )
            .bind(&s.objective_id)
            .bind(&s.day)
            .bind(i64::from(s.streak_days))
            .bind(i64::from(s.best_days))
            .bind(ms(s.taken_at))
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    /// Marks `job`'s run for `period` finished at `now`, whoever claimed it (a day recomputed
    /// as part of a later day's run counts as run).
    pub async fn mark_finished(
        &mut self,
        job: &str,
        period: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO job_runs (job, period, owner, lease_until, finished_at) VALUES ($1, $2, '', $3, $3) \
             ON CONFLICT (job, period) DO UPDATE SET finished_at = excluded.finished_at",
        )
        .bind(job)
        .bind(period)
        .bind(ms(now))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Records an achievement unless the system already has it; true if it is new. A new one
    /// is also a milestone.
    pub async fn unlock_achievement(
        &mut self,
        system_id: &str,
        kind: AchievementKind,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("INSERT INTO achievements (system_id, kind, unlocked_at) VALUES ($1, $2, $3) ON CONFLICT (system_id, kind) DO NOTHING")
            .bind(system_id)
            .bind(kind.as_str())
            .bind(ms(at))
            .execute(&mut *self.tx)
            .await?;
        let new = done.rows_affected() > 0;
        if new {
            insert_milestone(
                &mut self.tx,
                "achievement",
                system_id,
                None,
                kind.as_str(),
                at,
            )
            .await?;
        }
        Ok(new)
    }

    /// Records that an objective's streak reached `days` (once per objective and length).
    pub async fn streak_milestone(
        &mut self,
        system_id: &str,
        objective_id: &str,
        days: u32,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let detail = format!("{objective_id}:{days}_days");
        let new = insert_milestone(
            &mut self.tx,
            "streak",
            system_id,
            Some(objective_id),
            &detail,
            at,
        )
        .await?;
        Ok(new)
    }

    /// Deletes check results recorded before `before`; returns how many. Timelines, snapshots
    /// and milestones are kept (they are small).
    pub async fn prune_results(&mut self, before: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM check_results WHERE at < $1")
            .bind(ms(before))
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected())
    }

    /// Marks `owner`'s run of `job` for `period` finished.
    pub async fn finish_job(
        &mut self,
        job: &str,
        period: &str,
        owner: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE job_runs SET finished_at = $1 WHERE job = $2 AND period = $3 AND owner = $4",
        )
        .bind(ms(now))
        .bind(job)
        .bind(period)
        .bind(owner)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
