//! Incidents. One with `healthOverride` holds its systems unhealthy while open: opening and
//! resolving it re-roll each system's health under the system's lock, in the same transaction
//! as the incident itself, exactly as ingest does.

use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::membership::{
    link_systems, one_with_systems, page_with_systems, parse_cursor, require_systems, Membership,
};
use crate::systems::Page;
use crate::{
    ms, new_id, ts, HealthMove, Incident, IncidentFilter, IncidentStatus, NewIncident, Store,
    StoreError, Tx, MAX_PAGE,
};

/// How incidents are read with their systems.
const INCIDENTS: Membership<Incident> = Membership {
    table: "incident_systems",
    column: "incident_id",
    from_row: incident_from_row,
    key: |i| (i.opened_at, &i.id),
};

fn incident_from_row(row: &AnyRow, system_ids: Vec<String>) -> Result<Incident, sqlx::Error> {
    let resolved_at = row.try_get::<Option<i64>, _>("resolved_at")?.map(ts);
    Ok(Incident {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        system_ids,
        health_override: row.try_get::<i64, _>("health_override")? != 0,
        status: if resolved_at.is_some() {
            IncidentStatus::Resolved
        } else {
            IncidentStatus::Open
        },
        opened_at: ts(row.try_get("opened_at")?),
        resolved_at,
        updated_at: ts(row.try_get("updated_at")?),
    })
}

impl Tx {
    /// Opens an incident. With `healthOverride`, each of its systems turns unhealthy at `now`
    /// (an interval opens with `source: incident` unless one is already open).
    pub async fn open_incident(
        &mut self,
        new: &NewIncident,
        now: Timestamp,
    ) -> Result<(Incident, Vec<HealthMove>), StoreError> {
        let id = new_id();
        let mut systems = new.system_ids.clone();
        systems.sort_unstable();
        systems.dedup();
        require_systems(self, &systems).await?;
        sqlx::query("INSERT INTO incidents (id, title, health_override, opened_at, resolved_at, updated_at) VALUES ($1, $2, $3, $4, NULL, $4)")
            .bind(&id)
            .bind(&new.title)
            .bind(i64::from(new.health_override))
            .bind(ms(now))
            .execute(&mut *self.tx)
            .await?;
        link_systems(self, &INCIDENTS, &id, &systems).await?;
        let moves = if new.health_override {
            self.reroll_all(&systems, now).await?
        } else {
            Vec::new()
        };
        let incident = self
            .get_incident(&id)
            .await?
            .ok_or_else(|| StoreError::not_found("incident", &id))?;
        Ok((incident, moves))
    }

    /// Resolves an incident at `now`. Its systems' intervals close only where the checks say
    /// healthy: resolving cannot end an outage the checks still see. Resolving twice keeps the
    /// first time and moves nothing. `None` if it does not exist.
    pub async fn resolve_incident(
        &mut self,
        id: &str,
        now: Timestamp,
    ) -> Result<Option<(Incident, Vec<HealthMove>)>, StoreError> {
        let Some(current) = self.get_incident(id).await? else {
            return Ok(None);
        };
        let done = sqlx::query("UPDATE incidents SET resolved_at = $1, updated_at = $1 WHERE id = $2 AND resolved_at IS NULL")
            .bind(ms(now))
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        let moves = if done.rows_affected() > 0 && current.health_override {
            self.reroll_all(&current.system_ids, now).await?
        } else {
            Vec::new()
        };
        Ok(self.get_incident(id).await?.map(|i| (i, moves)))
    }

    /// One incident as this transaction sees it.
    pub async fn get_incident(&mut self, id: &str) -> Result<Option<Incident>, StoreError> {
        incident_in(&mut self.tx, id).await
    }

    /// Locks each system (in id order, so concurrent callers cannot deadlock) and re-rolls its
    /// health at `now`.
    async fn reroll_all(
        &mut self,
        systems: &[String],
        now: Timestamp,
    ) -> Result<Vec<HealthMove>, StoreError> {
        let mut sorted = systems.to_vec();
        sorted.sort_unstable();
        let mut moves = Vec::with_capacity(sorted.len());
        for system in sorted {
            self.lock_system(&system).await?;
            moves.push(self.reroll_health(&system, now).await?);
        }
        Ok(moves)
    }
}

/// One incident read on `conn`.
async fn incident_in(
    conn: &mut sqlx::AnyConnection,
    id: &str,
) -> Result<Option<Incident>, StoreError> {
    let row = sqlx::query("SELECT * FROM incidents WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    one_with_systems(conn, &INCIDENTS, row, id).await
}

impl Store {
    /// One incident.
    pub async fn get_incident(&self, id: &str) -> Result<Option<Incident>, StoreError> {
        incident_in(&mut *self.pool.acquire().await?, id).await
    }

    /// Every open incident, latest opened first, with its systems.
    pub async fn open_incidents(&self) -> Result<Vec<Incident>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(
            "SELECT * FROM incidents WHERE resolved_at IS NULL ORDER BY opened_at DESC, id DESC",
        )
        .fetch_all(&mut *conn)
        .await?;
        let count = rows.len().max(1);
        Ok(page_with_systems(&mut conn, &INCIDENTS, rows, count)
            .await?
            .items)
    }

    /// Incidents matching `filter`, latest opened first, `limit` at a time after `cursor`.
    pub async fn list_incidents(
        &self,
        filter: &IncidentFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Incident>, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let (at, after_id) = parse_cursor(cursor);
        let status = match filter.status {
            None => "",
            Some(IncidentStatus::Open) => "open",
            Some(IncidentStatus::Resolved) => "resolved",
        };
        let sql = format!(
            "SELECT i.* FROM incidents i WHERE {} AND ($2 = '' OR ($2 = 'open' AND i.resolved_at IS NULL) OR ($2 = 'resolved' AND i.resolved_at IS NOT NULL)) AND (i.opened_at < $3 OR (i.opened_at = $3 AND i.id < $4)) ORDER BY i.opened_at DESC, i.id DESC LIMIT $5",
            INCIDENTS.system_filter("i", filter.system_id.as_deref())
        );
        let rows = sqlx::query(&sql)
            .bind(filter.system_id.as_deref().unwrap_or(""))
            .bind(status)
            .bind(at)
            .bind(&after_id)
            .bind(limit as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        page_with_systems(&mut *self.pool.acquire().await?, &INCIDENTS, rows, limit).await
    }
}
