//! Which channels hear an alert, and the deliveries one alert transition enqueues.
//!
//! A policy matches an alert when every one of its filters does: one of the alert's systems
//! is among the policy's systems (all systems when it names none; with `includeDownstream`,
//! also every system depending on them), its kind is listed (all kinds when none are), and
//! its severity is at least the policy's minimum (`page` above `ticket`). The channels of
//! every matching policy hear it.
//!
//! An alert is announced when it becomes `firing`: one that fires inhibited or silenced is
//! recorded and not sent, and is sent when it becomes firing. Its resolution goes to the
//! channels that heard it fire, whatever the policies say now, so nobody is left with an alert
//! that never ends.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use slod_store::{
    Alert, AlertSeverity, AlertState, Channel, ChannelKind, Delivery, NewDelivery, NotifyEvent,
    Policy, Store, Tx,
};

use super::message::Notice;
use crate::error::ServiceResult;
use crate::views::{downstream, Graph};

/// The channels and policies of one evaluation, with each policy's systems expanded.
pub struct Routing {
    channels: HashMap<String, Channel>,
    policies: Vec<(Policy, Option<HashSet<String>>)>,
    objective_names: HashMap<String, String>,
    public_url: String,
}

/// A channel that hears an alert, and how often it is reminded while the alert fires
/// (seconds; the shortest of the matching policies' intervals).
pub struct Hearer<'a> {
    pub channel: &'a Channel,
    pub repeat_seconds: Option<i64>,
}

fn rank(severity: AlertSeverity) -> u8 {
    match severity {
        AlertSeverity::Page => 2,
        AlertSeverity::Ticket => 1,
    }
}

