//! Notifications: channels (where alerts go), policies (which alerts each channel hears) and
//! the outbox of deliveries.
//!
//! A delivery is written by the same transaction as the alert transition it announces, so a
//! committed transition always has its deliveries. Workers on any replica claim due rows under
//! a lease (`claimed_until`, and `FOR UPDATE SKIP LOCKED` on PostgreSQL so two workers never
//! wait on or take the same row) and record each attempt against their claim: a worker whose
//! lease lapsed records nothing, and the row goes out again with the same idempotency key.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::alerts::{json_column, named, named_enum, sorted, to_json};
use crate::alerts::{AlertKind, AlertSeverity};
use crate::membership::{parse_cursor, require_existing, require_systems};
use crate::objectives::placeholders;
use crate::systems::Page;
use crate::{ms, new_id, stored, ts, Backend, Store, StoreError, Tx, MAX_PAGE};

named_enum!(
    /// Where a channel sends.
    ChannelKind {
        /// A JSON POST, signed with HMAC-SHA256 when the channel has a secret.
        Webhook = "webhook",
        /// Alertmanager's `POST /api/v2/alerts`.
        Alertmanager = "alertmanager",
        /// A Slack incoming webhook.
        Slack = "slack",
        /// SMTP.
        Email = "email",
    }
);

named_enum!(
    /// What a delivery announces.
    NotifyEvent {
        /// The alert started firing (or became firing after being inhibited or silenced).
        Firing = "firing",
        /// The alert resolved; sent only to channels that heard it fire.
        Resolved = "resolved",
        /// Still firing after the policy's repeat interval.
        Repeat = "repeat",
    }
);

named_enum!(
    /// Where a delivery is.
    DeliveryStatus {
        /// Not yet accepted by the receiver; `nextAttemptAt` says when it goes (again).
        Pending = "pending",
        /// The receiver accepted it (a 2xx, or the SMTP server took the message).
        Delivered = "delivered",
        /// Given up: the attempts ran out, or the receiver refused it for good (a 4xx other
        /// than 408 and 429, or a redirect).
        Dead = "dead",
    }
);

/// A notification channel. Its secret is write-only: only `hasSecret` is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    pub id: String,
    pub name: String,
    pub kind: ChannelKind,
    /// Webhook, Slack: the URL posted to. Alertmanager: its base URL (slod posts to
    /// `<url>/api/v2/alerts`). Email: `smtp://[user@]host[:port]` or `smtps://...`.
    pub url: String,
    pub has_secret: bool,
    /// The signing key (webhook) or SMTP password (email). Never serialized.
    #[serde(skip)]
    pub secret: Option<String>,
    /// Email only: the recipients.
    pub email_to: Vec<String>,
    /// Email only: the sender.
    pub email_from: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

/// A channel to create or to replace. `secret`: `None` keeps the stored one (on a replace),
/// `Some("")` clears it.
#[derive(Clone, Debug, PartialEq)]
pub struct NewChannel {
    pub name: String,
    pub kind: ChannelKind,
    pub url: String,
    pub secret: Option<String>,
    pub email_to: Vec<String>,
    pub email_from: Option<String>,
}

/// A notification policy: which alerts which channels hear.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    pub id: String,
    pub name: String,
    /// The channels that hear the alerts this policy matches.
    pub channel_ids: Vec<String>,
    /// Alerts about any of these systems; empty matches every system.
    pub system_ids: Vec<String>,
    /// Also the alerts of every system downstream of `systemIds` (those depending on them).
    pub include_downstream: bool,
    /// Alerts of these kinds; empty matches every kind.
    pub kinds: Vec<AlertKind>,
    /// Alerts of this severity or higher (`ticket` hears pages too).
    pub min_severity: AlertSeverity,
    /// Seconds between reminders while an alert stays firing (webhook, Slack, email);
    /// `null`: no reminders.
    pub repeat_interval_seconds: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

/// A policy to create or to replace.
#[derive(Clone, Debug, PartialEq)]
pub struct NewPolicy {
    pub name: String,
    pub channel_ids: Vec<String>,
    pub system_ids: Vec<String>,
    pub include_downstream: bool,
    pub kinds: Vec<AlertKind>,
    pub min_severity: AlertSeverity,
    pub repeat_interval_seconds: Option<i64>,
}

