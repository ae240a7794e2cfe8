//! Alerts with a lifecycle: the service that evaluates them, records their transitions and
//! keeps silences, their cached reads, and their routes.
//!
//! One evaluation reads every objective's status through the cache (the same entries the
//! dashboard reads), every system's health, the open incidents, the in-progress maintenance
//! windows, the active silences and the active alerts; `conditions` says what holds,
//! `lifecycle` what must change; each change is then its own unit of work (commit, invalidate
//! the alert reads, signal `alert.changed`). Writes are conditional on what the evaluation read,
//! so two replicas evaluating at once record each transition once.
//!
//! A transition that must be heard enqueues its deliveries in its own unit of work
//! (`notifications::Routing`), so what commits is delivered at least once. After the changes,
//! reminders fall due and the firing alerts are re-sent to Alertmanager.

mod conditions;
mod lifecycle;
pub mod routes;

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use slod_store::{Alert, AlertFilter, AlertKind, AlertState, NewSilence, Silence};

use crate::error::{ServiceError, ServiceResult};
use crate::ids::{AlertId, ObjectiveId, SilenceId, SystemId, TypedId};
use crate::notifications::{Notifications, Routing};
use crate::paging::Paging;
use crate::signals::{
    AlertChanged, NotificationChanged, NotificationSubject, Signal, SilenceChanged,
};
use crate::state::Core;
use crate::validation::{Problems, MAX_SYSTEMS};
use crate::work::{Mutation, Work};

pub use conditions::{fingerprint, BUDGET_LOW_PERCENT};
use lifecycle::{Step, World};

const MAX_REASON: usize = 500;
/// Longest silence accepted: 366 days.
const MAX_SILENCE: SignedDuration = SignedDuration::from_hours(366 * 24);

/// A silence to create.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateSilence {
    /// Mute alerts about any of these systems (at most 100).
    #[serde(default)]
    #[schema(value_type = Vec<SystemId>, max_items = 100)]
    pub system_ids: Vec<String>,
    /// Mute alerts of any of these objectives (at most 100).
    #[serde(default)]
    #[schema(value_type = Vec<ObjectiveId>, max_items = 100)]
    pub objective_ids: Vec<String>,
    /// Mute alerts of any of these kinds. At least one of `systemIds`, `objectiveIds` and
    /// `kinds` must be given; an alert is muted when it matches every list given.
    #[serde(default)]
    pub kinds: Vec<AlertKind>,
    /// When the silence ends: in the future, at most 366 days away.
    #[schema(value_type = String, format = DateTime)]
    #[serde(deserialize_with = "crate::validation::rfc3339")]
    pub until: Timestamp,
    /// Why (1..=500 characters).
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// A page of alerts, latest started first.
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlertList {
    pub alerts: Vec<Alert>,
    pub next_cursor: Option<String>,
}

/// A page of silences, latest created first.
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SilenceList {
    pub silences: Vec<Silence>,
    pub next_cursor: Option<String>,
}

/// What one evaluation did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evaluated {
    /// Alerts that fired.
    pub fired: usize,
    /// Active alerts that changed (state, what inhibits or mutes them, a lapsed condition).
    pub moved: usize,
    /// Alerts that resolved.
    pub resolved: usize,
    /// Changes another evaluation made first (left as they are).
    pub lost: usize,
}

/// The alerts service. Cheap to clone.
#[derive(Clone)]
pub struct Alerts {
    core: Core,
    resolve_after: SignedDuration,
    notifications: Notifications,
    /// Seconds between evaluations (`SLOD_ALERTS_INTERVAL`).
    interval: u64,
    /// The root of links in notifications (`SLOD_PUBLIC_URL`).
    public_url: String,
}

impl axum::extract::FromRef<crate::state::AppState> for Alerts {
    fn from_ref(state: &crate::state::AppState) -> Self {
        Alerts::of(state)
    }
}

