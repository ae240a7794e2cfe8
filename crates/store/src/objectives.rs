//! Objective definitions, and batched reads of the timelines their statuses are derived from.

use std::collections::HashMap;

use jiff::Timestamp;
use slod_engine::{BurnRateThresholds, DependencyExclusion, DownInterval, Objective, WindowKind};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use crate::results::interval_from_row;
use crate::systems::Page;
use crate::{ms, ts, Store, StoreError, Tx, MAX_PAGE};

/// Most ids bound in one `IN (...)` list.
pub(crate) const IN_CHUNK: usize = 500;

fn kind_str(kind: WindowKind) -> &'static str {
    match kind {
        WindowKind::Rolling => "rolling",
        WindowKind::Week => "week",
        WindowKind::Month => "month",
        WindowKind::Quarter => "quarter",
    }
}

fn parse_kind(s: &str) -> WindowKind {
    match s {
        "week" => WindowKind::Week,
        "month" => WindowKind::Month,
        "quarter" => WindowKind::Quarter,
        _ => WindowKind::Rolling,
    }
}

fn exclusion_str(e: DependencyExclusion) -> &'static str {
    match e {
        DependencyExclusion::Strict => "strict",
        DependencyExclusion::SelfOnly => "self-only",
    }
}

fn objective_from_row(row: &AnyRow) -> Result<Objective, sqlx::Error> {
    let excluded: String = row.try_get("excluded_dependency_ids")?;
    let window_days = row.try_get::<i64, _>("window_days")?;
    Ok(Objective {
        id: row.try_get("id")?,
        system_id: row.try_get("system_id")?,
        health_check_id: row.try_get("health_check_id")?,
        name: row.try_get("name")?,
        target: row.try_get("target")?,
        // 0 stands for none: a calendar window's length is its period's.
        window_days: (window_days > 0).then_some(window_days as u32),
        window_kind: parse_kind(&row.try_get::<String, _>("window_kind")?),
        time_zone: row.try_get("time_zone")?,
        dependency_exclusion: if row.try_get::<String, _>("dependency_exclusion")? == "self-only" {
            DependencyExclusion::SelfOnly
        } else {
            DependencyExclusion::Strict
        },
        excluded_dependency_ids: serde_json::from_str(&excluded)
            .map_err(|e| sqlx::Error::Decode(format!("excluded_dependency_ids: {e}").into()))?,
        exclude_maintenance_windows: row.try_get::<i64, _>("exclude_maintenance")? != 0,
        burn_rate_thresholds: BurnRateThresholds {
            warning_percent: row.try_get("warning_percent")?,
            critical_percent: row.try_get("critical_percent")?,
            fast_burn_multiplier: row.try_get("fast_burn_multiplier")?,
        },
        created_at: ts(row.try_get("created_at")?),
        updated_at: ts(row.try_get("updated_at")?),
    })
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds an objective's definition (every field a create and an update both write), in the
/// column order `health_check_id .. fast_burn_multiplier` both statements use.
fn bind_definition<'q>(query: AnyQuery<'q>, o: &'q Objective) -> AnyQuery<'q> {
    query
        .bind(&o.health_check_id)
        .bind(&o.name)
        .bind(o.target)
        .bind(i64::from(o.window_days.unwrap_or(0)))
        .bind(kind_str(o.window_kind))
        .bind(&o.time_zone)
        .bind(exclusion_str(o.dependency_exclusion))
        .bind(serde_json::to_string(&o.excluded_dependency_ids).unwrap_or_else(|_| "[]".into()))
        .bind(i64::from(o.exclude_maintenance_windows))
        .bind(o.burn_rate_thresholds.warning_percent)
        .bind(o.burn_rate_thresholds.critical_percent)
        .bind(o.burn_rate_thresholds.fast_burn_multiplier)
}

/// `$first, $first+1, ...` for `n` parameters.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Timelines of several systems and checks, read in a few queries.
#[derive(Clone, Debug, Default)]
pub struct TimelineSet {
    /// System id -> its down intervals, oldest first.
    pub systems: HashMap<String, Vec<DownInterval>>,
    /// Check id -> its down intervals, oldest first.
    pub checks: HashMap<String, Vec<DownInterval>>,
}

impl Tx {
    /// Validates the references of `o` (its system, and its check belonging to that system).
    async fn check_objective_refs(&mut self, o: &Objective) -> Result<(), StoreError> {
        if self.get_system(&o.system_id).await?.is_none() {
            return Err(StoreError::Invalid {
                field: "systemId".into(),
                message: format!("unknown system {:?}", o.system_id),
            });
        }
        if let Some(check) = &o.health_check_id {
            let found = sqlx::query("SELECT id FROM checks WHERE id = $1 AND system_id = $2")
                .bind(check)
                .bind(&o.system_id)
                .fetch_optional(&mut *self.tx)
                .await?;
            if found.is_none() {
                return Err(StoreError::Invalid {
                    field: "healthCheckId".into(),
                    message: format!("no check {check:?} on system {:?}", o.system_id),
                });
            }
        }
        Ok(())
    }

    /// Stores a new objective (already validated by the engine's rules).
    pub async fn create_objective(&mut self, o: &Objective) -> Result<Objective, StoreError> {
        self.check_objective_refs(o).await?;
        let insert = sqlx::query(
            "INSERT INTO objectives (id, system_id, health_check_id, name, target, window_days, window_kind, time_zone, dependency_exclusion, excluded_dependency_ids, exclude_maintenance, warning_percent, critical_percent, fast_burn_multiplier, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(&o.id)
        .bind(&o.system_id);
        bind_definition(insert, o)
            .bind(ms(o.created_at))
            .bind(ms(o.updated_at))
            .execute(&mut *self.tx)
            .await?;
        objective_by_id(&mut *self.tx, &o.id)
            .await?
            .ok_or_else(|| StoreError::not_found("objective", &o.id))
    }

    /// Replaces the definition of an existing objective (its id and system never change).
    pub async fn update_objective(&mut self, o: &Objective) -> Result<Objective, StoreError> {
        self.check_objective_refs(o).await?;
        let update = sqlx::query(
            "UPDATE objectives SET health_check_id = $1, name = $2, target = $3, window_days = $4, window_kind = $5, time_zone = $6, dependency_exclusion = $7, excluded_dependency_ids = $8, exclude_maintenance = $9, warning_percent = $10, critical_percent = $11, fast_burn_multiplier = $12, updated_at = $13
             WHERE id = $14 AND system_id = $15",
        );
        let done = bind_definition(update, o)
            .bind(ms(o.updated_at))
            .bind(&o.id)
            .bind(&o.system_id)
            .execute(&mut *self.tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("objective", &o.id));
        }
        objective_by_id(&mut *self.tx, &o.id)
            .await?
            .ok_or_else(|| StoreError::not_found("objective", &o.id))
    }

    /// Deletes an objective; returns its system id if it existed.
    pub async fn delete_objective(&mut self, id: &str) -> Result<Option<String>, StoreError> {
        let Some(o) = objective_by_id(&mut *self.tx, id).await? else {
            return Ok(None);
        };
        let done = sqlx::query("DELETE FROM objectives WHERE id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok((done.rows_affected() > 0).then_some(o.system_id))
    }

    /// One objective as this transaction sees it.
    pub async fn get_objective(&mut self, id: &str) -> Result<Option<Objective>, StoreError> {
        objective_by_id(&mut *self.tx, id).await
    }
}

/// One objective, read through `executor` (the pool, or a transaction).
async fn objective_by_id<'e>(
    executor: impl Executor<'e, Database = Any>,
    id: &str,
) -> Result<Option<Objective>, StoreError> {
    let row = sqlx::query("SELECT * FROM objectives WHERE id = $1")
        .bind(id)
        .fetch_optional(executor)
        .await?;
    Ok(row.as_ref().map(objective_from_row).transpose()?)
}

impl Store {
    /// One objective, or `None`.
    pub async fn get_objective(&self, id: &str) -> Result<Option<Objective>, StoreError> {
        objective_by_id(&self.pool, id).await
    }

    /// Objectives ordered by id, a page at a time.
    pub async fn list_objectives(
        &self,
        limit: usize,
        after: Option<&str>,
    ) -> Result<Page<Objective>, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let rows = sqlx::query("SELECT * FROM objectives WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after.unwrap_or(""))
            .bind(limit as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        let more = rows.len() > limit;
        let items = rows
            .iter()
            .take(limit)
            .map(objective_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = if more {
            items.last().map(|o| o.id.clone())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// The objectives of every listed system, ordered by system then creation.
    pub async fn objectives_for_systems(
        &self,
        system_ids: &[String],
    ) -> Result<Vec<Objective>, StoreError> {
        let mut out = Vec::new();
        for chunk in system_ids.chunks(IN_CHUNK) {
            let sql = format!("SELECT * FROM objectives WHERE system_id IN ({}) ORDER BY system_id, created_at, id", placeholders(1, chunk.len()));
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id);
            }
            for row in query.fetch_all(&self.pool).await? {
                out.push(objective_from_row(&row)?);
            }
        }
        Ok(out)
    }

    /// The down intervals (ending after `since`, or open) of the listed systems and checks.
    pub async fn timelines(
        &self,
        system_ids: &[String],
        check_ids: &[String],
        since: Timestamp,
    ) -> Result<TimelineSet, StoreError> {
        Ok(TimelineSet {
            systems: self
                .intervals_by("system_id", "check_id IS NULL AND", system_ids, since)
                .await?,
            checks: self.intervals_by("check_id", "", check_ids, since).await?,
        })
    }

    /// Down intervals grouped by `column` (`system_id` or `check_id`) for the listed ids, in
    /// chunks of bound parameters; `filter` narrows the rows (ends with `AND` when given).
    async fn intervals_by(
        &self,
        column: &str,
        filter: &str,
        ids: &[String],
        since: Timestamp,
    ) -> Result<HashMap<String, Vec<DownInterval>>, StoreError> {
        let mut out: HashMap<String, Vec<DownInterval>> = HashMap::new();
        for chunk in ids.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT {column}, start_at, end_at, worst, source FROM down_intervals WHERE {filter} (end_at IS NULL OR end_at > $1) AND {column} IN ({}) ORDER BY start_at",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(ms(since));
            for id in chunk {
                query = query.bind(id);
            }
            for row in query.fetch_all(&self.pool).await? {
                out.entry(row.try_get(column)?)
                    .or_default()
                    .push(interval_from_row(&row)?);
            }
        }
        Ok(out)
    }
}