/// One delivery of one alert transition to one channel, with its last attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub id: String,
    pub alert_id: String,
    pub channel_id: String,
    pub event: NotifyEvent,
    /// Sent as the `Idempotency-Key` header: one per transition and channel.
    pub idempotency_key: String,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i64,
    /// When it goes (again); `null` once delivered or dead.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub next_attempt_at: Option<Timestamp>,
    /// The HTTP status of the last attempt, if it got one.
    pub last_status_code: Option<i64>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub delivered_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
}

/// A delivery to enqueue. `notice` is what to say, as JSON, frozen at the transition.
#[derive(Clone, Debug, PartialEq)]
pub struct NewDelivery {
    pub alert_id: String,
    pub channel_id: String,
    pub event: NotifyEvent,
    pub idempotency_key: String,
    pub notice: String,
}

/// A delivery a worker claimed, with what to say.
#[derive(Clone, Debug, PartialEq)]
pub struct Claimed {
    pub delivery: Delivery,
    pub notice: String,
}

/// How one attempt went.
#[derive(Clone, Debug, PartialEq)]
pub enum Attempt {
    /// Accepted (`status_code`: the HTTP status, `None` for SMTP).
    Delivered { status_code: Option<i64> },
    /// Failed; try again at `retry_at`, or give up when `None`.
    Failed {
        status_code: Option<i64>,
        error: String,
        retry_at: Option<Timestamp>,
    },
}

/// Which deliveries a list returns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct DeliveryFilter {
    pub alert_id: Option<String>,
    pub channel_id: Option<String>,
    pub status: Option<DeliveryStatus>,
}

fn channel_from_row(row: &AnyRow) -> Result<Channel, sqlx::Error> {
    let secret: Option<String> = row.try_get("secret")?;
    Ok(Channel {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        kind: named(row.try_get("kind")?, ChannelKind::parse)?,
        url: row.try_get("url")?,
        has_secret: secret.is_some(),
        secret,
        email_to: json_column(row, "email_to")?,
        email_from: row.try_get("email_from")?,
        created_at: ts(row.try_get("created_at")?),
        updated_at: ts(row.try_get("updated_at")?),
    })
}

fn policy_from_row(row: &AnyRow) -> Result<Policy, sqlx::Error> {
    Ok(Policy {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        channel_ids: json_column(row, "channel_ids")?,
        system_ids: json_column(row, "system_ids")?,
        include_downstream: row.try_get::<i64, _>("include_downstream")? != 0,
        kinds: json_column(row, "kinds")?,
        min_severity: named(row.try_get("min_severity")?, AlertSeverity::parse)?,
        repeat_interval_seconds: row.try_get("repeat_seconds")?,
        created_at: ts(row.try_get("created_at")?),
        updated_at: ts(row.try_get("updated_at")?),
    })
}

fn delivery_from_row(row: &AnyRow) -> Result<Delivery, sqlx::Error> {
    Ok(Delivery {
        id: row.try_get("id")?,
        alert_id: row.try_get("alert_id")?,
        channel_id: row.try_get("channel_id")?,
        event: named(row.try_get("event")?, NotifyEvent::parse)?,
        idempotency_key: row.try_get("idempotency_key")?,
        status: named(row.try_get("status")?, DeliveryStatus::parse)?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get::<Option<i64>, _>("next_attempt_at")?.map(ts),
        last_status_code: row.try_get("last_status_code")?,
        last_error: row.try_get("last_error")?,
        delivered_at: row.try_get::<Option<i64>, _>("delivered_at")?.map(ts),
        created_at: ts(row.try_get("created_at")?),
    })
}

const DELIVERY_COLUMNS: &str = "id, alert_id, channel_id, event, idempotency_key, status, attempts, next_attempt_at, last_status_code, last_error, delivered_at, created_at";

