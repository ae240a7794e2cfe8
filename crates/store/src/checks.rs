//! Health checks of a system.

use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use crate::{
    ms, new_id, ts, Check, CheckKind, CheckPatch, DeletedCheck, HealthMove, NewCheck, Store,
    StoreError, Tx,
};

pub(crate) fn parse_status(s: &str) -> Option<slod_engine::CheckStatus> {
    use slod_engine::CheckStatus::*;
    Some(match s {
        "healthy" => Healthy,
        "degraded" => Degraded,
        "unhealthy" => Unhealthy,
        _ => return None,
    })
}

fn corrupt(what: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unexpected {what} {value:?} in the database").into())
}

pub(crate) fn check_from_row(row: &AnyRow) -> Result<Check, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    let latest: Option<String> = row.try_get("latest_status")?;
    Ok(Check {
        id: row.try_get("id")?,
        system_id: row.try_get("system_id")?,
        name: row.try_get("name")?,
        kind: CheckKind::parse(&kind).ok_or_else(|| corrupt("check kind", &kind))?,
        target: row.try_get("target")?,
        interval_seconds: row.try_get::<i64, _>("interval_seconds")? as u32,
        timeout_ms: row.try_get::<i64, _>("timeout_ms")? as u32,
        expect_status: [
            row.try_get::<i64, _>("expect_status_min")? as u16,
            row.try_get::<i64, _>("expect_status_max")? as u16,
        ],
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        latest_status: match latest {
            Some(s) => Some(parse_status(&s).ok_or_else(|| corrupt("check status", &s))?),
            None => None,
        },
        latest_at: row.try_get::<Option<i64>, _>("latest_at")?.map(ts),
        created_at: ts(row.try_get("created_at")?),
        updated_at: ts(row.try_get("updated_at")?),
    })
}

impl Tx {
    /// Adds a check to a system.
    pub async fn create_check(
        &mut self,
        system_id: &str,
        new: NewCheck,
        now: Timestamp,
    ) -> Result<Check, StoreError> {
        let now = crate::stored(now);
        let id = new_id();
        self.lock_system(system_id).await?;
        sqlx::query(
            "INSERT INTO checks (id, system_id, name, kind, target, interval_seconds, timeout_ms, expect_status_min, expect_status_max, enabled, latest_status, latest_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, $11, $12)",
        )
        .bind(&id)
        .bind(system_id)
        .bind(&new.name)
        .bind(new.kind.as_str())
        .bind(&new.target)
        .bind(i64::from(new.interval_seconds))
        .bind(i64::from(new.timeout_ms))
        .bind(i64::from(new.expect_status[0]))
        .bind(i64::from(new.expect_status[1]))
        .bind(i64::from(new.enabled))
        .bind(ms(now))
        .bind(ms(now))
        .execute(&mut *self.tx)
        .await?;
        Ok(Check {
            id,
            system_id: system_id.to_owned(),
            name: new.name,
            kind: new.kind,
            target: new.target,
            interval_seconds: new.interval_seconds,
            timeout_ms: new.timeout_ms,
            expect_status: new.expect_status,
            enabled: new.enabled,
            latest_status: None,
            latest_at: None,
            created_at: now,
            updated_at: now,
        })
    }

    /// One check as this transaction sees it.
    pub async fn get_check(&mut self, id: &str) -> Result<Option<Check>, StoreError> {
        check_by_id(&mut *self.tx, id).await
    }

