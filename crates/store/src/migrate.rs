//! Embedded migrations, one file per backend and version, applied in order at start.
//!
//! A small runner of our own rather than sqlx's: sqlx's embeds through a proc macro that would
//! compile every database driver into the build a second time, and ours only needs to apply
//! plain SQL files once, under a lock, and record them.

use sqlx::{Executor, Row};

use crate::{Backend, Store, StoreError};

/// (version, name, SQLite script, PostgreSQL script)
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/sqlite/0001_init.sql"),
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "objectives",
        include_str!("../migrations/sqlite/0002_objectives.sql"),
        include_str!("../migrations/postgres/0002_objectives.sql"),
    ),
    (
        3,
        "operations",
        include_str!("../migrations/sqlite/0003_operations.sql"),
        include_str!("../migrations/postgres/0003_operations.sql"),
    ),
    (
        4,
        "probes",
        include_str!("../migrations/sqlite/0004_probes.sql"),
        include_str!("../migrations/postgres/0004_probes.sql"),
    ),
    (
        5,
        "lists",
        include_str!("../migrations/sqlite/0005_lists.sql"),
        include_str!("../migrations/postgres/0005_lists.sql"),
    ),
    (
        6,
        "day_chain",
        include_str!("../migrations/sqlite/0006_day_chain.sql"),
        include_str!("../migrations/postgres/0006_day_chain.sql"),
    ),
    (
        7,
        "alerts",
        include_str!("../migrations/sqlite/0007_alerts.sql"),
        include_str!("../migrations/postgres/0007_alerts.sql"),
    ),
    (
        8,
        "notifications",
        include_str!("../migrations/sqlite/0008_notifications.sql"),
        include_str!("../migrations/postgres/0008_notifications.sql"),
    ),
];

/// An arbitrary constant: the PostgreSQL advisory lock key replicas take while migrating.
pub(crate) const MIGRATION_LOCK_KEY: i64 = 0x510d_0001;

impl Store {
    /// Applies every migration not yet applied; safe to run from several replicas at once.
    /// Returns the versions it applied.
    pub async fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(MIGRATION_LOCK_KEY)
                .execute(&mut *tx.tx)
                .await?;
        }
        tx.tx
            .execute("CREATE TABLE IF NOT EXISTS slod_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)")
            .await?;
        let applied: Vec<i64> = sqlx::query("SELECT version FROM slod_migrations")
            .fetch_all(&mut *tx.tx)
            .await?
            .iter()
            .map(|row| row.try_get::<i64, _>("version"))
            .collect::<Result<_, _>>()?;
        let mut done = Vec::new();
        for &(version, name, sqlite, postgres) in MIGRATIONS {
            if applied.contains(&version) {
                continue;
            }
            let script = match self.backend {
                Backend::Sqlite => sqlite,
                Backend::Postgres => postgres,
            };
            sqlx::raw_sql(script).execute(&mut *tx.tx).await?;
            sqlx::query(
                "INSERT INTO slod_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(version)
            .bind(name)
            .bind(crate::ms(jiff::Timestamp::now()))
            .execute(&mut *tx.tx)
            .await?;
            done.push(version);
        }
        tx.commit().await?;
        Ok(done)
    }
}
