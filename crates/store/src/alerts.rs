//! Alerts with a lifecycle, and the silences that mute them.
//!
//! An alert is one episode of one condition: it fires, may move between `firing`, `inhibited`
//! and `silenced`, and resolves. Its fingerprint names the condition (subject, kind,
//! severity), so the next episode is a new row with the same fingerprint. Every change is
//! conditional on what the writer read: at most one active episode per fingerprint (a unique
//! index), and a move names the revision it was computed from. Two replicas evaluating the
//! same instant therefore record each transition once; the loser's write changes nothing.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::membership::{link_systems, one_with_systems, page_with_systems, parse_cursor};
use crate::membership::{require_existing, require_systems, Membership};
use crate::systems::Page;
use crate::{ms, new_id, stored, ts, Store, StoreError, Tx, MAX_PAGE};

macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        // `rename_all` rather than a `rename = $text` per variant: the OpenAPI derive does not
        // see a rename passed through a macro and would document the Rust names.
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The name as stored and sent.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),*
                }
            }

            /// The value named `text`, if any.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }
    };
}
pub(crate) use named_enum;

named_enum!(
    /// What an alert is about.
    SubjectType {
        Objective = "objective",
        System = "system",
        Incident = "incident",
    }
);

named_enum!(
    /// The condition an alert watches (engine.md, "Alerts").
    AlertKind {
        /// The multi-window burn rate of an objective (the SRE workbook's table).
        BurnRate = "burn_rate",
        /// At most 20 % of an objective's error budget is left, and it is not breaching.
        BudgetLow = "budget_low",
        /// An objective's availability is below its target.
        Breaching = "breaching",
        /// A system is unhealthy or degraded.
        Health = "health",
        /// An incident is open.
        Incident = "incident",
    }
);

named_enum!(
    /// Who should hear of an alert: a `page` wakes someone, a `ticket` waits for work hours
    /// (the SRE workbook's two severities).
    AlertSeverity {
        Page = "page",
        Ticket = "ticket",
    }
);

named_enum!(
    /// Where an alert is in its lifecycle. Only `firing` alerts are delivered; `inhibited` and
    /// `silenced` ones are recorded and visible.
    AlertState {
        Firing = "firing",
        /// Its condition holds, but mostly because of an upstream system that has an alert of
        /// its own (`inhibitedBy`).
        Inhibited = "inhibited",
        /// Its condition holds, but a silence or an in-progress maintenance window mutes it.
        Silenced = "silenced",
        /// Its condition stopped holding (for the resolve-after delay), or its subject is gone.
        Resolved = "resolved",
    }
);

named_enum!(
    /// What mutes a silenced alert.
    MuteSource {
        Silence = "silence",
        Maintenance = "maintenance",
    }
);

/// The subject of an alert: an objective, a system or an incident, by id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertSubject {
    #[serde(rename = "type")]
    pub subject_type: SubjectType,
    pub id: String,
}

/// The root cause an alert is inhibited by: an upstream system and its alert.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InhibitedBy {
    pub system_id: String,
    pub alert_id: String,
    pub kind: AlertKind,
    pub severity: AlertSeverity,
}

/// What mutes a silenced alert: a silence or a maintenance window, by id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SilencedBy {
    #[serde(rename = "type")]
    pub source: MuteSource,
    pub id: String,
}

/// One episode of an alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub id: String,
    /// 16 hex digits naming the condition (subject, kind, severity): equal for every episode
    /// of the same condition.
    pub fingerprint: String,
    pub subject: AlertSubject,
    /// The systems it is about (an objective's system, the system, an incident's systems),
    /// sorted.
    pub system_ids: Vec<String>,
    /// The objective, for objective alerts.
    pub objective_id: Option<String>,
    pub kind: AlertKind,
    pub severity: AlertSeverity,
    pub state: AlertState,
    /// The evaluation it fired at.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub starts_at: Timestamp,
    /// The evaluation it resolved at; `null` while active.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub ends_at: Option<Timestamp>,
    pub inhibited_by: Option<InhibitedBy>,
    pub silenced_by: Option<SilencedBy>,
    /// One line saying what holds, written when it fired.
    pub summary: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
    /// While active: since when the condition has been false (it resolves once that is older
    /// than the resolve-after delay).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub condition_false_since: Option<Timestamp>,
    /// 1 when it fires, bumped by every change: a change names the revision it was computed
    /// from, and a client can tell two reads of one alert apart by it.
    pub revision: i64,
}