    /// Applies `patch`; enabling or disabling a check re-rolls its system's health and timeline
    /// at `now` (disabling ends the check's own open outage).
    /// A changed probe check is due again at once. Returns the check and how its system's
    /// health moved.
    pub async fn update_check(
        &mut self,
        id: &str,
        patch: CheckPatch,
        now: Timestamp,
    ) -> Result<(Check, HealthMove), StoreError> {
        let Some(current) = self.get_check(id).await? else {
            return Err(StoreError::not_found("check", id));
        };
        self.lock_system(&current.system_id).await?;
        let disabling = current.enabled && patch.enabled == Some(false);
        let expect = patch.expect_status.unwrap_or(current.expect_status);
        sqlx::query(
            "UPDATE checks SET name = $1, target = $2, interval_seconds = $3, timeout_ms = $4, expect_status_min = $5, expect_status_max = $6, enabled = $7, updated_at = $8, next_probe_at = NULL WHERE id = $9",
        )
        .bind(patch.name.unwrap_or(current.name))
        .bind(patch.target.unwrap_or(current.target))
        .bind(i64::from(patch.interval_seconds.unwrap_or(current.interval_seconds)))
        .bind(i64::from(patch.timeout_ms.unwrap_or(current.timeout_ms)))
        .bind(i64::from(expect[0]))
        .bind(i64::from(expect[1]))
        .bind(i64::from(patch.enabled.unwrap_or(current.enabled)))
        .bind(ms(now))
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        if disabling {
            // Nobody watches a disabled check: an outage it has open ends now.
            sqlx::query(
                "UPDATE down_intervals SET end_at = $1 WHERE check_id = $2 AND end_at IS NULL",
            )
            .bind(ms(now))
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        }
        let moved = self.reroll_health(&current.system_id, now).await?;
        let check = self
            .get_check(id)
            .await?
            .ok_or_else(|| StoreError::not_found("check", id))?;
        Ok((check, moved))
    }

    /// Deletes a check with its results, timeline and the objectives scoped to it, and
    /// re-rolls its system's health at `now`. `None` if it did not exist.
    pub async fn delete_check(
        &mut self,
        id: &str,
        now: Timestamp,
    ) -> Result<Option<DeletedCheck>, StoreError> {
        let Some(current) = self.get_check(id).await? else {
            return Ok(None);
        };
        self.lock_system(&current.system_id).await?;
        let objectives = sqlx::query("SELECT id FROM objectives WHERE health_check_id = $1")
            .bind(id)
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(|row| row.try_get::<String, _>("id"))
            .collect::<Result<Vec<_>, _>>()?;
        let deleted = sqlx::query("DELETE FROM checks WHERE id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Ok(None);
        }
        let health = self.reroll_health(&current.system_id, now).await?;
        Ok(Some(DeletedCheck {
            system_id: current.system_id,
            health,
            objectives,
        }))
    }
}

/// One check, read through `executor` (the pool, or a transaction).
async fn check_by_id<'e>(
    executor: impl Executor<'e, Database = Any>,
    id: &str,
) -> Result<Option<Check>, StoreError> {
    let row = sqlx::query("SELECT * FROM checks WHERE id = $1")
        .bind(id)
        .fetch_optional(executor)
        .await?;
    Ok(row.as_ref().map(check_from_row).transpose()?)
}

impl Store {
    /// One check, or `None`.
    pub async fn get_check(&self, id: &str) -> Result<Option<Check>, StoreError> {
        check_by_id(&self.pool, id).await
    }

    /// The checks of a system, oldest first; `NotFound` if the system does not exist.
    pub async fn list_checks(&self, system_id: &str) -> Result<Vec<Check>, StoreError> {
        if self.get_system(system_id).await?.is_none() {
            return Err(StoreError::not_found("system", system_id));
        }
        let rows = sqlx::query("SELECT * FROM checks WHERE system_id = $1 ORDER BY created_at, id")
            .bind(system_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(check_from_row).collect::<Result<_, _>>()?)
    }

    /// The enabled probe checks (http, tcp) due at `now`: never probed, or their next probe
    /// time has come. At most `limit`, the longest overdue first.
    pub async fn due_probes(&self, now: Timestamp, limit: usize) -> Result<Vec<Check>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM checks WHERE kind <> 'push' AND enabled = 1 AND (next_probe_at IS NULL OR next_probe_at <= $1) ORDER BY COALESCE(next_probe_at, 0), id LIMIT $2",
        )
        .bind(ms(now))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(check_from_row).collect::<Result<_, _>>()?)
    }

    /// Claims a due probe for this replica by moving its next probe time to `next`. True if
    /// this caller should probe: one statement, so of several replicas exactly one wins.
    pub async fn claim_probe(
        &self,
        check_id: &str,
        now: Timestamp,
        next: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut w = self.begin().await?;
        let done = sqlx::query(
            "UPDATE checks SET next_probe_at = $1 WHERE id = $2 AND enabled = 1 AND (next_probe_at IS NULL OR next_probe_at <= $3)",
        )
        .bind(ms(next))
        .bind(check_id)
        .bind(ms(now))
        .execute(&mut *w.tx)
        .await?;
        w.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}
