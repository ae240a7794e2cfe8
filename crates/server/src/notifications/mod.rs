//! Notifications: the channels alerts reach (webhook, Alertmanager, Slack, email), the
//! policies that route them, and the outbox that delivers them at least once.
//!
//! An alert transition enqueues its deliveries in its own unit of work (`routing`), so a
//! committed transition is never lost, on any replica, across restarts. The delivery worker
//! (`jobs::deliveries`) claims due rows under a lease, sends each on its own task with a
//! timeout (`send`), and records the attempt: delivered, retried with exponential backoff and
//! jitter, or dead. Each attempt is a unit of work of its own that signals
//! `notification.changed`.

pub mod message;
pub mod routes;
pub mod routing;
pub mod send;

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use slod_store::{
    AlertKind, AlertSeverity, Attempt, Channel, ChannelKind, Claimed, Delivery, DeliveryFilter,
    NewChannel, NewPolicy, Policy,
};

use crate::error::{ServiceError, ServiceResult};
use crate::ids::{ChannelId, PolicyId, SystemId, TypedId};
use crate::paging::{encode_cursor, Paging};
use crate::signals::{NotificationChanged, NotificationSubject, Signal};
use crate::state::Core;
use crate::validation::{Problems, MAX_SYSTEMS};
use crate::work::{Mutation, Work};

pub use message::Notice;
pub use routing::Routing;
pub use send::{Sender, Sent};

const MAX_NAME: usize = 200;
const MAX_URL: usize = 2000;
const MAX_RECIPIENTS: usize = 50;
/// Most channels one policy names.
const MAX_CHANNELS: usize = 20;
/// The shortest and longest repeat interval a policy may set: a minute, a week.
const REPEAT_RANGE: (u64, u64) = (60, 7 * 24 * 3600);

/// A channel to create, or to replace with `PUT`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChannelInput {
    /// 1..=200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub kind: ChannelKind,
    /// `webhook`, `slack`: an `http(s)://` URL posted to. `alertmanager`: its base URL
    /// (`http(s)://host:9093`). `email`: `smtp://[user@]host[:port]` (STARTTLS when the
    /// server offers it) or `smtps://...`. At most 2,000 characters.
    #[schema(min_length = 1, max_length = 2000)]
    pub url: String,
    /// Write-only: the webhook's signing key or the SMTP password; never returned. Absent on
    /// a replace keeps the stored one; `""` removes it.
    #[schema(max_length = 500)]
    pub secret: Option<String>,
    /// `email` only: 1..=50 recipients.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub email_to: Vec<String>,
    /// `email` only: the sender.
    pub email_from: Option<String>,
}

/// A policy to create, or to replace with `PUT`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyInput {
    /// 1..=200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// 1..=20 channels that hear the alerts this policy matches.
    #[schema(value_type = Vec<ChannelId>, min_items = 1, max_items = 20)]
    pub channel_ids: Vec<String>,
    /// Alerts about these systems (at most 100); empty or absent: every system.
    #[serde(default)]
    #[schema(value_type = Vec<SystemId>, max_items = 100)]
    pub system_ids: Vec<String>,
    /// Also the systems downstream of `systemIds` (those that depend on them).
    #[serde(default)]
    pub include_downstream: bool,
    /// Alerts of these kinds; empty or absent: every kind.
    #[serde(default)]
    pub kinds: Vec<AlertKind>,
    /// The least severity heard: `ticket` (the default) hears pages too.
    pub min_severity: Option<AlertSeverity>,
    /// Seconds between reminders while an alert stays firing (60..=604800; webhook, Slack,
    /// email); absent: no reminders.
    #[schema(minimum = 60, maximum = 604800)]
    pub repeat_interval_seconds: Option<u64>,
}

/// Every channel, oldest first.
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChannelList {
    pub channels: Vec<Channel>,
}

/// Every policy, oldest first.
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PolicyList {
    pub policies: Vec<Policy>,
}

/// A page of deliveries, latest first.
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryList {
    pub deliveries: Vec<Delivery>,
    pub next_cursor: Option<String>,
}

/// How a test notification went.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    pub delivered: bool,
    /// The HTTP status the channel answered, if it did.
    pub status_code: Option<u16>,
    pub error: Option<String>,
}

/// How deliveries are retried: exponential backoff from `first_retry`, doubling up to an
/// hour, plus a random jitter of up to the delay itself (so at most two hours apart), at most
/// `attempts` sends in all.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub first_retry: Duration,
    pub attempts: u32,
}

