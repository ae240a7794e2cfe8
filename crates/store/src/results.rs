//! Recording check results, and the health timeline they move.
//!
//! Every result is applied at its own time (`at`, which may lie in the past for back-fill): it
//! moves its check's timeline and re-rolls the system's health, opening or closing the system's
//! down interval at that time. All of it happens in one transaction under the system's lock, so
//! concurrent ingest for one system (even on several replicas) serializes, and the database's
//! unique partial indexes guarantee at most one open interval per system and per check.

use std::collections::HashMap;

use jiff::Timestamp;
use slod_engine::health::{rollup, rollup_timeline, transition, CheckState, Transition};
use slod_engine::{CheckStatus, DownInterval, DownSource, Health};
use sqlx::Row;

use crate::checks::{check_from_row, parse_status};
use crate::{
    ms, ts, CheckHealth, CheckResult, HealthMove, Ingested, NewResult, Store, StoreError,
    SystemHealth, Tx,
};

/// How far in the future a result's `at` may lie (clock skew between agent and server).
pub const MAX_FUTURE_SKEW_MS: i64 = 60_000;

fn health_str(h: Health) -> &'static str {
    match h {
        Health::Healthy => "healthy",
        Health::Degraded => "degraded",
        Health::Unhealthy => "unhealthy",
        Health::Unknown => "unknown",
    }
}

fn parse_health(s: &str) -> Health {
    match s {
        "healthy" => Health::Healthy,
        "degraded" => Health::Degraded,
        "unhealthy" => Health::Unhealthy,
        _ => Health::Unknown,
    }
}

/// A check's open interval: its row id and its worst status so far.
#[derive(Clone, Copy)]
struct Open {
    id: i64,
    worst: CheckStatus,
}

fn source_str(source: DownSource) -> &'static str {
    match source {
        DownSource::Healthcheck => "healthcheck",
        DownSource::Incident => "incident",
    }
}

/// A system's timeline state, loaded under its lock: each check's state and open interval
/// (moved result by result), the system's health; the system's own intervals are derived
/// (`derive_from`).
struct Timeline {
    system_id: String,
    /// check id -> (enabled, latest status)
    checks: HashMap<String, CheckState>,
    check_open: HashMap<String, Open>,
    /// An open incident with `healthOverride` holds the system unhealthy.
    incident_override: bool,
    health: Health,
    since: Option<i64>,
    last_transition: Option<i64>,
    changed: bool,
}

impl Timeline {
    async fn load(w: &mut Tx, system_id: &str) -> Result<Timeline, StoreError> {
        let mut checks = HashMap::new();
        for row in sqlx::query("SELECT id, enabled, latest_status FROM checks WHERE system_id = $1")
            .bind(system_id)
            .fetch_all(&mut *w.tx)
            .await?
        {
            let latest: Option<String> = row.try_get("latest_status")?;
            checks.insert(
                row.try_get::<String, _>("id")?,
                CheckState {
                    enabled: row.try_get::<i64, _>("enabled")? != 0,
                    latest: latest.as_deref().and_then(parse_status),
                },
            );
        }
        let mut check_open = HashMap::new();
        for row in sqlx::query("SELECT id, check_id, worst FROM down_intervals WHERE system_id = $1 AND check_id IS NOT NULL AND end_at IS NULL")
            .bind(system_id)
            .fetch_all(&mut *w.tx)
            .await?
        {
            let worst: String = row.try_get("worst")?;
            check_open.insert(
                row.try_get::<String, _>("check_id")?,
                Open {
                    id: row.try_get("id")?,
                    worst: parse_status(&worst).unwrap_or(CheckStatus::Unhealthy),
                },
            );
        }
        let row = sqlx::query(
            "SELECT status, since, last_transition FROM system_health WHERE system_id = $1",
        )
        .bind(system_id)
        .fetch_optional(&mut *w.tx)
        .await?;
        let (health, since, last_transition) = match row {
            Some(row) => (
                parse_health(&row.try_get::<String, _>("status")?),
                row.try_get("since")?,
                row.try_get("last_transition")?,
            ),
            None => (Health::Unknown, None, None),
        };
        let incident_override = sqlx::query(
            "SELECT i.id FROM incidents i JOIN incident_systems s ON s.incident_id = i.id WHERE s.system_id = $1 AND i.health_override = 1 AND i.resolved_at IS NULL LIMIT 1",
        )
        .bind(system_id)
        .fetch_optional(&mut *w.tx)
        .await?
        .is_some();
        Ok(Timeline {
            system_id: system_id.to_owned(),
            checks,
            check_open,
            incident_override,
            health,
            since,
            last_transition,
            changed: false,
        })
    }

