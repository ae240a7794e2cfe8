//! `slod-store`: everything slod persists, behind one `Store` API over two backends.
//!
//! SQLite is the embedded default (one file, created on first start, WAL mode); PostgreSQL lets
//! several replicas share one database. Both run the same SQL through sqlx's `Any` driver:
//! times are epoch milliseconds and booleans 0/1, so every value is an integer, a float or
//! text on both. Where the dialects differ (row locks), the code says so.
//!
//! Writes that must not interleave per system (recording results, which moves the health
//! timeline) lock the system's row on PostgreSQL, which holds across replicas; on SQLite, which
//! is one process by definition, they take an in-process lock.

mod alerts;
mod bookkeeping;
mod checks;
mod incidents;
mod maintenance;
mod membership;
mod migrate;
mod model;
mod notifications;
mod objectives;
mod results;
mod systems;
mod tokens;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

pub use alerts::{
    Alert, AlertFilter, AlertKind, AlertMove, AlertSeverity, AlertState, AlertSubject, InhibitedBy,
    MuteSource, NewAlert, NewSilence, Silence, SilenceStatus, SilencedBy, SubjectType,
};
pub use model::*;
pub use notifications::{
    Attempt, Channel, ChannelKind, Claimed, Delivery, DeliveryFilter, DeliveryStatus, NewChannel,
    NewDelivery, NewPolicy, NotifyEvent, Policy,
};
pub use objectives::TimelineSet;
pub use systems::{Page, MAX_PAGE};

/// What went wrong in the store, in terms a caller can answer with a status code.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The named entity does not exist.
    #[error("{kind} {id:?} not found")]
    NotFound { kind: &'static str, id: String },
    /// The change contradicts stored data (duplicate id, dependency cycle, out-of-order result).
    #[error("{0}")]
    Conflict(String),
    /// A field refers to something that does not exist.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The database failed or is unreachable.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// Whether the database could not be reached (rather than refusing this statement): the
    /// caller may answer "unavailable, try again" instead of "internal error".
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Database(
                sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::WorkerCrashed
            )
        )
    }

    /// Whether the database's disk is full (SQLite's SQLITE_FULL, PostgreSQL's `disk_full`):
    /// nothing was written, and writes may work again once space is freed.
    pub fn is_storage_full(&self) -> bool {
        self.code_is(|code| code == "13", |state| state == "53100")
    }

    /// Whether the database refuses writes because it is read-only (a read-only file or
    /// mount, a read-only PostgreSQL standby).
    pub fn is_read_only(&self) -> bool {
        // SQLite reports its extended code: SQLITE_READONLY (8) in the low byte.
        self.code_is(
            |code| code.parse::<i64>().is_ok_and(|c| c & 0xff == 8),
            |state| state == "25006",
        )
    }

    /// Whether the database's error code passes `sqlite` (SQLite's numeric result code) or
    /// `postgres` (PostgreSQL's SQLSTATE).
    fn code_is(&self, sqlite: impl Fn(&str) -> bool, postgres: impl Fn(&str) -> bool) -> bool {
        let StoreError::Database(sqlx::Error::Database(e)) = self else {
            return false;
        };
        let Some(code) = e.code() else {
            return false;
        };
        if e.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
            sqlite(&code)
        } else {
            postgres(&code)
        }
    }

    pub(crate) fn not_found(kind: &'static str, id: &str) -> Self {
        StoreError::NotFound {
            kind,
            id: id.to_owned(),
        }
    }
}

/// Which database is behind the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How long a caller waits for a connection by default before the store answers that the
/// database is unavailable.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How to open a store.
#[derive(Clone, Debug, Default)]
pub struct StoreOptions {
    /// On PostgreSQL, keep every table in this schema (created if missing). Lets test runs and
    /// deployments share one database without colliding.
    pub pg_schema: Option<String>,
    /// Pool size; a default suited to the backend when `None`.
    pub max_connections: Option<u32>,
}

/// The one storage API. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The PostgreSQL schema slod's tables live in, when one was chosen.
    schema: Option<String>,
    /// SQLite only: serializes write transactions (SQLite has one writer anyway; taking turns
    /// here avoids busy errors instead of retrying them).
    write_lock: Option<Arc<Mutex<()>>>,
}