impl RetryPolicy {
    /// When attempt `made + 1` goes, after `made` failed attempts at `now`; `None` once the
    /// attempts are used up.
    pub fn next_attempt(&self, made: u32, now: Timestamp) -> Option<Timestamp> {
        if made >= self.attempts {
            return None;
        }
        let delay = ExponentialBuilder::default()
            .with_min_delay(self.first_retry)
            .with_max_delay(Duration::from_secs(3600))
            .with_factor(2.0)
            .with_jitter()
            .without_max_times()
            .build()
            .nth(made.saturating_sub(1) as usize)?;
        let delay = jiff::SignedDuration::try_from(delay).ok()?;
        now.checked_add(delay).ok()
    }
}

/// The notifications service. Cheap to clone.
#[derive(Clone)]
pub struct Notifications {
    core: Core,
    sender: Sender,
    retry: RetryPolicy,
}

impl axum::extract::FromRef<crate::state::AppState> for Notifications {
    fn from_ref(state: &crate::state::AppState) -> Self {
        let sender = Sender::new(state.outbound.clone(), state.config.alerts_interval);
        Notifications::new(Core::of(state), sender, retry_of(&state.config))
    }
}

/// The retry policy `config` sets.
pub fn retry_of(config: &crate::config::Config) -> RetryPolicy {
    RetryPolicy {
        first_retry: Duration::from_millis(config.delivery_first_retry_ms),
        attempts: config.delivery_attempts,
    }
}

impl Notifications {
    /// The service over `core`, sending with `sender`, retrying by `retry`.
    pub fn new(core: Core, sender: Sender, retry: RetryPolicy) -> Self {
        Notifications {
            core,
            sender,
            retry,
        }
    }

    /// Every channel (secrets hidden).
    pub async fn channels(&self) -> ServiceResult<ChannelList> {
        Ok(ChannelList {
            channels: self.core.store.all_channels().await?,
        })
    }

    /// One channel (its secret hidden). Errors: not found.
    pub async fn channel(&self, id: &ChannelId) -> ServiceResult<Channel> {
        self.core
            .store
            .get_channel(id.as_str())
            .await?
            .ok_or_else(|| ServiceError::not_found(ChannelId::KIND, id.as_str()))
    }

    /// Creates a channel. Errors: invalid fields (a bad URL for its kind, missing email
    /// addresses).
    pub async fn create_channel(&self, input: ChannelInput) -> ServiceResult<Channel> {
        let new = checked_channel(input, None)?;
        let mut work = self.core.begin(Mutation::CreateChannel).await?;
        let channel = work.tx().create_channel(&new, Timestamp::now()).await?;
        announce(&mut work, NotificationSubject::Channel, &channel.id, false);
        work.commit().await?;
        Ok(channel)
    }

    /// Replaces a channel. Errors: as [`Notifications::create_channel`], not found.
    pub async fn replace_channel(
        &self,
        id: &ChannelId,
        input: ChannelInput,
    ) -> ServiceResult<Channel> {
        let stored = self.channel(id).await?;
        let new = checked_channel(input, Some(&stored))?;
        let mut work = self.core.begin(Mutation::UpdateChannel).await?;
        let channel = work
            .tx()
            .replace_channel(id.as_str(), &new, Timestamp::now())
            .await?
            .ok_or_else(|| ServiceError::not_found(ChannelId::KIND, id.as_str()))?;
        announce(&mut work, NotificationSubject::Channel, &channel.id, false);
        work.commit().await?;
        Ok(channel)
    }

    /// Deletes a channel and its deliveries. Errors: not found; conflict while a policy
    /// sends to it.
    pub async fn delete_channel(&self, id: &ChannelId) -> ServiceResult<()> {
        let mut work = self.core.begin(Mutation::DeleteChannel).await?;
        if !work.tx().delete_channel(id.as_str()).await? {
            return Err(ServiceError::not_found(ChannelId::KIND, id.as_str()));
        }
        announce(&mut work, NotificationSubject::Channel, id.as_str(), true);
        work.commit().await
    }

    /// Sends a test notice to a channel now, outside the outbox. Errors: not found.
    pub async fn test_channel(&self, id: &ChannelId) -> ServiceResult<TestResult> {
        let channel = self.channel(id).await?;
        let notice = test_notice(&channel);
        let key = format!("test:{}", uuid::Uuid::new_v4());
        Ok(
            match self
                .sender
                .send(&channel, &notice, &key, Timestamp::now())
                .await
            {
                Sent::Accepted { status } => TestResult {
                    delivered: true,
                    status_code: status,
                    error: None,
                },
                Sent::Retry { status, error } | Sent::Refused { status, error } => TestResult {
                    delivered: false,
                    status_code: status,
                    error: Some(error),
                },
            },
        )
    }