impl Tx {
    /// Records a new channel at `now`.
    pub async fn create_channel(
        &mut self,
        new: &NewChannel,
        now: Timestamp,
    ) -> Result<Channel, StoreError> {
        let id = new_id();
        let secret = new.secret.clone().filter(|s| !s.is_empty());
        sqlx::query("INSERT INTO notification_channels (id, name, kind, url, secret, email_to, email_from, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
            .bind(&id)
            .bind(&new.name)
            .bind(new.kind.as_str())
            .bind(&new.url)
            .bind(secret.as_deref())
            .bind(to_json(&new.email_to))
            .bind(new.email_from.as_deref())
            .bind(ms(now))
            .execute(&mut *self.tx)
            .await?;
        Ok(Channel {
            id,
            name: new.name.clone(),
            kind: new.kind,
            url: new.url.clone(),
            has_secret: secret.is_some(),
            secret,
            email_to: new.email_to.clone(),
            email_from: new.email_from.clone(),
            created_at: stored(now),
            updated_at: stored(now),
        })
    }

    /// Replaces channel `id` with `new` at `now` (a `None` secret keeps the stored one).
    /// `None` if there is no such channel.
    pub async fn replace_channel(
        &mut self,
        id: &str,
        new: &NewChannel,
        now: Timestamp,
    ) -> Result<Option<Channel>, StoreError> {
        let keep_secret = new.secret.is_none();
        let secret = new.secret.clone().filter(|s| !s.is_empty());
        let done = sqlx::query("UPDATE notification_channels SET name = $1, kind = $2, url = $3, secret = CASE WHEN $4 = 1 THEN secret ELSE $5 END, email_to = $6, email_from = $7, updated_at = $8 WHERE id = $9")
            .bind(&new.name)
            .bind(new.kind.as_str())
            .bind(&new.url)
            .bind(i64::from(keep_secret))
            .bind(secret.as_deref())
            .bind(to_json(&new.email_to))
            .bind(new.email_from.as_deref())
            .bind(ms(now))
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let row = sqlx::query("SELECT * FROM notification_channels WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(Some(channel_from_row(&row)?))
    }

    /// Deletes channel `id` and its deliveries. Errors: `Conflict` naming the policies that
    /// still send to it. `false` if there was no such channel.
    pub async fn delete_channel(&mut self, id: &str) -> Result<bool, StoreError> {
        let rows = sqlx::query("SELECT * FROM notification_policies ORDER BY created_at, id")
            .fetch_all(&mut *self.tx)
            .await?;
        let users: Vec<String> = rows
            .iter()
            .map(policy_from_row)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|p| p.channel_ids.iter().any(|c| c == id))
            .map(|p| p.id)
            .collect();
        if !users.is_empty() {
            return Err(StoreError::Conflict(format!(
                "channel {id:?} is used by policies {users:?}: remove it from them first"
            )));
        }
        let done = sqlx::query("DELETE FROM notification_channels WHERE id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records a new policy at `now`. Errors: an unknown channel (`channelIds`) or system
    /// (`systemIds`).
    pub async fn create_policy(
        &mut self,
        new: &NewPolicy,
        now: Timestamp,
    ) -> Result<Policy, StoreError> {
        let new = self.checked_policy(new).await?;
        let id = new_id();
        sqlx::query("INSERT INTO notification_policies (id, name, channel_ids, system_ids, include_downstream, kinds, min_severity, repeat_seconds, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)")
            .bind(&id)
            .bind(&new.name)
            .bind(to_json(&new.channel_ids))
            .bind(to_json(&new.system_ids))
            .bind(i64::from(new.include_downstream))
            .bind(to_json(&new.kinds))
            .bind(new.min_severity.as_str())
            .bind(new.repeat_interval_seconds)
            .bind(ms(now))
            .execute(&mut *self.tx)
            .await?;
        Ok(policy(id, new, stored(now), stored(now)))
    }

    /// Replaces policy `id` with `new` at `now`; `None` if there is no such policy. Errors:
    /// as [`Tx::create_policy`].
    pub async fn replace_policy(
        &mut self,
        id: &str,
        new: &NewPolicy,
        now: Timestamp,
    ) -> Result<Option<Policy>, StoreError> {
        let new = self.checked_policy(new).await?;
        let created: Option<i64> =
            sqlx::query_scalar("SELECT created_at FROM notification_policies WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?;
        let Some(created) = created else {
            return Ok(None);
        };
        sqlx::query("UPDATE notification_policies SET name = $1, channel_ids = $2, system_ids = $3, include_downstream = $4, kinds = $5, min_severity = $6, repeat_seconds = $7, updated_at = $8 WHERE id = $9")
            .bind(&new.name)
            .bind(to_json(&new.channel_ids))
            .bind(to_json(&new.system_ids))
            .bind(i64::from(new.include_downstream))
            .bind(to_json(&new.kinds))
            .bind(new.min_severity.as_str())
            .bind(new.repeat_interval_seconds)
            .bind(ms(now))
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(Some(policy(id.to_owned(), new, ts(created), stored(now))))
    }

    /// Deletes policy `id`; `false` if there was no such policy.
    pub async fn delete_policy(&mut self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM notification_policies WHERE id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// `new` with its lists sorted and deduplicated, once every channel and system it names
    /// exists.
    async fn checked_policy(&mut self, new: &NewPolicy) -> Result<NewPolicy, StoreError> {
        let channel_ids = sorted(&new.channel_ids);
        let system_ids = sorted(&new.system_ids);
        let mut kinds = new.kinds.clone();
        kinds.sort_unstable();
        kinds.dedup();
        require_existing(
            self,
            "notification_channels",
            "channelIds",
            "channel",
            &channel_ids,
        )
        .await?;
        require_systems(self, &system_ids).await?;
        Ok(NewPolicy {
            channel_ids,
            system_ids,
            kinds,
            ..new.clone()
        })
    }

    /// Enqueues `new` at `now`, due at once; `None` if its idempotency key is already queued
    /// (another replica enqueued the same transition).
    pub async fn enqueue_delivery(
        &mut self,
        new: &NewDelivery,
        now: Timestamp,
    ) -> Result<Option<Delivery>, StoreError> {
        let id = new_id();
        let done = sqlx::query("INSERT INTO notification_deliveries (id, alert_id, channel_id, event, idempotency_key, notice, status, attempts, next_attempt_at, claimed_until, claim, last_status_code, last_error, delivered_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, NULL, NULL, NULL, NULL, NULL, $7) ON CONFLICT DO NOTHING")
            .bind(&id)
            .bind(&new.alert_id)
            .bind(&new.channel_id)
            .bind(new.event.as_str())
            .bind(&new.idempotency_key)
            .bind(&new.notice)
            .bind(ms(now))
            .execute(&mut *self.tx)
            .await?;
        Ok((done.rows_affected() > 0).then(|| Delivery {
            id,
            alert_id: new.alert_id.clone(),
            channel_id: new.channel_id.clone(),
            event: new.event,
            idempotency_key: new.idempotency_key.clone(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(stored(now)),
            last_status_code: None,
            last_error: None,
            delivered_at: None,
            created_at: stored(now),
        }))
    }

    /// Enqueues a reminder at `now`, only while its alert is still firing at `revision` (a
    /// reminder computed from an older read never follows the alert's resolution); `None`
    /// if the alert moved on or the key is already queued.
    pub async fn enqueue_reminder(
        &mut self,
        new: &NewDelivery,
        revision: i64,
        now: Timestamp,
    ) -> Result<Option<Delivery>, StoreError> {
        let firing: Option<String> = sqlx::query_scalar(
            "SELECT id FROM alerts WHERE id = $1 AND revision = $2 AND state = 'firing' AND ends_at IS NULL",
        )
        .bind(&new.alert_id)
        .bind(revision)
        .fetch_optional(&mut *self.tx)
        .await?;
        if firing.is_none() {
            return Ok(None);
        }
        self.enqueue_delivery(new, now).await
    }

    /// The channels among `channel_ids` that were sent `alert_id` firing (so they hear its
    /// resolution).
    pub async fn channels_that_heard(
        &mut self,
        alert_id: &str,
        channel_ids: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let heard: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT channel_id FROM notification_deliveries WHERE alert_id = $1 AND event = 'firing'",
        )
        .bind(alert_id)
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(channel_ids
            .iter()
            .filter(|c| heard.contains(c))
            .cloned()
            .collect())
    }

    /// Claims up to `limit` deliveries due at `now` for `claim` until `lease_until`: pending,
    /// due, not claimed by a live lease, and the oldest pending one of their alert and channel,
    /// so a receiver hears an alert's transitions in order (a resolution never overtakes its
    /// firing, which Alertmanager would take for a new firing). On PostgreSQL the rows are
    /// locked with `SKIP LOCKED`, so concurrent workers take different rows without waiting.
    ///
    /// Rows to the channels in `skip` are left for later (the caller has as many sends to
    /// them in flight as it allows).
    pub async fn claim_deliveries(
        &mut self,
        now: Timestamp,
        lease_until: Timestamp,
        claim: &str,
        limit: usize,
        skip: &[String],
    ) -> Result<Vec<Claimed>, StoreError> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let skipped = if skip.is_empty() {
            String::new()
        } else {
            format!("AND d.channel_id NOT IN ({}) ", placeholders(5, skip.len()))
        };
        let sql = format!(
            "UPDATE notification_deliveries SET claimed_until = $1, claim = $2 WHERE id IN (\
               SELECT d.id FROM notification_deliveries d WHERE d.status = 'pending' AND d.next_attempt_at <= $3 \
               AND (d.claimed_until IS NULL OR d.claimed_until <= $3) {skipped}\
               AND NOT EXISTS (SELECT 1 FROM notification_deliveries e WHERE e.alert_id = d.alert_id AND e.channel_id = d.channel_id \
                 AND e.status = 'pending' AND (e.created_at < d.created_at OR (e.created_at = d.created_at AND e.id < d.id))) \
               ORDER BY d.next_attempt_at, d.id LIMIT $4{lock}) \
             RETURNING {DELIVERY_COLUMNS}, notice"
        );
        let mut query = sqlx::query(&sql)
            .bind(ms(lease_until))
            .bind(claim)
            .bind(ms(now))
            .bind(limit as i64);
        for channel in skip {
            query = query.bind(channel);
        }
        let rows = query.fetch_all(&mut *self.tx).await?;
        Ok(rows
            .iter()
            .map(|row| {
                Ok(Claimed {
                    delivery: delivery_from_row(row)?,
                    notice: row.try_get("notice")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?)
    }

    /// Hands back the deliveries `ids` that `claim` holds, unsent and due as before (the
    /// worker has no slot for them now); returns how many.
    pub async fn release_claims(&mut self, claim: &str, ids: &[String]) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "UPDATE notification_deliveries SET claimed_until = NULL, claim = NULL WHERE claim = $1 AND id IN ({})",
            placeholders(2, ids.len())
        );
        let mut query = sqlx::query(&sql).bind(claim);
        for id in ids {
            query = query.bind(id);
        }
        Ok(query.execute(&mut *self.tx).await?.rows_affected())
    }

    /// Records `attempt` of delivery `id` at `now`, if `claim` still holds it; `None` if the
    /// claim lapsed (another worker owns the row now).
    pub async fn record_attempt(
        &mut self,
        id: &str,
        claim: &str,
        attempt: &Attempt,
        now: Timestamp,
    ) -> Result<Option<Delivery>, StoreError> {
        let (status, code, error, next, delivered) = match attempt {
            Attempt::Delivered { status_code } => (
                DeliveryStatus::Delivered,
                *status_code,
                None,
                None,
                Some(ms(now)),
            ),
            Attempt::Failed {
                status_code,
                error,
                retry_at,
            } => (
                if retry_at.is_some() {
                    DeliveryStatus::Pending
                } else {
                    DeliveryStatus::Dead
                },
                *status_code,
                Some(error.as_str()),
                retry_at.map(ms),
                None,
            ),
        };
        let done = sqlx::query("UPDATE notification_deliveries SET status = $1, attempts = attempts + 1, last_status_code = $2, last_error = $3, next_attempt_at = $4, delivered_at = $5, claimed_until = NULL, claim = NULL \
             WHERE id = $6 AND claim = $7 AND status = 'pending'")
            .bind(status.as_str())
            .bind(code)
            .bind(error)
            .bind(next)
            .bind(delivered)
            .bind(id)
            .bind(claim)
            .execute(&mut *self.tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let row = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM notification_deliveries WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(Some(delivery_from_row(&row)?))
    }

    /// Deletes delivered and dead deliveries created before `before`, except those of alerts
    /// still active (their firing deliveries say who must hear the resolution); returns how
    /// many went.
    pub async fn prune_deliveries(&mut self, before: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM notification_deliveries WHERE status <> 'pending' AND created_at < $1 \
             AND alert_id NOT IN (SELECT id FROM alerts WHERE ends_at IS NULL)",
        )
        .bind(ms(before))
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected())
    }
}

fn policy(id: String, new: NewPolicy, created_at: Timestamp, updated_at: Timestamp) -> Policy {
    Policy {
        id,
        name: new.name,
        channel_ids: new.channel_ids,
        system_ids: new.system_ids,
        include_downstream: new.include_downstream,
        kinds: new.kinds,
        min_severity: new.min_severity,
        repeat_interval_seconds: new.repeat_interval_seconds,
        created_at,
        updated_at,
    }
}

impl Store {
    /// One channel, with its secret.
    pub async fn get_channel(&self, id: &str) -> Result<Option<Channel>, StoreError> {
        let row = sqlx::query("SELECT * FROM notification_channels WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(channel_from_row).transpose()?)
    }

    /// Every channel, with their secrets, oldest first.
    pub async fn all_channels(&self) -> Result<Vec<Channel>, StoreError> {
        let rows = sqlx::query("SELECT * FROM notification_channels ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(channel_from_row)
            .collect::<Result<_, _>>()?)
    }

    /// One policy.
    pub async fn get_policy(&self, id: &str) -> Result<Option<Policy>, StoreError> {
        let row = sqlx::query("SELECT * FROM notification_policies WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(policy_from_row).transpose()?)
    }

    /// Every policy, oldest first.
    pub async fn all_policies(&self) -> Result<Vec<Policy>, StoreError> {
        let rows = sqlx::query("SELECT * FROM notification_policies ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(policy_from_row).collect::<Result<_, _>>()?)
    }

    /// One delivery.
    pub async fn get_delivery(&self, id: &str) -> Result<Option<Delivery>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM notification_deliveries WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(delivery_from_row).transpose()?)
    }

    /// Deliveries matching `filter`, latest created first, `limit` at a time after `cursor`.
    pub async fn list_deliveries(
        &self,
        filter: &DeliveryFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Delivery>, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let (at, after_id) = parse_cursor(cursor);
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM notification_deliveries WHERE ($1 = '' OR alert_id = $1) AND ($2 = '' OR channel_id = $2) AND ($3 = '' OR status = $3) \
             AND (created_at < $4 OR (created_at = $4 AND id < $5)) ORDER BY created_at DESC, id DESC LIMIT $6"
        ))
        .bind(filter.alert_id.as_deref().unwrap_or(""))
        .bind(filter.channel_id.as_deref().unwrap_or(""))
        .bind(filter.status.map_or("", DeliveryStatus::as_str))
        .bind(at)
        .bind(&after_id)
        .bind(limit as i64 + 1)
        .fetch_all(&self.pool)
        .await?;
        let more = rows.len() > limit;
        let items = rows[..rows.len().min(limit)]
            .iter()
            .map(delivery_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = more
            .then(|| {
                items
                    .last()
                    .map(|d| format!("{}:{}", ms(d.created_at), d.id))
            })
            .flatten();
        Ok(Page { items, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_value_is_sent_by_its_stored_name() {
        for &k in ChannelKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for &e in NotifyEvent::ALL {
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
        }
        for &s in DeliveryStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }

    #[test]
    fn a_secret_is_never_serialized() {
        let channel = Channel {
            id: "c".into(),
            name: "n".into(),
            kind: ChannelKind::Webhook,
            url: "http://x".into(),
            has_secret: true,
            secret: Some("s3cret".into()),
            email_to: vec![],
            email_from: None,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        };
        let text = serde_json::to_string(&channel).unwrap();
        assert!(!text.contains("s3cret") && text.contains("\"hasSecret\":true"));
    }
}