    /// Applies `transition` to a check's timeline.
    async fn apply(
        w: &mut Tx,
        system_id: &str,
        check: &str,
        open: &mut Option<Open>,
        change: Transition,
        at: i64,
    ) -> Result<bool, StoreError> {
        match change {
            Transition::Open(worst) => {
                let row = sqlx::query(
                    "INSERT INTO down_intervals (system_id, check_id, start_at, end_at, worst, source) VALUES ($1, $2, $3, NULL, $4, 'healthcheck') RETURNING id",
                )
                .bind(system_id)
                .bind(check)
                .bind(at)
                .bind(worst.as_str())
                .fetch_one(&mut *w.tx)
                .await?;
                *open = Some(Open {
                    id: row.try_get("id")?,
                    worst,
                });
            }
            Transition::Worsen(worst) => {
                let current = open.as_mut().expect("worsen applies to an open interval");
                sqlx::query("UPDATE down_intervals SET worst = $1 WHERE id = $2")
                    .bind(worst.as_str())
                    .bind(current.id)
                    .execute(&mut *w.tx)
                    .await?;
                current.worst = worst;
            }
            Transition::Close => {
                let current = open.take().expect("close applies to an open interval");
                sqlx::query("UPDATE down_intervals SET end_at = $1 WHERE id = $2")
                    .bind(at)
                    .bind(current.id)
                    .execute(&mut *w.tx)
                    .await?;
            }
            Transition::None => return Ok(false),
        }
        Ok(true)
    }

    /// Follows the rolled-up health through a result at `at` (the timeline is derived
    /// separately): a new status starts its `since` there; `unknown` keeps the last known.
    fn follow_health(&mut self, at: i64) {
        let states: Vec<CheckState> = self.checks.values().copied().collect();
        let health = rollup(&states, self.incident_override);
        if health != self.health && health != Health::Unknown {
            self.health = health;
            self.since = Some(at);
        }
    }