impl Alert {
    /// Whether it has not resolved.
    pub fn is_active(&self) -> bool {
        self.ends_at.is_none()
    }
}

/// An alert that fires (its first state may be `inhibited` or `silenced`).
#[derive(Clone, Debug, PartialEq)]
pub struct NewAlert {
    /// Chosen by the evaluation, so alerts fired later in the same evaluation can name it.
    pub id: String,
    pub fingerprint: String,
    pub subject: AlertSubject,
    pub system_ids: Vec<String>,
    pub objective_id: Option<String>,
    pub kind: AlertKind,
    pub severity: AlertSeverity,
    pub state: AlertState,
    pub inhibited_by: Option<InhibitedBy>,
    pub silenced_by: Option<SilencedBy>,
    pub summary: String,
}

/// The next state of an active alert.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertMove {
    pub state: AlertState,
    pub inhibited_by: Option<InhibitedBy>,
    pub silenced_by: Option<SilencedBy>,
    pub condition_false_since: Option<Timestamp>,
}

/// Which alerts a list returns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct AlertFilter {
    pub state: Option<AlertState>,
    pub system_id: Option<String>,
    pub objective_id: Option<String>,
    pub kind: Option<AlertKind>,
}

named_enum!(
    /// Whether a silence mutes now.
    SilenceStatus {
        Active = "active",
        /// Its `until` has passed.
        Expired = "expired",
        /// Ended early (`DELETE /silences/{id}`).
        Ended = "ended",
    }
);

/// A silence: mutes the alerts that match every non-empty list until a time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Silence {
    pub id: String,
    /// Alerts about any of these systems; empty matches every system.
    pub system_ids: Vec<String>,
    /// Alerts of any of these objectives; empty matches every alert.
    pub objective_ids: Vec<String>,
    /// Alerts of any of these kinds; empty matches every kind.
    pub kinds: Vec<AlertKind>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub until: Timestamp,
    /// When it was ended early, if it was.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub ended_at: Option<Timestamp>,
    pub reason: String,
    /// The name of the token that created it (`admin` for the configured admin token).
    pub created_by: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// As of the read.
    pub status: SilenceStatus,
}

impl Silence {
    /// Whether it mutes at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.ended_at.is_none() && now < self.until
    }

    /// The same silence with its status as of `now` (a cached copy may have been read
    /// earlier).
    pub fn at(mut self, now: Timestamp) -> Self {
        self.status = if self.ended_at.is_some() {
            SilenceStatus::Ended
        } else if now < self.until {
            SilenceStatus::Active
        } else {
            SilenceStatus::Expired
        };
        self
    }

    /// Whether it matches an alert of `kind` about `system_ids` (and `objective`, if any):
    /// every non-empty list must contain the alert's value.
    pub fn matches(&self, system_ids: &[String], objective: Option<&str>, kind: AlertKind) -> bool {
        (self.system_ids.is_empty() || system_ids.iter().any(|s| self.system_ids.contains(s)))
            && (self.objective_ids.is_empty()
                || objective.is_some_and(|o| self.objective_ids.iter().any(|id| id == o)))
            && (self.kinds.is_empty() || self.kinds.contains(&kind))
    }
}

/// A silence to create (already validated: `until` in the future, known kinds).
#[derive(Clone, Debug)]
pub struct NewSilence {
    pub system_ids: Vec<String>,
    pub objective_ids: Vec<String>,
    pub kinds: Vec<AlertKind>,
    pub until: Timestamp,
    pub reason: String,
    pub created_by: String,
}

/// How alerts are read with their systems.
const ALERTS: Membership<Alert> = Membership {
    table: "alert_systems",
    column: "alert_id",
    from_row: alert_from_row,
    key: |a| (a.starts_at, &a.id),
};

pub(crate) fn json_column<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    column: &str,
) -> Result<T, sqlx::Error> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

pub(crate) fn optional_json_column<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    column: &str,
) -> Result<Option<T>, sqlx::Error> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| serde_json::from_str(&t).map_err(|e| sqlx::Error::Decode(Box::new(e))))
        .transpose()
}

pub(crate) fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("plain records always encode")
}