impl Routing {
    /// Reads every channel and policy; `graph` expands `includeDownstream`,
    /// `objective_names` names objectives in messages, `public_url` roots their links.
    pub async fn load(
        store: &Store,
        graph: &Graph,
        objective_names: HashMap<String, String>,
        public_url: &str,
    ) -> ServiceResult<Routing> {
        let channels = store
            .all_channels()
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        let policies = store
            .all_policies()
            .await?
            .into_iter()
            .map(|p| {
                let systems = (!p.system_ids.is_empty()).then(|| {
                    let mut set: HashSet<String> = p.system_ids.iter().cloned().collect();
                    if p.include_downstream {
                        for system in &p.system_ids {
                            set.extend(downstream(graph, system));
                        }
                    }
                    set
                });
                (p, systems)
            })
            .collect();
        Ok(Routing {
            channels,
            policies,
            objective_names,
            public_url: public_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Whether no policy sends anywhere (the evaluation then skips every notification step).
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// The channels that hear `alert`, each once.
    pub fn hearers(&self, alert: &Alert) -> Vec<Hearer<'_>> {
        let mut out: Vec<Hearer<'_>> = Vec::new();
        for (policy, systems) in &self.policies {
            let matches = systems
                .as_ref()
                .is_none_or(|set| alert.system_ids.iter().any(|s| set.contains(s)))
                && (policy.kinds.is_empty() || policy.kinds.contains(&alert.kind))
                && rank(alert.severity) >= rank(policy.min_severity);
            if !matches {
                continue;
            }
            for id in &policy.channel_ids {
                let Some(channel) = self.channels.get(id) else {
                    continue;
                };
                match out.iter_mut().find(|h| h.channel.id == *id) {
                    Some(hearer) => {
                        hearer.repeat_seconds =
                            match (hearer.repeat_seconds, policy.repeat_interval_seconds) {
                                (Some(a), Some(b)) => Some(a.min(b)),
                                (a, b) => a.or(b),
                            }
                    }
                    None => out.push(Hearer {
                        channel,
                        repeat_seconds: policy.repeat_interval_seconds,
                    }),
                }
            }
        }
        out
    }

    /// What to say about `alert` for `event` at `now`.
    pub fn notice(&self, event: NotifyEvent, alert: &Alert, now: Timestamp) -> Notice {
        Notice {
            event,
            alert: alert.clone(),
            objective_name: alert
                .objective_id
                .as_ref()
                .and_then(|id| self.objective_names.get(id).cloned()),
            dashboard_url: format!("{}/#alert-{}", self.public_url, alert.id),
            occurred_at: now,
        }
    }

    /// Enqueues, in `tx`, the deliveries of `alert` having moved from `before` (`None`: it
    /// just fired) to its current state.
    pub async fn enqueue_transition(
        &self,
        tx: &mut Tx,
        before: Option<AlertState>,
        alert: &Alert,
        now: Timestamp,
    ) -> ServiceResult<Vec<Delivery>> {
        let (event, channels): (NotifyEvent, Vec<String>) =
            if alert.state == AlertState::Firing && before != Some(AlertState::Firing) {
                let ids = self
                    .hearers(alert)
                    .into_iter()
                    .map(|h| h.channel.id.clone());
                (NotifyEvent::Firing, ids.collect())
            } else if alert.state == AlertState::Resolved {
                let all: Vec<String> = self.channels.keys().cloned().collect();
                (
                    NotifyEvent::Resolved,
                    tx.channels_that_heard(&alert.id, &all).await?,
                )
            } else {
                return Ok(Vec::new());
            };
        let notice = serde_json::to_string(&self.notice(event, alert, now))
            .expect("a notice always encodes");
        let mut queued = Vec::new();
        for channel in channels {
            let new = NewDelivery {
                alert_id: alert.id.clone(),
                channel_id: channel.clone(),
                event,
                idempotency_key: format!("{}:{}:{}", alert.id, alert.revision, channel),
                notice: notice.clone(),
            };
            queued.extend(tx.enqueue_delivery(&new, now).await?);
        }
        Ok(queued)
    }

    /// The reminders due at `now` for the firing alerts among `active`, each with the alert
    /// revision it was computed from: one per elapsed repeat interval since the alert's last
    /// change, per channel with an interval (Alertmanager repeats on its own). The key names
    /// the revision and the interval, so every replica enqueues it once.
    pub fn reminders(&self, active: &[Alert], now: Timestamp) -> Vec<(NewDelivery, i64)> {
        let mut out = Vec::new();
        for alert in active.iter().filter(|a| a.state == AlertState::Firing) {
            let firing_for = now.as_second() - alert.updated_at.as_second();
            for hearer in self.hearers(alert) {
                let Some(every) = hearer.repeat_seconds.filter(|s| *s > 0) else {
                    continue;
                };
                if hearer.channel.kind == ChannelKind::Alertmanager || firing_for < every {
                    continue;
                }
                let nth = firing_for / every;
                let new = NewDelivery {
                    alert_id: alert.id.clone(),
                    channel_id: hearer.channel.id.clone(),
                    event: NotifyEvent::Repeat,
                    idempotency_key: format!(
                        "{}:{}:repeat{}:{}",
                        alert.id, alert.revision, nth, hearer.channel.id
                    ),
                    notice: serde_json::to_string(&self.notice(NotifyEvent::Repeat, alert, now))
                        .expect("a notice always encodes"),
                };
                out.push((new, alert.revision));
            }
        }
        out
    }

    /// For each Alertmanager channel, the firing and resolved alerts among `alerts` it hears:
    /// what the evaluation re-sends so Alertmanager keeps the firing ones while they fire and
    /// holds the resolved ones resolved.
    pub fn alertmanager_batches(
        &self,
        alerts: &[Alert],
        now: Timestamp,
    ) -> Vec<(Channel, Vec<Notice>)> {
        let mut batches: HashMap<&str, (Channel, Vec<Notice>)> = HashMap::new();
        for alert in alerts
            .iter()
            .filter(|a| matches!(a.state, AlertState::Firing | AlertState::Resolved))
        {
            for hearer in self.hearers(alert) {
                if hearer.channel.kind != ChannelKind::Alertmanager {
                    continue;
                }
                batches
                    .entry(hearer.channel.id.as_str())
                    .or_insert_with(|| (hearer.channel.clone(), Vec::new()))
                    .1
                    .push(self.notice(NotifyEvent::Repeat, alert, now));
            }
        }
        batches.into_values().collect()
    }
}