    /// Every policy.
    pub async fn policies(&self) -> ServiceResult<PolicyList> {
        Ok(PolicyList {
            policies: self.core.store.all_policies().await?,
        })
    }

    /// One policy. Errors: not found.
    pub async fn policy(&self, id: &PolicyId) -> ServiceResult<Policy> {
        self.core
            .store
            .get_policy(id.as_str())
            .await?
            .ok_or_else(|| ServiceError::not_found(PolicyId::KIND, id.as_str()))
    }

    /// Creates a policy. Errors: invalid fields, unknown channels (`channelIds`) or systems
    /// (`systemIds`).
    pub async fn create_policy(&self, input: PolicyInput) -> ServiceResult<Policy> {
        let new = checked_policy(input)?;
        let mut work = self.core.begin(Mutation::CreatePolicy).await?;
        let policy = work.tx().create_policy(&new, Timestamp::now()).await?;
        announce(&mut work, NotificationSubject::Policy, &policy.id, false);
        work.commit().await?;
        Ok(policy)
    }

    /// Replaces a policy. Errors: as [`Notifications::create_policy`], not found.
    pub async fn replace_policy(&self, id: &PolicyId, input: PolicyInput) -> ServiceResult<Policy> {
        let new = checked_policy(input)?;
        let mut work = self.core.begin(Mutation::UpdatePolicy).await?;
        let policy = work
            .tx()
            .replace_policy(id.as_str(), &new, Timestamp::now())
            .await?
            .ok_or_else(|| ServiceError::not_found(PolicyId::KIND, id.as_str()))?;
        announce(&mut work, NotificationSubject::Policy, &policy.id, false);
        work.commit().await?;
        Ok(policy)
    }

    /// Deletes a policy. Errors: not found.
    pub async fn delete_policy(&self, id: &PolicyId) -> ServiceResult<()> {
        let mut work = self.core.begin(Mutation::DeletePolicy).await?;
        if !work.tx().delete_policy(id.as_str()).await? {
            return Err(ServiceError::not_found(PolicyId::KIND, id.as_str()));
        }
        announce(&mut work, NotificationSubject::Policy, id.as_str(), true);
        work.commit().await
    }

    /// Deliveries matching `filter`, latest first, a page at a time.
    pub async fn deliveries(
        &self,
        filter: DeliveryFilter,
        paging: Paging,
    ) -> ServiceResult<DeliveryList> {
        let page = self
            .core
            .store
            .list_deliveries(&filter, paging.limit, paging.after.as_deref())
            .await?;
        Ok(DeliveryList {
            deliveries: page.items,
            next_cursor: encode_cursor(page.next_cursor),
        })
    }

    /// Claims up to `limit` due deliveries until `lease` from now, none to the channels in
    /// `skip`, under a claim token of their own (so a worker that claims a row again after its
    /// lease lapsed cannot record the old attempt). Returns the token and the rows.
    pub async fn claim(
        &self,
        limit: usize,
        lease: Duration,
        skip: &[String],
    ) -> ServiceResult<(String, Vec<Claimed>)> {
        let claim = uuid::Uuid::new_v4().to_string();
        let now = Timestamp::now();
        let until = now
            .checked_add(
                jiff::SignedDuration::try_from(lease)
                    .unwrap_or(jiff::SignedDuration::from_secs(60)),
            )
            .unwrap_or(now);
        let mut work = self.core.begin(Mutation::ClaimDeliveries).await?;
        let claimed = work
            .tx()
            .claim_deliveries(now, until, &claim, limit, skip)
            .await?;
        work.commit().await?;
        Ok((claim, claimed))
    }