pub(crate) fn named<T>(text: String, parse: fn(&str) -> Option<T>) -> Result<T, sqlx::Error> {
    parse(&text).ok_or_else(|| sqlx::Error::Decode(format!("unknown value {text:?}").into()))
}

fn alert_from_row(row: &AnyRow, system_ids: Vec<String>) -> Result<Alert, sqlx::Error> {
    Ok(Alert {
        id: row.try_get("id")?,
        fingerprint: row.try_get("fingerprint")?,
        subject: AlertSubject {
            subject_type: named(row.try_get("subject_type")?, SubjectType::parse)?,
            id: row.try_get("subject_id")?,
        },
        system_ids,
        objective_id: row.try_get("objective_id")?,
        kind: named(row.try_get("kind")?, AlertKind::parse)?,
        severity: named(row.try_get("severity")?, AlertSeverity::parse)?,
        state: named(row.try_get("state")?, AlertState::parse)?,
        starts_at: ts(row.try_get("starts_at")?),
        ends_at: row.try_get::<Option<i64>, _>("ends_at")?.map(ts),
        inhibited_by: optional_json_column(row, "inhibited_by")?,
        silenced_by: optional_json_column(row, "silenced_by")?,
        summary: row.try_get("summary")?,
        updated_at: ts(row.try_get("updated_at")?),
        condition_false_since: row
            .try_get::<Option<i64>, _>("condition_false_since")?
            .map(ts),
        revision: row.try_get("revision")?,
    })
}

fn silence_from_row(row: &AnyRow) -> Result<Silence, sqlx::Error> {
    let silence = Silence {
        id: row.try_get("id")?,
        system_ids: json_column(row, "system_ids")?,
        objective_ids: json_column(row, "objective_ids")?,
        kinds: json_column(row, "kinds")?,
        until: ts(row.try_get("until")?),
        ended_at: row.try_get::<Option<i64>, _>("ended_at")?.map(ts),
        reason: row.try_get("reason")?,
        created_by: row.try_get("created_by")?,
        created_at: ts(row.try_get("created_at")?),
        status: SilenceStatus::Active,
    };
    Ok(silence.at(Timestamp::now()))
}

pub(crate) fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}