    /// Replaces the system's down intervals from `from` on with the roll-up of its checks'
    /// intervals and its override incidents (`slod_engine::health::rollup_timeline`), keeping
    /// the start of one that began earlier and is still down at `from`. Writes nothing when
    /// the roll-up equals what is stored; returns whether it changed anything.
    async fn derive_from(&mut self, w: &mut Tx, from: i64) -> Result<bool, StoreError> {
        let checks: Vec<DownInterval> = sqlx::query(
            "SELECT start_at, end_at, worst, source FROM down_intervals WHERE system_id = $1 AND check_id IS NOT NULL AND (end_at IS NULL OR end_at > $2)",
        )
        .bind(&self.system_id)
        .bind(from)
        .fetch_all(&mut *w.tx)
        .await?
        .iter()
        .map(interval_from_row)
        .collect::<Result<_, _>>()?;
        let overrides: Vec<(Timestamp, Option<Timestamp>)> = sqlx::query(
            "SELECT i.opened_at, i.resolved_at FROM incidents i JOIN incident_systems s ON s.incident_id = i.id WHERE s.system_id = $1 AND i.health_override = 1 AND (i.resolved_at IS NULL OR i.resolved_at > $2)",
        )
        .bind(&self.system_id)
        .bind(from)
        .fetch_all(&mut *w.tx)
        .await?
        .iter()
        .map(|row| {
            Ok((
                ts(row.try_get("opened_at")?),
                row.try_get::<Option<i64>, _>("resolved_at")?.map(ts),
            ))
        })
        .collect::<Result<_, sqlx::Error>>()?;
        let stored = sqlx::query(
            "SELECT id, start_at, end_at, worst, source FROM down_intervals WHERE system_id = $1 AND check_id IS NULL AND (end_at IS NULL OR end_at > $2) ORDER BY start_at",
        )
        .bind(&self.system_id)
        .bind(from)
        .fetch_all(&mut *w.tx)
        .await?;
        let stored_ids: Vec<i64> = stored
            .iter()
            .map(|row| row.try_get("id"))
            .collect::<Result<_, _>>()?;
        let stored: Vec<DownInterval> = stored
            .iter()
            .map(interval_from_row)
            .collect::<Result<_, _>>()?;
        let mut derived = rollup_timeline(ts(from), &checks, &overrides);
        // One that began before `from`: still down at `from`, it goes on; otherwise it ended.
        if let Some(earlier) = stored.first().filter(|i| i.start < ts(from)) {
            match derived.first_mut().filter(|d| d.start == ts(from)) {
                Some(first) => {
                    first.start = earlier.start;
                    first.worst = first.worst.max(earlier.worst);
                    first.source = first.source.max(earlier.source);
                }
                None => derived.insert(
                    0,
                    DownInterval {
                        end: Some(ts(from)),
                        ..earlier.clone()
                    },
                ),
            }
        }
        if derived == stored {
            return Ok(false);
        }
        for id in stored_ids {
            sqlx::query("DELETE FROM down_intervals WHERE id = $1")
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
        }
        for interval in &derived {
            sqlx::query(
                "INSERT INTO down_intervals (system_id, check_id, start_at, end_at, worst, source) VALUES ($1, NULL, $2, $3, $4, $5)",
            )
            .bind(&self.system_id)
            .bind(ms(interval.start))
            .bind(interval.end.map(ms))
            .bind(interval.worst.as_str())
            .bind(source_str(interval.source))
            .execute(&mut *w.tx)
            .await?;
        }
        let last_change = derived
            .iter()
            .flat_map(|i| [Some(i.start), i.end])
            .flatten()
            .map(ms)
            .max();
        self.last_transition = self.last_transition.max(last_change);
        Ok(true)
    }

    async fn save(&self, w: &mut Tx) -> Result<(), StoreError> {
        sqlx::query("UPDATE system_health SET status = $1, since = $2, last_transition = $3 WHERE system_id = $4")
            .bind(health_str(self.health))
            .bind(self.since)
            .bind(self.last_transition)
            .bind(&self.system_id)
            .execute(&mut *w.tx)
            .await?;
        Ok(())
    }
}