    /// Hands back deliveries `claim` holds but cannot send yet, so they go out without
    /// waiting for the lease to lapse.
    pub async fn release(&self, claim: &str, ids: &[String]) -> ServiceResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut work = self.core.begin(Mutation::ClaimDeliveries).await?;
        work.tx().release_claims(claim, ids).await?;
        work.commit().await
    }

    /// Sends one claimed delivery and records how it went (a unit of work of its own that
    /// signals `notification.changed`). `None` if the claim lapsed before the record.
    pub async fn deliver(&self, claimed: Claimed, claim: &str) -> ServiceResult<Option<Delivery>> {
        let delivery = &claimed.delivery;
        let sent = match (
            self.core.store.get_channel(&delivery.channel_id).await?,
            serde_json::from_str::<Notice>(&claimed.notice),
        ) {
            (Some(channel), Ok(notice)) => {
                self.sender
                    .send(
                        &channel,
                        &notice,
                        &delivery.idempotency_key,
                        Timestamp::now(),
                    )
                    .await
            }
            (None, _) => Sent::Refused {
                status: None,
                error: "the channel was deleted".into(),
            },
            (_, Err(e)) => Sent::Refused {
                status: None,
                error: format!("unreadable notice: {e}"),
            },
        };
        let now = Timestamp::now();
        let made = u32::try_from(delivery.attempts + 1).unwrap_or(u32::MAX);
        let attempt = match sent {
            Sent::Accepted { status } => Attempt::Delivered {
                status_code: status.map(i64::from),
            },
            Sent::Retry { status, error } => Attempt::Failed {
                status_code: status.map(i64::from),
                error,
                retry_at: self.retry.next_attempt(made, now),
            },
            Sent::Refused { status, error } => Attempt::Failed {
                status_code: status.map(i64::from),
                error,
                retry_at: None,
            },
        };
        let outcome = match &attempt {
            Attempt::Delivered { .. } => "delivered",
            Attempt::Failed {
                retry_at: Some(_), ..
            } => "retry",
            Attempt::Failed { retry_at: None, .. } => "dead",
        };
        metrics::counter!("slod_notification_attempts_total", "outcome" => outcome).increment(1);
        let mut work = self.core.begin(Mutation::RecordDelivery).await?;
        let recorded = work
            .tx()
            .record_attempt(&delivery.id, claim, &attempt, now)
            .await?;
        if let Some(d) = &recorded {
            announce(&mut work, NotificationSubject::Delivery, &d.id, false);
        }
        work.commit().await?;
        Ok(recorded)
    }

    /// Re-sends every firing alert to the Alertmanager channels that hear it, each channel on
    /// its own task (a slow one delays nobody), ending four evaluation intervals ahead, with the
    /// alerts resolved in the last four intervals at their real end (so a refresh that lost a
    /// race with a resolution is corrected by the next). Not queued: the next evaluation
    /// re-sends anyway.
    pub fn refresh_alertmanagers(&self, batches: Vec<(Channel, Vec<Notice>)>, interval: u64) {
        let now = Timestamp::now();
        for (channel, notices) in batches {
            let sender = self.sender.clone();
            let until = message::firing_until(now, interval);
            let alerts: Vec<_> = notices
                .iter()
                .map(|n| message::alertmanager_alert(n, until))
                .collect();
            tokio::spawn(async move {
                let sent = sender
                    .alertmanager(&channel.url, &serde_json::Value::Array(alerts))
                    .await;
                if let Sent::Retry { error, .. } | Sent::Refused { error, .. } = sent {
                    tracing::warn!(channel = %channel.id, %error, "alertmanager refresh failed");
                }
            });
        }
    }
}

/// `notification.changed` after the commit.
fn announce(work: &mut Work, subject: NotificationSubject, id: &str, deleted: bool) {
    work.signal(Signal::NotificationChanged(NotificationChanged {
        subject,
        id: id.to_owned(),
        deleted,
    }));
}

