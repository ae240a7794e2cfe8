//! Systems and their dependency edges.

use std::collections::{BTreeSet, HashMap};

use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use sqlx::Row;

use crate::{ms, new_id, ts, DeletedSystem, NewSystem, Store, StoreError, System, SystemPatch, Tx};

/// Most items a list returns at once.
pub const MAX_PAGE: usize = 1000;

/// One page of a list, with the cursor of the next page (`None` at the end).
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

fn system_from_row(row: &AnyRow, depends_on: Vec<String>) -> Result<System, sqlx::Error> {
    Ok(System {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        depends_on,
        created_at: ts(row.try_get("created_at")?),
        updated_at: ts(row.try_get("updated_at")?),
    })
}

/// Every dependency edge, as system -> upstreams.
pub(crate) async fn all_edges(
    conn: &mut AnyConnection,
) -> Result<HashMap<String, Vec<String>>, StoreError> {
    let rows = sqlx::query("SELECT system_id, depends_on FROM system_dependencies")
        .fetch_all(&mut *conn)
        .await?;
    let mut edges: HashMap<String, Vec<String>> = HashMap::new();
    for row in rows {
        edges
            .entry(row.try_get("system_id")?)
            .or_default()
            .push(row.try_get("depends_on")?);
    }
    Ok(edges)
}

/// Whether `from` reaches `to` through `edges`.
fn reaches(edges: &HashMap<String, Vec<String>>, from: &str, to: &str) -> bool {
    let mut stack = vec![from];
    let mut seen = BTreeSet::new();
    while let Some(id) = stack.pop() {
        if id == to {
            return true;
        }
        if seen.insert(id) {
            stack.extend(edges.get(id).into_iter().flatten().map(String::as_str));
        }
    }
    false
}

impl Tx {
    /// Checks that every dependency exists and that `system_id -> deps` closes no cycle, then
    /// replaces the system's edges.
    async fn set_dependencies(
        &mut self,
        system_id: &str,
        deps: &BTreeSet<String>,
    ) -> Result<(), StoreError> {
        for dep in deps {
            if dep == system_id {
                return Err(StoreError::Conflict(format!(
                    "system {system_id:?} cannot depend on itself"
                )));
            }
            let exists = sqlx::query("SELECT id FROM systems WHERE id = $1")
                .bind(dep)
                .fetch_optional(&mut *self.tx)
                .await?;
            if exists.is_none() {
                return Err(StoreError::Invalid {
                    field: "dependsOn".into(),
                    message: format!("unknown system {dep:?}"),
                });
            }
        }
        let mut edges = all_edges(&mut self.tx).await?;
        edges.insert(system_id.to_owned(), deps.iter().cloned().collect());
        if let Some(dep) = deps.iter().find(|dep| reaches(&edges, dep, system_id)) {
            return Err(StoreError::Conflict(format!(
                "depending on {dep:?} would create a cycle: {dep:?} already depends on {system_id:?}"
            )));
        }
        sqlx::query("DELETE FROM system_dependencies WHERE system_id = $1")
            .bind(system_id)
            .execute(&mut *self.tx)
            .await?;
        for dep in deps {
            sqlx::query("INSERT INTO system_dependencies (system_id, depends_on) VALUES ($1, $2)")
                .bind(system_id)
                .bind(dep)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// Creates a system. A duplicate id is a conflict; an unknown dependency is invalid.
    pub async fn create_system(
        &mut self,
        new: NewSystem,
        now: Timestamp,
    ) -> Result<System, StoreError> {
        let now = crate::stored(now);
        let id = new.id.unwrap_or_else(new_id);
        let inserted = sqlx::query(
            "INSERT INTO systems (id, name, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&id)
        .bind(&new.name)
        .bind(&new.description)
        .bind(ms(now))
        .bind(ms(now))
        .execute(&mut *self.tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "system {id:?} already exists"
            )));
        }
        let deps: BTreeSet<String> = new.depends_on.into_iter().collect();
        self.set_dependencies(&id, &deps).await?;
        sqlx::query("INSERT INTO system_health (system_id, status, since, last_transition) VALUES ($1, 'unknown', NULL, NULL)")
            .bind(&id)
            .execute(&mut *self.tx)
            .await?;
        Ok(System {
            id,
            name: new.name,
            description: new.description,
            depends_on: deps.into_iter().collect(),
            created_at: now,
            updated_at: now,
        })
    }
}

impl Store {
    /// One system, or `None`.
    pub async fn get_system(&self, id: &str) -> Result<Option<System>, StoreError> {
        system_in(&mut *self.pool.acquire().await?, id).await
    }

