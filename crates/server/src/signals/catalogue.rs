//! The typed signal catalogue: every event `/signals` can carry, its name and its payload, in
//! one enum. SSE, the cross-replica fan-out and the OpenAPI description all read it, so an event
//! name is written here and nowhere else (api.md, "Signals").

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use slod_engine::achievements::AchievementKind;
use slod_engine::digest::Digest;
use slod_engine::{Health, MaintenanceStatus, Tier};
use slod_store::{AlertKind, AlertSeverity, AlertState, IncidentStatus, SilenceStatus};

/// One announced change. Serialized as `{"event": <name>, "data": <payload>}` between
/// replicas; on the SSE stream the name is the `event:` field and the payload the `data:`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", content = "data")]
pub enum Signal {
    /// An objective's status changed (its budget, tier or breach).
    #[serde(rename = "slo.status.changed")]
    StatusChanged(StatusChanged),
    /// An objective was deleted (on its own, or with the check it was scoped to).
    #[serde(rename = "slo.objective.deleted")]
    ObjectiveDeleted(ObjectiveRef),
    /// A system's rolled-up health changed.
    #[serde(rename = "health.changed")]
    HealthChanged(HealthChanged),
    /// A system was created, or its name, description or dependencies changed.
    #[serde(rename = "system.changed")]
    SystemChanged(SystemRef),
    /// A system was deleted with everything that hung off it.
    #[serde(rename = "system.deleted")]
    SystemDeleted(SystemRef),
    /// An incident naming this system opened or was resolved (one signal per system).
    #[serde(rename = "incident.changed")]
    IncidentChanged(IncidentChanged),
    /// A maintenance window naming this system was recorded or cancelled.
    #[serde(rename = "maintenance.changed")]
    MaintenanceChanged(MaintenanceChanged),
    /// The daily bookkeeping moved an objective's streak.
    #[serde(rename = "slo.streak.updated")]
    StreakUpdated(StreakUpdated),
    /// The daily bookkeeping unlocked an achievement.
    #[serde(rename = "slo.achievement.unlocked")]
    AchievementUnlocked(AchievementUnlocked),
    /// An alert fired, changed state or resolved (one signal per system it is about).
    #[serde(rename = "alert.changed")]
    AlertChanged(AlertChanged),
    /// A silence was created or ended (every subscriber hears it: a silence may name no
    /// system).
    #[serde(rename = "silence.changed")]
    SilenceChanged(SilenceChanged),
    /// A notification channel or policy was created, replaced or deleted, or a delivery
    /// attempt was recorded (every subscriber hears it).
    #[serde(rename = "notification.changed")]
    NotificationChanged(NotificationChanged),
    /// The weekly digest (Monday 09:00 UTC).
    #[serde(rename = "slo.digest")]
    Digest(Box<Digest>),
    /// Signals may have been lost (a replica lost the signal bus, or a reconnecting client's
    /// `Last-Event-ID` is too old): refetch everything.
    #[serde(rename = "signals.resync")]
    Resync(Resync),
}

/// `slo.status.changed`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusChanged {
    pub system_id: String,
    pub objective_id: String,
    /// Percent of the error budget left, 0..=100.
    pub budget_remaining_percent: f64,
    pub is_breaching: bool,
    pub tier: Tier,
}

/// An objective, by id and system.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectiveRef {
    pub system_id: String,
    pub objective_id: String,
}

/// A system, by id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SystemRef {
    pub system_id: String,
}

/// `health.changed`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthChanged {
    pub system_id: String,
    pub status: Health,
}

/// `incident.changed`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IncidentChanged {
    pub incident_id: String,
    pub system_id: String,
    pub status: IncidentStatus,
}

/// `maintenance.changed`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MaintenanceChanged {
    pub maintenance_id: String,
    pub system_id: String,
    pub status: MaintenanceStatus,
}

/// `alert.changed`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlertChanged {
    pub alert_id: String,
    pub system_id: String,
    /// The objective, for objective alerts.
    pub objective_id: Option<String>,
    pub kind: AlertKind,
    pub severity: AlertSeverity,
    pub state: AlertState,
}

/// `silence.changed`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SilenceChanged {
    pub silence_id: String,
    pub status: SilenceStatus,
}

/// What a `notification.changed` is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationSubject {
    Channel,
    Policy,
    Delivery,
}

/// `notification.changed`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationChanged {
    pub subject: NotificationSubject,
    /// The channel's, policy's or delivery's id.
    pub id: String,
    pub deleted: bool,
}