/// `input` checked, replacing `stored` if given. A secret is never carried to another kind or
/// host (it would hand a webhook's key, or an SMTP password, to whoever runs the new one), and
/// a webhook always has one (its deliveries are signed).
fn checked_channel(input: ChannelInput, stored: Option<&Channel>) -> ServiceResult<NewChannel> {
    let mut problems = Problems::default();
    problems.text("name", &input.name, MAX_NAME);
    let url = input.url.trim();
    let schemes: &[&str] = match input.kind {
        ChannelKind::Email => &["smtp", "smtps"],
        _ => &["http", "https"],
    };
    if url.len() > MAX_URL {
        problems.add("url", format!("at most {MAX_URL} characters"));
    } else {
        match reqwest::Url::parse(url) {
            Ok(parsed) if !schemes.contains(&parsed.scheme()) => problems.add(
                "url",
                format!(
                    "a {} channel needs a {} URL",
                    input.kind.as_str(),
                    schemes.join(" or ")
                ),
            ),
            Ok(parsed) if parsed.host_str().is_none_or(str::is_empty) => {
                problems.add("url", "names no host")
            }
            Ok(parsed) if parsed.password().is_some() => problems.add(
                "url",
                "must not carry a password (it would be shown): use secret",
            ),
            Ok(_) => {}
            Err(e) => problems.add("url", format!("is not a URL: {e}")),
        }
    }
    if input
        .secret
        .as_ref()
        .is_some_and(|s| s.chars().count() > 500)
    {
        problems.add("secret", "at most 500 characters");
    }
    let host = |url: &str| {
        reqwest::Url::parse(url.trim())
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
    };
    let keeps = input.secret.is_none();
    if let Some(stored) = stored.filter(|s| keeps && s.has_secret) {
        if stored.kind != input.kind || host(&stored.url) != host(&input.url) {
            problems.add(
                "secret",
                "give the secret again: the kind or host changed, and a stored secret never follows a channel elsewhere",
            );
        }
    }
    let will_have_secret = match input.secret.as_deref() {
        None => stored.is_some_and(|s| s.has_secret),
        Some(secret) => !secret.is_empty(),
    };
    if input.kind == ChannelKind::Webhook && !will_have_secret {
        problems.add(
            "secret",
            "a webhook channel signs its deliveries: give a signing secret",
        );
    }
    if input.kind == ChannelKind::Email {
        if input.email_to.is_empty() || input.email_to.len() > MAX_RECIPIENTS {
            problems.add("emailTo", format!("1 to {MAX_RECIPIENTS} addresses"));
        }
        if let Some(bad) = input
            .email_to
            .iter()
            .find(|a| a.parse::<lettre::message::Mailbox>().is_err())
        {
            problems.add("emailTo", format!("{bad:?} is not an email address"));
        }
        match input.email_from.as_deref() {
            None => problems.add("emailFrom", "an email channel needs a sender"),
            Some(from) if from.parse::<lettre::message::Mailbox>().is_err() => {
                problems.add("emailFrom", format!("{from:?} is not an email address"))
            }
            Some(_) => {}
        }
    } else {
        if !input.email_to.is_empty() {
            problems.add("emailTo", "only for email channels");
        }
        if input.email_from.is_some() {
            problems.add("emailFrom", "only for email channels");
        }
    }
    problems.into_result()?;
    Ok(NewChannel {
        name: input.name,
        kind: input.kind,
        url: url.to_owned(),
        secret: input.secret,
        email_to: input.email_to,
        email_from: input.email_from,
    })
}

fn checked_policy(input: PolicyInput) -> ServiceResult<NewPolicy> {
    let mut problems = Problems::default();
    problems.text("name", &input.name, MAX_NAME);
    if input.channel_ids.is_empty() || input.channel_ids.len() > MAX_CHANNELS {
        problems.add("channelIds", format!("1 to {MAX_CHANNELS} channels"));
    }
    let channel_ids: Vec<String> = problems
        .ids::<ChannelId>("channelIds", &input.channel_ids)
        .into_iter()
        .map(String::from)
        .collect();
    if input.system_ids.len() > MAX_SYSTEMS {
        problems.add("systemIds", format!("at most {MAX_SYSTEMS} ids"));
    }
    let system_ids: Vec<String> = problems
        .ids::<SystemId>("systemIds", &input.system_ids)
        .into_iter()
        .map(String::from)
        .collect();
    if input.include_downstream && input.system_ids.is_empty() {
        problems.add(
            "includeDownstream",
            "needs systemIds (a policy without systems already hears every system)",
        );
    }
    problems.range(
        "repeatIntervalSeconds",
        input.repeat_interval_seconds,
        REPEAT_RANGE.0,
        REPEAT_RANGE.1,
    );
    problems.into_result()?;
    Ok(NewPolicy {
        name: input.name,
        channel_ids,
        system_ids,
        include_downstream: input.include_downstream,
        kinds: input.kinds,
        min_severity: input.min_severity.unwrap_or(AlertSeverity::Ticket),
        repeat_interval_seconds: input
            .repeat_interval_seconds
            .map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
    })
}

/// A made-up alert that says it is a test, for `POST .../test`.
fn test_notice(channel: &Channel) -> Notice {
    let now = Timestamp::now();
    Notice {
        event: slod_store::NotifyEvent::Firing,
        alert: slod_store::Alert {
            id: "test".into(),
            fingerprint: "0000000000000000".into(),
            subject: slod_store::AlertSubject {
                subject_type: slod_store::SubjectType::System,
                id: "test".into(),
            },
            system_ids: vec!["test".into()],
            objective_id: None,
            kind: AlertKind::Health,
            severity: AlertSeverity::Ticket,
            state: slod_store::AlertState::Firing,
            starts_at: now,
            ends_at: Some(now),
            inhibited_by: None,
            silenced_by: None,
            summary: format!(
                "A test notification from slod to channel {:?}",
                channel.name
            ),
            updated_at: now,
            condition_false_since: None,
            revision: 1,
        },
        objective_name: None,
        dashboard_url: String::new(),
        occurred_at: now,
    }
}