impl Alerts {
    /// The service over `state`, as its configuration sets it: an alert resolves once its
    /// condition has been false for `SLOD_ALERTS_RESOLVE_AFTER` seconds.
    pub fn of(state: &crate::state::AppState) -> Self {
        let config = &state.config;
        Alerts {
            core: Core::of(state),
            resolve_after: SignedDuration::from_secs(
                i64::try_from(config.alerts_resolve_after).unwrap_or(i64::MAX),
            ),
            notifications: axum::extract::FromRef::from_ref(state),
            interval: config.alerts_interval,
            public_url: config.public_url(),
        }
    }

    /// Evaluates every alert condition at `now` and records what changed, each change its
    /// own unit of work. Everything is read through the cache (statuses, health, topology,
    /// the active incidents, windows, silences and alerts), so a cycle that finds nothing to
    /// change costs about what a warm bulk-status read does.
    pub async fn evaluate(&self, now: Timestamp) -> ServiceResult<Evaluated> {
        let started = std::time::Instant::now();
        let views = &self.core.views;
        let layers = views.topology.layers().await?;
        let health = views.health.rollup().await?;
        let objectives = views.statuses.of_systems(&layers.systems).await?;
        let incidents = views.incidents.active().await?;
        let windows = views.maintenance.active().await?;
        let silences = views.silences.active().await?;
        let active = views.alerts.active().await?;
        let mut maintenance = HashMap::new();
        for window in windows
            .iter()
            .filter(|m| m.start_at <= now && now < m.end_at)
        {
            for system in &window.system_ids {
                maintenance
                    .entry(system.as_str())
                    .or_insert(window.id.as_str());
            }
        }
        let world = World {
            now,
            resolve_after: self.resolve_after,
            layers: &layers,
            objectives: &objectives,
            health: &health,
            incidents: &incidents,
            active: &active,
            silences: &silences,
            maintenance: &maintenance,
        };
        let plan = lifecycle::plan(&world);
        let names = objectives
            .iter()
            .flat_map(|of_system| of_system.iter())
            .filter_map(|s| Some((s.objective.id.clone(), s.objective.name.clone()?)))
            .collect();
        let routing =
            Routing::load(&self.core.store, &layers.graph, names, &self.public_url).await?;
        let done = self.apply(plan.steps, now, &routing).await?;
        if !routing.is_empty() {
            let active = views.alerts.active().await?;
            self.remind(&routing, &active, now).await?;
            // Firing alerts, and those resolved in the last four intervals at their real end.
            let window = i64::try_from(self.interval.saturating_mul(4)).unwrap_or(i64::MAX);
            let since = now
                .checked_sub(SignedDuration::from_secs(window))
                .unwrap_or(now);
            let mut refreshed: Vec<Alert> = active.iter().cloned().collect();
            refreshed.extend(self.core.store.alerts_ended_since(since).await?);
            self.notifications.refresh_alertmanagers(
                routing.alertmanager_batches(&refreshed, now),
                self.interval,
            );
        }
        metrics::histogram!("slod_alerts_evaluation_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        record_gauges(&plan.active_after);
        Ok(done)
    }

    /// Records each step in its own unit of work, upstream first. An alert another
    /// evaluation fired first is named by its id in the alerts fired after it.
    async fn apply(
        &self,
        steps: Vec<Step>,
        now: Timestamp,
        routing: &Routing,
    ) -> ServiceResult<Evaluated> {
        let mut done = Evaluated::default();
        let mut renamed: HashMap<String, String> = HashMap::new();
        for step in steps {
            match step {
                Step::Fire(mut new) => {
                    rename_root(&mut new.inhibited_by, &renamed);
                    let mut work = self.core.begin(Mutation::FireAlert).await?;
                    match work.tx().fire_alert(&new, now).await? {
                        Some(alert) => {
                            self.changed(&mut work, &alert);
                            let queued = routing
                                .enqueue_transition(work.tx(), None, &alert, now)
                                .await?;
                            queued_signals(&mut work, &queued);
                            work.commit().await?;
                            done.fired += 1;
                        }
                        None => {
                            drop(work);
                            done.lost += 1;
                            let system = new.system_ids.first().map(String::as_str);
                            let winner = self
                                .core
                                .store
                                .active_alerts(system)
                                .await?
                                .into_iter()
                                .find(|a| a.fingerprint == new.fingerprint);
                            if let Some(winner) = winner {
                                renamed.insert(new.id, winner.id);
                            }
                        }
                    }
                }
                Step::Move { read, mut next } => {
                    rename_root(&mut next.inhibited_by, &renamed);
                    let mut work = self.core.begin(Mutation::MoveAlert).await?;
                    match work.tx().move_alert(&read, &next, now).await? {
                        Some(alert) => {
                            self.changed(&mut work, &alert);
                            let queued = routing
                                .enqueue_transition(work.tx(), Some(read.state), &alert, now)
                                .await?;
                            queued_signals(&mut work, &queued);
                            work.commit().await?;
                            if alert.state == AlertState::Resolved {
                                done.resolved += 1;
                            } else {
                                done.moved += 1;
                            }
                        }
                        None => done.lost += 1,
                    }
                }
            }
        }
        for (state, count) in [
            ("firing", done.fired),
            ("moved", done.moved),
            ("resolved", done.resolved),
            ("lost", done.lost),
        ] {
            metrics::counter!("slod_alert_transitions_total", "transition" => state)
                .increment(count as u64);
        }
        Ok(done)
    }

    /// Enqueues the reminders due at `now` for the firing alerts among `active` (one unit of
    /// work; a reminder already queued, by this replica or another, is left as it is).
    async fn remind(
        &self,
        routing: &Routing,
        active: &[Alert],
        now: Timestamp,
    ) -> ServiceResult<()> {
        let due = routing.reminders(active, now);
        if due.is_empty() {
            return Ok(());
        }
        let mut work = self.core.begin(Mutation::RemindAlerts).await?;
        let mut queued = Vec::new();
        for (new, revision) in &due {
            queued.extend(work.tx().enqueue_reminder(new, *revision, now).await?);
        }
        queued_signals(&mut work, &queued);
        work.commit().await
    }

    /// An alert fired or moved: its cached reads, then `alert.changed` per system.
    fn changed(&self, work: &mut Work, alert: &Alert) {
        work.invalidate(self.core.views.alerts.changed(&alert.id, &alert.system_ids));
        for system in &alert.system_ids {
            work.signal(Signal::AlertChanged(AlertChanged {
                alert_id: alert.id.clone(),
                system_id: system.clone(),
                objective_id: alert.objective_id.clone(),
                kind: alert.kind,
                severity: alert.severity,
                state: alert.state,
            }));
        }
    }

    /// Alerts matching `filter`, latest started first, a page at a time.
    pub async fn list(&self, filter: AlertFilter, paging: Paging) -> ServiceResult<AlertList> {
        let page = self.core.views.alerts.page(filter, paging).await?;
        Ok(AlertList {
            alerts: page.items,
            next_cursor: page.next_cursor,
        })
    }

    /// One alert.
    pub async fn get(&self, id: &AlertId) -> ServiceResult<Alert> {
        self.core
            .views
            .alerts
            .one(id.as_str())
            .await?
            .ok_or_else(|| ServiceError::not_found(AlertId::KIND, id.as_str()))
    }

    /// Creates a silence on behalf of `created_by` (a token's name). Errors: invalid fields,
    /// unknown systems (`systemIds`) or objectives (`objectiveIds`).
    pub async fn silence(
        &self,
        input: CreateSilence,
        created_by: String,
    ) -> ServiceResult<Silence> {
        let now = Timestamp::now();
        let mut problems = Problems::default();
        let system_ids: Vec<String> = problems
            .ids::<SystemId>("systemIds", &input.system_ids)
            .into_iter()
            .map(String::from)
            .collect();
        let objective_ids: Vec<String> = problems
            .ids::<ObjectiveId>("objectiveIds", &input.objective_ids)
            .into_iter()
            .map(String::from)
            .collect();
        for (field, n) in [
            ("systemIds", input.system_ids.len()),
            ("objectiveIds", input.objective_ids.len()),
        ] {
            if n > MAX_SYSTEMS {
                problems.add(field, format!("at most {MAX_SYSTEMS} ids"));
            }
        }
        if input.system_ids.is_empty() && input.objective_ids.is_empty() && input.kinds.is_empty() {
            problems.add(
                "systemIds",
                "name what to mute: at least one of systemIds, objectiveIds and kinds",
            );
        }
        if input.until <= now {
            problems.add("until", "must be in the future");
        } else if input.until.duration_since(now) > MAX_SILENCE {
            problems.add("until", "a silence lasts at most 366 days");
        }
        problems.text("reason", &input.reason, MAX_REASON);
        problems.into_result()?;
        let new = NewSilence {
            system_ids,
            objective_ids,
            kinds: input.kinds,
            until: input.until,
            reason: input.reason.trim().to_owned(),
            created_by,
        };
        let mut work = self.core.begin(Mutation::CreateSilence).await?;
        let silence = work.tx().create_silence(&new, now).await?;
        self.silence_changed(&mut work, &silence);
        work.commit().await?;
        Ok(silence)
    }

    /// Ends a silence now; one already ended or expired is returned as it is.
    pub async fn end_silence(&self, id: &SilenceId) -> ServiceResult<Silence> {
        let now = Timestamp::now();
        let mut work = self.core.begin(Mutation::EndSilence).await?;
        let silence = work
            .tx()
            .end_silence(id.as_str(), now)
            .await?
            .ok_or_else(|| ServiceError::not_found(SilenceId::KIND, id.as_str()))?;
        self.silence_changed(&mut work, &silence);
        work.commit().await?;
        Ok(silence)
    }

    /// A silence was created or ended: its cached reads, then `silence.changed`. Alerts it
    /// mutes move at the next evaluation, each with its own `alert.changed`.
    fn silence_changed(&self, work: &mut Work, silence: &Silence) {
        work.invalidate(
            self.core
                .views
                .silences
                .changed(&silence.id, &silence.system_ids),
        );
        work.signal(Signal::SilenceChanged(SilenceChanged {
            silence_id: silence.id.clone(),
            status: silence.status,
        }));
    }

    /// One silence, with its status at this instant.
    pub async fn get_silence(&self, id: &SilenceId) -> ServiceResult<Silence> {
        self.core
            .views
            .silences
            .one(id.as_str())
            .await?
            .map(|s| s.at(Timestamp::now()))
            .ok_or_else(|| ServiceError::not_found(SilenceId::KIND, id.as_str()))
    }

    /// Silences, latest created first, a page at a time, each with its status now.
    pub async fn silences(&self, paging: Paging) -> ServiceResult<SilenceList> {
        let page = self.core.views.silences.page((), paging).await?;
        let now = Timestamp::now();
        Ok(SilenceList {
            silences: page.items.into_iter().map(|s| s.at(now)).collect(),
            next_cursor: page.next_cursor,
        })
    }
}

/// `slod_alerts{state, kind}`: the active alerts, every combination present (0 when none).
fn record_gauges(active: &[(AlertState, AlertKind)]) {
    for state in [
        AlertState::Firing,
        AlertState::Inhibited,
        AlertState::Silenced,
    ] {
        for &kind in AlertKind::ALL {
            let n = active.iter().filter(|a| **a == (state, kind)).count();
            metrics::gauge!("slod_alerts", "state" => state.as_str(), "kind" => kind.as_str())
                .set(n as f64);
        }
    }
}

/// Names the winner's id where a root cause names an alert another evaluation fired first.
fn rename_root(root: &mut Option<slod_store::InhibitedBy>, renamed: &HashMap<String, String>) {
    if let Some(root) = root {
        if let Some(id) = renamed.get(&root.alert_id) {
            root.alert_id = id.clone();
        }
    }
}

/// `notification.changed` for each delivery queued by `work`.
fn queued_signals(work: &mut Work, queued: &[slod_store::Delivery]) {
    for delivery in queued {
        work.signal(Signal::NotificationChanged(NotificationChanged {
            subject: NotificationSubject::Delivery,
            id: delivery.id.clone(),
            deleted: false,
        }));
    }
}