/// `slo.streak.updated`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StreakUpdated {
    pub system_id: String,
    pub objective_id: String,
    /// The UTC day counted, `YYYY-MM-DD`.
    pub day: String,
    pub current_days: u32,
    pub best_days: u32,
}

/// `slo.achievement.unlocked`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AchievementUnlocked {
    pub system_id: String,
    pub kind: AchievementKind,
    #[schema(value_type = String, format = DateTime)]
    pub unlocked_at: Timestamp,
}

/// `signals.resync`: no payload.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Resync {}

impl Signal {
    /// Every event name, in catalogue order (the OpenAPI description lists them).
    pub const NAMES: [&'static str; 14] = [
        "slo.status.changed",
        "slo.objective.deleted",
        "health.changed",
        "system.changed",
        "system.deleted",
        "incident.changed",
        "maintenance.changed",
        "slo.streak.updated",
        "slo.achievement.unlocked",
        "alert.changed",
        "silence.changed",
        "notification.changed",
        "slo.digest",
        "signals.resync",
    ];

    /// Whether the dashboard refetches on the signal `name`: on every one but the weekly
    /// digest and `notification.changed` (notification settings and deliveries are not on it).
    pub fn refreshes_dashboard(name: &str) -> bool {
        !matches!(name, "slo.digest" | "notification.changed")
    }