/// A write transaction. Every change to stored data is a method of `Tx`, so the caller decides
/// what one unit of work is (one API call, one applied config, one alert transition) and
/// commits it once; dropping a `Tx` without [`Tx::commit`] rolls everything back. On SQLite it
/// also holds the process's write lock until it ends.
pub struct Tx {
    pub(crate) tx: Transaction<'static, Any>,
    pub(crate) backend: Backend,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl Tx {
    /// Makes every change of this transaction durable and visible at once.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }

    /// The backend the transaction runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Serializes writes to one system's timeline: a row lock on PostgreSQL (holds across
    /// replicas); on SQLite the write lock is already held. Fails if the system is gone.
    pub(crate) async fn lock_system(&mut self, system_id: &str) -> Result<(), StoreError> {
        let sql = match self.backend {
            Backend::Postgres => "SELECT id FROM systems WHERE id = $1 FOR UPDATE",
            Backend::Sqlite => "SELECT id FROM systems WHERE id = $1",
        };
        let found = sqlx::query(sql)
            .bind(system_id)
            .fetch_optional(&mut *self.tx)
            .await?;
        found
            .map(|_| ())
            .ok_or_else(|| StoreError::not_found("system", system_id))
    }
}

pub(crate) fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

/// `t` at the precision the store keeps (milliseconds), so what a write returns equals what a
/// later read returns.
pub(crate) fn stored(t: Timestamp) -> Timestamp {
    ts(ms(t))
}

pub(crate) fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn is_valid_schema_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Store {
    /// Opens (and for SQLite, creates) the database at `url`: `sqlite://path` or
    /// `postgres://...`. Does not migrate; call [`Store::migrate`].
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Store::open_with(url, StoreOptions::default()).await
    }

    /// Opens with explicit options.
    pub async fn open_with(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        Store::open_with_acquire_timeout(url, options, DEFAULT_ACQUIRE_TIMEOUT).await
    }

    /// Opens with explicit options, waiting at most `acquire_timeout` for a connection: how
    /// long a caller waits before learning the database is unreachable
    /// ([`StoreError::is_unavailable`]).
    pub async fn open_with_acquire_timeout(
        url: &str,
        options: StoreOptions,
        acquire_timeout: Duration,
    ) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Invalid {
                field: "databaseUrl".into(),
                message: format!("expected sqlite://... or postgres://..., got {url:?}"),
            });
        };
        let url = match backend {
            // Create the file on first start.
            Backend::Sqlite if !url.contains('?') && !url.contains(":memory:") => {
                format!("{url}?mode=rwc")
            }
            _ => url.to_owned(),
        };
        let connect = AnyConnectOptions::from_str(&url)?;
        let schema = match (&options.pg_schema, backend) {
            (Some(schema), Backend::Postgres) => {
                if !is_valid_schema_name(schema) {
                    return Err(StoreError::Invalid {
                        field: "pgSchema".into(),
                        message: "expected [a-z0-9_]{1,63}".into(),
                    });
                }
                let setup = AnyPoolOptions::new()
                    .max_connections(1)
                    .connect_with(connect.clone())
                    .await?;
                // Replicas starting together would race on CREATE SCHEMA IF NOT EXISTS (it
                // can fail with a duplicate key), so they take turns under the migrations' lock.
                let mut conn = setup.acquire().await?;
                sqlx::query("SELECT pg_advisory_lock($1)")
                    .bind(migrate::MIGRATION_LOCK_KEY)
                    .execute(&mut *conn)
                    .await?;
                let created = conn
                    .execute(format!("CREATE SCHEMA IF NOT EXISTS {schema}").as_str())
                    .await;
                sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(migrate::MIGRATION_LOCK_KEY)
                    .execute(&mut *conn)
                    .await?;
                created?;
                drop(conn);
                setup.close().await;
                Some(schema.clone())
            }
            _ => None,
        };
        if backend == Backend::Sqlite {
            // The pool retries a failing connection until its timeout and then reports only
            // the timeout; one direct connection first says why (a read-only file system, a
            // directory that does not exist, a full disk).
            let mut probe =
                <sqlx::AnyConnection as sqlx::Connection>::connect_with(&connect).await?;
            probe.execute("PRAGMA journal_mode = WAL").await?;
            sqlx::Connection::close(probe).await?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(options.max_connections.unwrap_or(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            }))
            .acquire_timeout(acquire_timeout)
            .after_connect(move |conn, _meta| {
                let schema = schema.clone();
                Box::pin(async move {
                    match (backend, schema) {
                        (Backend::Sqlite, _) => {
                            conn.execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;").await?;
                        }
                        (Backend::Postgres, Some(schema)) => {
                            conn.execute(format!("SET search_path TO {schema}").as_str()).await?;
                        }
                        (Backend::Postgres, None) => {}
                    }
                    Ok(())
                })
            })
            .connect_with(connect)
            .await?;
        let write_lock = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Store {
            pool,
            backend,
            schema: options.pg_schema.filter(|_| backend == Backend::Postgres),
            write_lock,
        })
    }

    /// The backend behind this store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The PostgreSQL schema slod's tables live in, if one was chosen.
    pub fn pg_schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The pool's connections: (open, idle). For the operations metrics.
    pub fn pool_connections(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection (waits for those in use).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Begins a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`, waiting up to the busy timeout): a deferred transaction that reads first
    /// and then writes fails at once with SQLITE_BUSY when another connection to the file (a
    /// `slod jobs run` beside a running service, say) committed in between, a conflict the
    /// in-process lock cannot see.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let turn = match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(Tx {
            tx,
            backend: self.backend,
            _turn: turn,
        })
    }
}

/// A new random id.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