impl Tx {
    /// Records a new alert at `now`, unless an active episode of its fingerprint exists (then
    /// `None`: another evaluation recorded it first).
    pub async fn fire_alert(
        &mut self,
        new: &NewAlert,
        now: Timestamp,
    ) -> Result<Option<Alert>, StoreError> {
        let id = new.id.clone();
        let systems = sorted(&new.system_ids);
        let done = sqlx::query(
            "INSERT INTO alerts (id, fingerprint, subject_type, subject_id, objective_id, kind, severity, state, starts_at, ends_at, condition_false_since, inhibited_by, silenced_by, summary, updated_at, revision) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, $10, $11, $12, $9, 1) ON CONFLICT DO NOTHING",
        )
        .bind(&id)
        .bind(&new.fingerprint)
        .bind(new.subject.subject_type.as_str())
        .bind(&new.subject.id)
        .bind(new.objective_id.as_deref())
        .bind(new.kind.as_str())
        .bind(new.severity.as_str())
        .bind(new.state.as_str())
        .bind(ms(now))
        .bind(new.inhibited_by.as_ref().map(to_json))
        .bind(new.silenced_by.as_ref().map(to_json))
        .bind(&new.summary)
        .execute(&mut *self.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        link_systems(self, &ALERTS, &id, &systems).await?;
        Ok(Some(Alert {
            id,
            fingerprint: new.fingerprint.clone(),
            subject: new.subject.clone(),
            system_ids: systems,
            objective_id: new.objective_id.clone(),
            kind: new.kind,
            severity: new.severity,
            state: new.state,
            starts_at: stored(now),
            ends_at: None,
            inhibited_by: new.inhibited_by.clone(),
            silenced_by: new.silenced_by.clone(),
            summary: new.summary.clone(),
            updated_at: stored(now),
            condition_false_since: None,
            revision: 1,
        }))
    }

    /// Moves the active alert `read` (as last read) to `next` at `now`; a `resolved` move
    /// ends it at `now`. `None` if it changed since `read` (another evaluation moved it).
    pub async fn move_alert(
        &mut self,
        read: &Alert,
        next: &AlertMove,
        now: Timestamp,
    ) -> Result<Option<Alert>, StoreError> {
        let ends_at = (next.state == AlertState::Resolved).then_some(ms(now));
        let done = sqlx::query(
            "UPDATE alerts SET state = $1, inhibited_by = $2, silenced_by = $3, condition_false_since = $4, ends_at = $5, updated_at = $6, revision = revision + 1 \
             WHERE id = $7 AND revision = $8 AND ends_at IS NULL",
        )
        .bind(next.state.as_str())
        .bind(next.inhibited_by.as_ref().map(to_json))
        .bind(next.silenced_by.as_ref().map(to_json))
        .bind(next.condition_false_since.map(ms))
        .bind(ends_at)
        .bind(ms(now))
        .bind(&read.id)
        .bind(read.revision)
        .execute(&mut *self.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        Ok(Some(Alert {
            state: next.state,
            inhibited_by: next.inhibited_by.clone(),
            silenced_by: next.silenced_by.clone(),
            condition_false_since: next.condition_false_since.map(stored),
            ends_at: ends_at.map(ts),
            updated_at: stored(now),
            revision: read.revision + 1,
            ..read.clone()
        }))
    }

    /// Records a silence at `now`. Errors: an unknown system (`systemIds`) or objective
    /// (`objectiveIds`).
    pub async fn create_silence(
        &mut self,
        new: &NewSilence,
        now: Timestamp,
    ) -> Result<Silence, StoreError> {
        let system_ids = sorted(&new.system_ids);
        let objective_ids = sorted(&new.objective_ids);
        let mut kinds = new.kinds.clone();
        kinds.sort_unstable();
        kinds.dedup();
        require_systems(self, &system_ids).await?;
        self.require_objectives(&objective_ids).await?;
        let id = new_id();
        sqlx::query("INSERT INTO silences (id, system_ids, objective_ids, kinds, until, ended_at, reason, created_by, created_at) VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, $8)")
            .bind(&id)
            .bind(to_json(&system_ids))
            .bind(to_json(&objective_ids))
            .bind(to_json(&kinds))
            .bind(ms(new.until))
            .bind(&new.reason)
            .bind(&new.created_by)
            .bind(ms(now))
            .execute(&mut *self.tx)
            .await?;
        Ok(Silence {
            id,
            system_ids,
            objective_ids,
            kinds,
            until: stored(new.until),
            ended_at: None,
            reason: new.reason.clone(),
            created_by: new.created_by.clone(),
            created_at: stored(now),
            status: SilenceStatus::Active,
        }
        .at(now))
    }

    /// Ends a silence early at `now`; one already ended or expired is left as it is. `None`
    /// if it does not exist.
    pub async fn end_silence(
        &mut self,
        id: &str,
        now: Timestamp,
    ) -> Result<Option<Silence>, StoreError> {
        sqlx::query(
            "UPDATE silences SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL AND until > $1",
        )
        .bind(ms(now))
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        let row = sqlx::query("SELECT * FROM silences WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row
            .as_ref()
            .map(silence_from_row)
            .transpose()?
            .map(|s| s.at(now)))
    }

    /// Deletes resolved alerts and finished silences that ended before `before`; returns how
    /// many records went.
    pub async fn prune_alerts(&mut self, before: Timestamp) -> Result<u64, StoreError> {
        let alerts = sqlx::query("DELETE FROM alerts WHERE ends_at IS NOT NULL AND ends_at < $1")
            .bind(ms(before))
            .execute(&mut *self.tx)
            .await?;
        let silences = sqlx::query(
            "DELETE FROM silences WHERE until < $1 OR (ended_at IS NOT NULL AND ended_at < $1)",
        )
        .bind(ms(before))
        .execute(&mut *self.tx)
        .await?;
        Ok(alerts.rows_affected() + silences.rows_affected())
    }

    /// Fails with `invalid_input` on `objectiveIds` unless every id names an objective.
    async fn require_objectives(&mut self, ids: &[String]) -> Result<(), StoreError> {
        require_existing(self, "objectives", "objectiveIds", "objective", ids).await
    }
}

impl Store {
    /// Every active alert (not resolved), or those about `system`, latest started first, with
    /// their systems.
    pub async fn active_alerts(&self, system: Option<&str>) -> Result<Vec<Alert>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let sql = format!(
            "SELECT a.* FROM alerts a WHERE {} AND a.ends_at IS NULL ORDER BY a.starts_at DESC, a.id DESC",
            ALERTS.system_filter("a", system)
        );
        let rows = sqlx::query(&sql)
            .bind(system.unwrap_or(""))
            .fetch_all(&mut *conn)
            .await?;
        let count = rows.len();
        Ok(page_with_systems(&mut conn, &ALERTS, rows, count.max(1))
            .await?
            .items)
    }

    /// The alerts that resolved at or after `since`, with their systems.
    pub async fn alerts_ended_since(&self, since: Timestamp) -> Result<Vec<Alert>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(
            "SELECT a.* FROM alerts a WHERE a.ends_at IS NOT NULL AND a.ends_at >= $1 ORDER BY a.ends_at DESC, a.id DESC",
        )
        .bind(ms(since))
        .fetch_all(&mut *conn)
        .await?;
        let count = rows.len();
        Ok(page_with_systems(&mut conn, &ALERTS, rows, count.max(1))
            .await?
            .items)
    }