    /// The event name (`slo.status.changed`, ...).
    pub fn name(&self) -> &'static str {
        Self::NAMES[match self {
            Signal::StatusChanged(_) => 0,
            Signal::ObjectiveDeleted(_) => 1,
            Signal::HealthChanged(_) => 2,
            Signal::SystemChanged(_) => 3,
            Signal::SystemDeleted(_) => 4,
            Signal::IncidentChanged(_) => 5,
            Signal::MaintenanceChanged(_) => 6,
            Signal::StreakUpdated(_) => 7,
            Signal::AchievementUnlocked(_) => 8,
            Signal::AlertChanged(_) => 9,
            Signal::SilenceChanged(_) => 10,
            Signal::NotificationChanged(_) => 11,
            Signal::Digest(_) => 12,
            Signal::Resync(_) => 13,
        }]
    }

    /// The system the change belongs to (for `?systemId=`); `None` for signals of no one
    /// system, which every subscriber receives.
    pub fn system_id(&self) -> Option<&str> {
        match self {
            Signal::StatusChanged(s) => Some(&s.system_id),
            Signal::ObjectiveDeleted(s) => Some(&s.system_id),
            Signal::HealthChanged(s) => Some(&s.system_id),
            Signal::SystemChanged(s) | Signal::SystemDeleted(s) => Some(&s.system_id),
            Signal::IncidentChanged(s) => Some(&s.system_id),
            Signal::MaintenanceChanged(s) => Some(&s.system_id),
            Signal::StreakUpdated(s) => Some(&s.system_id),
            Signal::AchievementUnlocked(s) => Some(&s.system_id),
            Signal::AlertChanged(s) => Some(&s.system_id),
            Signal::SilenceChanged(_)
            | Signal::NotificationChanged(_)
            | Signal::Digest(_)
            | Signal::Resync(_) => None,
        }
    }

    /// The payload as JSON text, as the SSE `data:` field carries it.
    pub fn data_json(&self) -> String {
        let data = match self {
            Signal::StatusChanged(p) => serde_json::to_string(p),
            Signal::ObjectiveDeleted(p) => serde_json::to_string(p),
            Signal::HealthChanged(p) => serde_json::to_string(p),
            Signal::SystemChanged(p) | Signal::SystemDeleted(p) => serde_json::to_string(p),
            Signal::IncidentChanged(p) => serde_json::to_string(p),
            Signal::MaintenanceChanged(p) => serde_json::to_string(p),
            Signal::StreakUpdated(p) => serde_json::to_string(p),
            Signal::AchievementUnlocked(p) => serde_json::to_string(p),
            Signal::AlertChanged(p) => serde_json::to_string(p),
            Signal::SilenceChanged(p) => serde_json::to_string(p),
            Signal::NotificationChanged(p) => serde_json::to_string(p),
            Signal::Digest(p) => serde_json::to_string(p),
            Signal::Resync(p) => serde_json::to_string(p),
        };
        // Plain structs of strings, numbers and enums always encode.
        data.unwrap_or_else(|_| "{}".to_owned())
    }

    /// The SSE events' description for the OpenAPI document: every name with its payload.
    pub fn describe() -> String {
        format!(
            "Server-Sent Events. Each event has `event:` (its name), `id:` and `data:` (JSON). \
             Events: {}.",
            Self::NAMES.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One example of every signal; the match makes a new variant fail to compile here until
    /// it has an example.
    fn examples() -> Vec<Signal> {
        let all = vec![
            Signal::StatusChanged(StatusChanged {
                system_id: "s".into(),
                objective_id: "o".into(),
                budget_remaining_percent: 50.0,
                is_breaching: false,
                tier: Tier::Healthy,
            }),
            Signal::ObjectiveDeleted(ObjectiveRef {
                system_id: "s".into(),
                objective_id: "o".into(),
            }),
            Signal::HealthChanged(HealthChanged {
                system_id: "s".into(),
                status: Health::Unhealthy,
            }),
            Signal::SystemChanged(SystemRef {
                system_id: "s".into(),
            }),
            Signal::SystemDeleted(SystemRef {
                system_id: "s".into(),
            }),
            Signal::IncidentChanged(IncidentChanged {
                incident_id: "i".into(),
                system_id: "s".into(),
                status: IncidentStatus::Open,
            }),
            Signal::MaintenanceChanged(MaintenanceChanged {
                maintenance_id: "m".into(),
                system_id: "s".into(),
                status: MaintenanceStatus::Scheduled,
            }),
            Signal::StreakUpdated(StreakUpdated {
                system_id: "s".into(),
                objective_id: "o".into(),
                day: "2026-11-01".into(),
                current_days: 1,
                best_days: 1,
            }),
            Signal::AchievementUnlocked(AchievementUnlocked {
                system_id: "s".into(),
                kind: AchievementKind::FirstSteps,
                unlocked_at: Timestamp::UNIX_EPOCH,
            }),
            Signal::AlertChanged(AlertChanged {
                alert_id: "a".into(),
                system_id: "s".into(),
                objective_id: None,
                kind: AlertKind::Health,
                severity: AlertSeverity::Ticket,
                state: AlertState::Firing,
            }),
            Signal::SilenceChanged(SilenceChanged {
                silence_id: "s".into(),
                status: SilenceStatus::Active,
            }),
            Signal::NotificationChanged(NotificationChanged {
                subject: NotificationSubject::Delivery,
                id: "d".into(),
                deleted: false,
            }),
            Signal::Digest(Box::new(slod_engine::digest::digest(
                vec![],
                Timestamp::UNIX_EPOCH,
            ))),
            Signal::Resync(Resync {}),
        ];
        for s in &all {
            match s {
                Signal::StatusChanged(_)
                | Signal::ObjectiveDeleted(_)
                | Signal::HealthChanged(_)
                | Signal::SystemChanged(_)
                | Signal::SystemDeleted(_)
                | Signal::IncidentChanged(_)
                | Signal::MaintenanceChanged(_)
                | Signal::StreakUpdated(_)
                | Signal::AchievementUnlocked(_)
                | Signal::AlertChanged(_)
                | Signal::SilenceChanged(_)
                | Signal::NotificationChanged(_)
                | Signal::Digest(_)
                | Signal::Resync(_) => {}
            }
        }
        all
    }

    #[test]
    fn every_name_is_the_serde_tag_and_appears_once() {
        let all = examples();
        assert_eq!(all.len(), Signal::NAMES.len());
        for (signal, name) in all.iter().zip(Signal::NAMES) {
            assert_eq!(signal.name(), name);
            let tagged = serde_json::to_value(signal).unwrap();
            assert_eq!(tagged["event"], name, "the wire name is the catalogue name");
            assert_eq!(
                tagged["data"],
                serde_json::from_str::<serde_json::Value>(&signal.data_json()).unwrap()
            );
            let back: Signal = serde_json::from_value(tagged).unwrap();
            assert_eq!(&back, signal, "a signal crosses replicas unchanged");
        }
    }

    #[test]
    fn payloads_keep_their_documented_shape() {
        let status = &examples()[0];
        assert_eq!(
            status.data_json(),
            r#"{"systemId":"s","objectiveId":"o","budgetRemainingPercent":50.0,"isBreaching":false,"tier":"healthy"}"#
        );
        assert_eq!(examples()[3].data_json(), r#"{"systemId":"s"}"#);
        assert_eq!(examples()[3].system_id(), Some("s"));
        assert_eq!(examples()[13].data_json(), "{}");
        assert_eq!(examples()[12].system_id(), None);
        assert_eq!(examples()[11].system_id(), None);
        assert_eq!(
            examples()[11].data_json(),
            r#"{"subject":"delivery","id":"d","deleted":false}"#
        );
        assert_eq!(examples()[10].system_id(), None);
        assert_eq!(
            examples()[9].data_json(),
            r#"{"alertId":"a","systemId":"s","objectiveId":null,"kind":"health","severity":"ticket","state":"firing"}"#
        );
    }
}
