//! Maintenance windows. Their status is derived from time, so one recorded after the fact
//! corrects the budget of every objective that excludes maintenance: nothing to re-apply.

use std::collections::HashMap;

use jiff::Timestamp;
use slod_engine::{MaintenanceStatus, MaintenanceWindow};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::membership::{
    link_systems, one_with_systems, page_with_systems, parse_cursor, require_systems, Membership,
};
use crate::objectives::placeholders;
use crate::systems::Page;
use crate::{
    ms, new_id, stored, ts, Maintenance, MaintenanceFilter, NewMaintenance, Store, StoreError, Tx,
    MAX_PAGE,
};

/// How maintenance windows are read with their systems.
const WINDOWS: Membership<Maintenance> = Membership {
    table: "maintenance_systems",
    column: "maintenance_id",
    from_row: maintenance_from_row,
    key: |m| (m.start_at, &m.id),
};

fn maintenance_from_row(row: &AnyRow, system_ids: Vec<String>) -> Result<Maintenance, sqlx::Error> {
    let m = Maintenance {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        system_ids,
        start_at: ts(row.try_get("start_at")?),
        end_at: ts(row.try_get("end_at")?),
        status: MaintenanceStatus::Scheduled,
        cancelled_at: row.try_get::<Option<i64>, _>("cancelled_at")?.map(ts),
        created_at: ts(row.try_get("created_at")?),
        updated_at: ts(row.try_get("updated_at")?),
    };
    Ok(m.at(Timestamp::now()))
}

impl Tx {
    /// Records a maintenance window (it may lie in the past).
    pub async fn create_maintenance(
        &mut self,
        new: &NewMaintenance,
        now: Timestamp,
    ) -> Result<Maintenance, StoreError> {
        let id = new_id();
        let mut systems = new.system_ids.clone();
        systems.sort_unstable();
        systems.dedup();
        require_systems(self, &systems).await?;
        sqlx::query("INSERT INTO maintenances (id, title, start_at, end_at, cancelled_at, created_at, updated_at) VALUES ($1, $2, $3, $4, NULL, $5, $5)")
            .bind(&id)
            .bind(&new.title)
            .bind(ms(new.start_at))
            .bind(ms(new.end_at))
            .bind(ms(now))
            .execute(&mut *self.tx)
            .await?;
        link_systems(self, &WINDOWS, &id, &systems).await?;
        Ok(Maintenance {
            id,
            title: new.title.clone(),
            system_ids: systems,
            start_at: stored(new.start_at),
            end_at: stored(new.end_at),
            status: MaintenanceStatus::Scheduled,
            cancelled_at: None,
            created_at: stored(now),
            updated_at: stored(now),
        }
        .at(now))
    }

    /// Cancels a window (it then never counts, also for the past). Cancelling twice keeps the
    /// first time. `None` if it does not exist.
    pub async fn cancel_maintenance(
        &mut self,
        id: &str,
        now: Timestamp,
    ) -> Result<Option<Maintenance>, StoreError> {
        sqlx::query("UPDATE maintenances SET cancelled_at = $1, updated_at = $1 WHERE id = $2 AND cancelled_at IS NULL")
            .bind(ms(now))
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        maintenance_in(&mut self.tx, id).await
    }
}

/// One maintenance window read on `conn`.
async fn maintenance_in(
    conn: &mut sqlx::AnyConnection,
    id: &str,
) -> Result<Option<Maintenance>, StoreError> {
    let row = sqlx::query("SELECT * FROM maintenances WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    one_with_systems(conn, &WINDOWS, row, id).await
}

impl Store {
    /// One maintenance window.
    pub async fn get_maintenance(&self, id: &str) -> Result<Option<Maintenance>, StoreError> {
        maintenance_in(&mut *self.pool.acquire().await?, id).await
    }

    /// Windows matching `filter`, latest start first, `limit` at a time after `cursor`.
    pub async fn list_maintenances(
        &self,
        filter: &MaintenanceFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Maintenance>, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let (at, after_id) = parse_cursor(cursor);
        let sql = format!(
            "SELECT m.* FROM maintenances m WHERE {} AND m.end_at > $2 AND m.start_at < $3 AND (m.start_at < $4 OR (m.start_at = $4 AND m.id < $5)) ORDER BY m.start_at DESC, m.id DESC LIMIT $6",
            WINDOWS.system_filter("m", filter.system_id.as_deref())
        );
        let rows = sqlx::query(&sql)
            .bind(filter.system_id.as_deref().unwrap_or(""))
            .bind(filter.from.map_or(i64::MIN, ms))
            .bind(filter.to.map_or(i64::MAX, ms))
            .bind(at)
            .bind(&after_id)
            .bind(limit as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        page_with_systems(&mut *self.pool.acquire().await?, &WINDOWS, rows, limit).await
    }

    /// Every window not cancelled that ends after `now` (in progress or to come), soonest
    /// first, with its systems.
    pub async fn maintenances_ending_after(
        &self,
        now: Timestamp,
    ) -> Result<Vec<Maintenance>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query("SELECT * FROM maintenances WHERE cancelled_at IS NULL AND end_at > $1 ORDER BY start_at, id")
            .bind(ms(now))
            .fetch_all(&mut *conn)
            .await?;
        let count = rows.len().max(1);
        Ok(page_with_systems(&mut conn, &WINDOWS, rows, count)
            .await?
            .items)
    }

    /// The windows (cancelled ones included, flagged) of each listed system that end after
    /// `since`, in a few queries whatever the number of systems.
    pub async fn maintenance_windows(
        &self,
        system_ids: &[String],
        since: Timestamp,
    ) -> Result<HashMap<String, Vec<MaintenanceWindow>>, StoreError> {
        let mut out: HashMap<String, Vec<MaintenanceWindow>> = HashMap::new();
        for chunk in system_ids.chunks(crate::objectives::IN_CHUNK) {
            let sql = format!(
                "SELECT s.system_id, m.start_at, m.end_at, m.cancelled_at FROM maintenances m JOIN maintenance_systems s ON s.maintenance_id = m.id WHERE m.end_at > $1 AND s.system_id IN ({}) ORDER BY m.start_at",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(ms(since));
            for id in chunk {
                query = query.bind(id);
            }
            for row in query.fetch_all(&self.pool).await? {
                out.entry(row.try_get("system_id")?)
                    .or_default()
                    .push(MaintenanceWindow {
                        start_at: ts(row.try_get("start_at")?),
                        end_at: ts(row.try_get("end_at")?),
                        cancelled: row.try_get::<Option<i64>, _>("cancelled_at")?.is_some(),
                    });
            }
        }
        Ok(out)
    }
}