    /// Systems ordered by id, `limit` at a time, after the cursor `after` (an id).
    pub async fn list_systems(
        &self,
        limit: usize,
        after: Option<&str>,
    ) -> Result<Page<System>, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let rows = sqlx::query("SELECT * FROM systems WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after.unwrap_or(""))
            .bind(limit as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        let more = rows.len() > limit;
        let rows = &rows[..rows.len().min(limit)];
        let mut deps: HashMap<String, Vec<String>> = HashMap::new();
        if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
            let edges = sqlx::query(
                "SELECT system_id, depends_on FROM system_dependencies WHERE system_id >= $1 AND system_id <= $2 ORDER BY depends_on",
            )
            .bind(first.try_get::<String, _>("id")?)
            .bind(last.try_get::<String, _>("id")?)
            .fetch_all(&self.pool)
            .await?;
            for edge in edges {
                deps.entry(edge.try_get("system_id")?)
                    .or_default()
                    .push(edge.try_get("depends_on")?);
            }
        }
        let items = rows
            .iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                system_from_row(row, deps.remove(&id).unwrap_or_default())
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let next_cursor = if more {
            items.last().map(|s| s.id.clone())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Every system's id, sorted.
    pub async fn system_ids(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT id FROM systems ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|row| row.try_get("id"))
            .collect::<Result<_, _>>()?)
    }

    /// Every dependency edge, system -> upstreams (the topology objectives are derived over).
    pub async fn dependency_graph(&self) -> Result<HashMap<String, Vec<String>>, StoreError> {
        all_edges(&mut *self.pool.acquire().await?).await
    }
}

impl Tx {
    /// The dependency graph as this transaction sees it (its own changes included).
    pub async fn dependency_graph(&mut self) -> Result<HashMap<String, Vec<String>>, StoreError> {
        all_edges(&mut self.tx).await
    }

    /// One system as this transaction sees it.
    pub async fn get_system(&mut self, id: &str) -> Result<Option<System>, StoreError> {
        system_in(&mut self.tx, id).await
    }

    /// Applies `patch`; omitted fields keep their values.
    pub async fn update_system(
        &mut self,
        id: &str,
        patch: SystemPatch,
        now: Timestamp,
    ) -> Result<System, StoreError> {
        let updated = sqlx::query(
            "UPDATE systems SET name = COALESCE($1, name), description = CASE WHEN $2 = 1 THEN $3 ELSE description END, updated_at = $4 WHERE id = $5",
        )
        .bind(&patch.name)
        .bind(i64::from(patch.description.is_some()))
        .bind(patch.description.clone().flatten())
        .bind(ms(now))
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::not_found("system", id));
        }
        if let Some(deps) = patch.depends_on {
            self.set_dependencies(id, &deps.into_iter().collect())
                .await?;
        }
        self.get_system(id)
            .await?
            .ok_or_else(|| StoreError::not_found("system", id))
    }

    /// Deletes a system with its checks, results, timeline, objectives and edges. Systems that
    /// depended on it lose that dependency; incidents and maintenance windows that named it
    /// stop naming it. `None` if it did not exist.
    pub async fn delete_system(&mut self, id: &str) -> Result<Option<DeletedSystem>, StoreError> {
        let objectives = self
            .ids("SELECT id FROM objectives WHERE system_id = $1", id)
            .await?;
        let incidents = self
            .ids(
                "SELECT incident_id AS id FROM incident_systems WHERE system_id = $1",
                id,
            )
            .await?;
        let maintenances = self
            .ids(
                "SELECT maintenance_id AS id FROM maintenance_systems WHERE system_id = $1",
                id,
            )
            .await?;
        let deleted = sqlx::query("DELETE FROM systems WHERE id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok((deleted.rows_affected() > 0).then_some(DeletedSystem {
            objectives,
            incidents,
            maintenances,
        }))
    }

    /// The `id` column of `sql`'s rows, with `$1` bound to `param`.
    async fn ids(&mut self, sql: &str, param: &str) -> Result<Vec<String>, StoreError> {
        sqlx::query(sql)
            .bind(param)
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(|row| row.try_get::<String, _>("id").map_err(StoreError::from))
            .collect()
    }
}

/// One system read on `conn` (the pool, or a transaction that must see its own writes).
pub(crate) async fn system_in(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<System>, StoreError> {
    let Some(row) = sqlx::query("SELECT * FROM systems WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let deps = sqlx::query(
        "SELECT depends_on FROM system_dependencies WHERE system_id = $1 ORDER BY depends_on",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get::<String, _>("depends_on"))
    .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(system_from_row(&row, deps)?))
}