impl Tx {
    /// Records `results` of a check, in time order, and moves the health timelines.
    ///
    /// A result older than the check's latest (or than the one before it in the batch) is a
    /// conflict, and so is one more than a minute in the future; either way nothing is recorded.
    /// A result without `at` is recorded at `now`, or at the check's latest if that is later.
    pub async fn record_results(
        &mut self,
        check_id: &str,
        results: &[NewResult],
        now: Timestamp,
    ) -> Result<Ingested, StoreError> {
        let system_id: String = sqlx::query("SELECT system_id FROM checks WHERE id = $1")
            .bind(check_id)
            .fetch_optional(&mut *self.tx)
            .await?
            .ok_or_else(|| StoreError::not_found("check", check_id))?
            .try_get("system_id")?;
        self.lock_system(&system_id).await?;
        let w = self;
        // Read under the lock: another writer may have moved the check meanwhile.
        let check_row = sqlx::query("SELECT latest_at FROM checks WHERE id = $1")
            .bind(check_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or_else(|| StoreError::not_found("check", check_id))?;
        let mut previous: Option<i64> = check_row.try_get("latest_at")?;
        let now_ms = ms(now);
        let mut times = Vec::with_capacity(results.len());
        for (i, result) in results.iter().enumerate() {
            // A result without a time takes the instant it is recorded: never before the
            // check's latest, which a writer that took the lock first may have set after
            // `now` was read (concurrent pushes to one check must not conflict).
            let at = result
                .at
                .map_or_else(|| previous.map_or(now_ms, |p| p.max(now_ms)), ms);
            if at > now_ms + MAX_FUTURE_SKEW_MS {
                return Err(StoreError::Invalid {
                    field: format!("results[{i}].at"),
                    message: "lies more than a minute in the future".into(),
                });
            }
            if let Some(previous) = previous.filter(|p| at < *p) {
                return Err(StoreError::Conflict(format!(
                    "result {i} at {} is older than the check's previous result at {}",
                    ts(at),
                    ts(previous)
                )));
            }
            previous = Some(at);
            times.push(at);
        }

        let mut timeline = Timeline::load(w, &system_id).await?;
        let health_before = timeline.health;
        for (result, &at) in results.iter().zip(&times) {
            // Not cached as a prepared statement: through the Any driver, PostgreSQL keeps the
            // parameter type of the first execution, and a NULL latency there makes a later
            // float fail to decode ("incorrect binary data format in bind parameter 4").
            sqlx::query("INSERT INTO check_results (check_id, status, at, latency_ms, message) VALUES ($1, $2, $3, $4, $5)")
                .persistent(false)
                .bind(check_id)
                .bind(result.status.as_str())
                .bind(at)
                .bind(result.latency_ms)
                .bind(&result.message)
                .execute(&mut *w.tx)
                .await?;
            // A disabled check's results are kept, but nobody watches it: its timeline stays.
            let enabled = timeline.checks.get(check_id).is_some_and(|c| c.enabled);
            if enabled {
                let mut open = timeline.check_open.remove(check_id);
                let change = transition(open.map(|o| o.worst), result.status.into());
                if Timeline::apply(w, &system_id, check_id, &mut open, change, at).await? {
                    timeline.changed = true;
                }
                if let Some(open) = open {
                    timeline.check_open.insert(check_id.to_owned(), open);
                }
            }
            if let Some(state) = timeline.checks.get_mut(check_id) {
                state.latest = Some(result.status);
            }
            timeline.follow_health(at);
        }
        // The system's timeline is the roll-up of its checks' and its overrides', re-derived
        // over the span these results touch: a back-filled result on one check never erases
        // what another recorded later.
        if let Some(&from) = times.first() {
            if timeline.derive_from(w, from).await? {
                timeline.changed = true;
            }
        }
        if let (Some(last), Some(&at)) = (results.last(), times.last()) {
            sqlx::query("UPDATE checks SET latest_status = $1, latest_at = $2 WHERE id = $3")
                .bind(last.status.as_str())
                .bind(at)
                .bind(check_id)
                .execute(&mut *w.tx)
                .await?;
        }
        timeline.save(w).await?;
        Ok(Ingested {
            accepted: results.len(),
            health: HealthMove {
                system_id,
                before: health_before,
                after: timeline.health,
                timeline_changed: timeline.changed,
            },
        })
    }

    /// Re-rolls a system's health and timeline at `now` (the caller holds its lock) after its
    /// set of checks or its override incidents changed. Returns how they moved.
    pub(crate) async fn reroll_health(
        &mut self,
        system_id: &str,
        now: Timestamp,
    ) -> Result<HealthMove, StoreError> {
        let mut timeline = Timeline::load(self, system_id).await?;
        let before = timeline.health;
        // The timeline from now on is rolled up from the checks that remain and the override
        // incidents: an outage only a removed, disabled or resolved source held ends now.
        if timeline.derive_from(self, ms(now)).await? {
            timeline.changed = true;
        }
        // So is the health. With no enabled check and no override left, nobody watches the
        // system: it is unknown (unlike a silent agent's, its open outage closed above).
        let states: Vec<CheckState> = timeline.checks.values().copied().collect();
        let health = rollup(&states, timeline.incident_override);
        if health != timeline.health {
            timeline.health = health;
            timeline.since = Some(ms(now));
        }
        timeline.save(self).await?;
        Ok(HealthMove {
            system_id: system_id.to_owned(),
            before,
            after: timeline.health,
            timeline_changed: timeline.changed,
        })
    }
}

impl Store {
    /// A check's results in `[from, to]`, newest first, at most `limit`.
    pub async fn list_results(
        &self,
        check_id: &str,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<CheckResult>, StoreError> {
        if self.get_check(check_id).await?.is_none() {
            return Err(StoreError::not_found("check", check_id));
        }
        let rows = sqlx::query(
            "SELECT status, at, latency_ms, message FROM check_results WHERE check_id = $1 AND at >= $2 AND at <= $3 ORDER BY at DESC, id DESC LIMIT $4",
        )
        .bind(check_id)
        .bind(from.map_or(i64::MIN, ms))
        .bind(to.map_or(i64::MAX, ms))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let status: String = row.try_get("status")?;
                Ok(CheckResult {
                    check_id: check_id.to_owned(),
                    status: parse_status(&status).unwrap_or(CheckStatus::Unhealthy),
                    at: ts(row.try_get("at")?),
                    latency_ms: row.try_get("latency_ms")?,
                    message: row.try_get("message")?,
                })
            })
            .collect()
    }