    /// One alert.
    pub async fn get_alert(&self, id: &str) -> Result<Option<Alert>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let row = sqlx::query("SELECT * FROM alerts WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        one_with_systems(&mut conn, &ALERTS, row, id).await
    }

    /// Alerts matching `filter`, latest started first, `limit` at a time after `cursor`.
    pub async fn list_alerts(
        &self,
        filter: &AlertFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Alert>, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let (at, after_id) = parse_cursor(cursor);
        let sql = format!(
            "SELECT a.* FROM alerts a WHERE {} AND ($2 = '' OR a.state = $2) AND ($3 = '' OR a.objective_id = $3) AND ($4 = '' OR a.kind = $4) \
             AND (a.starts_at < $5 OR (a.starts_at = $5 AND a.id < $6)) ORDER BY a.starts_at DESC, a.id DESC LIMIT $7",
            ALERTS.system_filter("a", filter.system_id.as_deref())
        );
        let rows = sqlx::query(&sql)
            .bind(filter.system_id.as_deref().unwrap_or(""))
            .bind(filter.state.map_or("", AlertState::as_str))
            .bind(filter.objective_id.as_deref().unwrap_or(""))
            .bind(filter.kind.map_or("", AlertKind::as_str))
            .bind(at)
            .bind(&after_id)
            .bind(limit as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        page_with_systems(&mut *self.pool.acquire().await?, &ALERTS, rows, limit).await
    }

    /// One silence.
    pub async fn get_silence(&self, id: &str) -> Result<Option<Silence>, StoreError> {
        let row = sqlx::query("SELECT * FROM silences WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(silence_from_row).transpose()?)
    }

    /// Silences, latest created first, `limit` at a time after `cursor`.
    pub async fn list_silences(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Silence>, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let (at, after_id) = parse_cursor(cursor);
        let rows = sqlx::query("SELECT * FROM silences WHERE created_at < $1 OR (created_at = $1 AND id < $2) ORDER BY created_at DESC, id DESC LIMIT $3")
            .bind(at)
            .bind(&after_id)
            .bind(limit as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        let more = rows.len() > limit;
        let items = rows[..rows.len().min(limit)]
            .iter()
            .map(silence_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = more
            .then(|| {
                items
                    .last()
                    .map(|s| format!("{}:{}", ms(s.created_at), s.id))
            })
            .flatten();
        Ok(Page { items, next_cursor })
    }

    /// The silences that mute at `now`.
    pub async fn active_silences(&self, now: Timestamp) -> Result<Vec<Silence>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM silences WHERE ended_at IS NULL AND until > $1 ORDER BY created_at, id",
        )
        .bind(ms(now))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(silence_from_row)
            .collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The name stored in the database is the name the API sends and documents.
    #[test]
    fn every_named_value_is_sent_by_its_stored_name() {
        fn check<T: Serialize + Copy>(all: &[T], name: fn(T) -> &'static str) {
            for &value in all {
                assert_eq!(serde_json::to_value(value).unwrap(), name(value));
            }
        }
        check(SubjectType::ALL, SubjectType::as_str);
        check(AlertKind::ALL, AlertKind::as_str);
        check(AlertSeverity::ALL, AlertSeverity::as_str);
        check(AlertState::ALL, AlertState::as_str);
        check(MuteSource::ALL, MuteSource::as_str);
        check(SilenceStatus::ALL, SilenceStatus::as_str);
    }
}