    /// Every system's rolled-up health, by system id (one query): the systems alert
    /// evaluation walks.
    pub async fn all_health(&self) -> Result<HashMap<String, Health>, StoreError> {
        let rows = sqlx::query("SELECT system_id, status FROM system_health")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("system_id")?,
                    parse_health(&row.try_get::<String, _>("status")?),
                ))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// A system's rolled-up health with each check's part, or `None` if it does not exist.
    pub async fn system_health(&self, system_id: &str) -> Result<Option<SystemHealth>, StoreError> {
        let Some(row) = sqlx::query("SELECT status, since FROM system_health WHERE system_id = $1")
            .bind(system_id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let checks =
            sqlx::query("SELECT * FROM checks WHERE system_id = $1 ORDER BY created_at, id")
                .bind(system_id)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|row| {
                    let c = check_from_row(row)?;
                    Ok(CheckHealth {
                        check_id: c.id,
                        name: c.name,
                        kind: c.kind,
                        enabled: c.enabled,
                        status: c.latest_status,
                        at: c.latest_at,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(Some(SystemHealth {
            system_id: system_id.to_owned(),
            status: parse_health(&row.try_get::<String, _>("status")?),
            since: row.try_get::<Option<i64>, _>("since")?.map(ts),
            checks,
        }))
    }

    /// The down intervals of a system (or, with `check_id`, of one check) that end after
    /// `since` or are still open, oldest first.
    pub async fn down_intervals(
        &self,
        system_id: &str,
        check_id: Option<&str>,
        since: Timestamp,
    ) -> Result<Vec<DownInterval>, StoreError> {
        let rows = match check_id {
            None => sqlx::query(
                "SELECT start_at, end_at, worst, source FROM down_intervals WHERE system_id = $1 AND check_id IS NULL AND (end_at IS NULL OR end_at > $2) ORDER BY start_at",
            )
            .bind(system_id)
            .bind(ms(since)),
            Some(check) => sqlx::query(
                "SELECT start_at, end_at, worst, source FROM down_intervals WHERE check_id = $1 AND (end_at IS NULL OR end_at > $2) ORDER BY start_at",
            )
            .bind(check)
            .bind(ms(since)),
        }
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(interval_from_row)
            .collect::<Result<_, _>>()?)
    }
}

/// A down interval from a row with `start_at, end_at, worst, source`.
pub(crate) fn interval_from_row(row: &sqlx::any::AnyRow) -> Result<DownInterval, sqlx::Error> {
    let worst: String = row.try_get("worst")?;
    let source: String = row.try_get("source")?;
    Ok(DownInterval {
        start: ts(row.try_get("start_at")?),
        end: row.try_get::<Option<i64>, _>("end_at")?.map(ts),
        worst: parse_status(&worst).unwrap_or(CheckStatus::Unhealthy),
        source: parse_source(&source),
    })
}

fn parse_source(s: &str) -> DownSource {
    if s == "incident" {
        DownSource::Incident
    } else {
        DownSource::Healthcheck
    }
}
