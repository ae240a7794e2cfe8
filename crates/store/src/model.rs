//! What the store keeps, as the API returns it (camelCase JSON, RFC 3339 times, nulls present).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use slod_engine::achievements::AchievementKind;
use slod_engine::{CheckStatus, Health, MaintenanceStatus, MaintenanceWindow};

/// A monitored system and the systems it depends on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct System {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// Upstream systems, sorted by id.
    pub depends_on: Vec<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

/// A system to create. The id is generated when absent.
#[derive(Clone, Debug, Default)]
pub struct NewSystem {
    pub id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub depends_on: Vec<String>,
}

/// Changes to a system; `None` keeps the stored value.
#[derive(Clone, Debug, Default)]
pub struct SystemPatch {
    pub name: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    pub depends_on: Option<Vec<String>>,
}

/// How a check's results arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    /// Results are posted by an agent or a CI job.
    Push,
    /// slod requests a URL.
    Http,
    /// slod opens a TCP connection to `host:port`.
    Tcp,
}

impl CheckKind {
    /// The name as stored and sent (`push`, `http`, `tcp`).
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Push => "push",
            CheckKind::Http => "http",
            CheckKind::Tcp => "tcp",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "push" => CheckKind::Push,
            "http" => CheckKind::Http,
            "tcp" => CheckKind::Tcp,
            _ => return None,
        })
    }
}

/// A health check of a system.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub id: String,
    pub system_id: String,
    pub name: String,
    pub kind: CheckKind,
    /// A URL for http checks, `host:port` for tcp checks, `null` for push checks.
    pub target: Option<String>,
    pub interval_seconds: u32,
    pub timeout_ms: u32,
    /// Accepted HTTP status range, inclusive: `[min, max]`.
    pub expect_status: [u16; 2],
    pub enabled: bool,
    pub latest_status: Option<CheckStatus>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub latest_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

/// A check to create (already validated by the caller).
#[derive(Clone, Debug)]
pub struct NewCheck {
    pub name: String,
    pub kind: CheckKind,
    pub target: Option<String>,
    pub interval_seconds: u32,
    pub timeout_ms: u32,
    pub expect_status: [u16; 2],
    pub enabled: bool,
}

/// Changes to a check; `None` keeps the stored value. The kind cannot change.
#[derive(Clone, Debug, Default)]
pub struct CheckPatch {
    pub name: Option<String>,
    pub target: Option<Option<String>>,
    pub interval_seconds: Option<u32>,
    pub timeout_ms: Option<u32>,
    pub expect_status: Option<[u16; 2]>,
    pub enabled: Option<bool>,
}

/// One stored result of a check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    pub check_id: String,
    pub status: CheckStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    pub latency_ms: Option<f64>,
    pub message: Option<String>,
}

/// A result to record; `at` defaults to the time of recording.
#[derive(Clone, Debug)]
pub struct NewResult {
    pub status: CheckStatus,
    pub at: Option<Timestamp>,
    pub latency_ms: Option<f64>,
    pub message: Option<String>,
}

/// What recording results changed.
#[derive(Clone, Debug, PartialEq)]
pub struct Ingested {
    pub accepted: usize,
    /// How the check's system's health and timeline moved, as the transaction saw it.
    pub health: HealthMove,
}

/// What deleting a system removed or changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeletedSystem {
    /// Its objectives, deleted with it.
    pub objectives: Vec<String>,
    /// The incidents that named it (they name it no more).
    pub incidents: Vec<String>,
    /// The maintenance windows that named it (they name it no more).
    pub maintenances: Vec<String>,
}

/// What deleting a check removed, and how its system's health moved.
#[derive(Clone, Debug, PartialEq)]
pub struct DeletedCheck {
    pub system_id: String,
    pub health: HealthMove,
    /// The objectives scoped to the check, deleted with it.
    pub objectives: Vec<String>,
}

/// One check's part in its system's health.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CheckHealth {
    pub check_id: String,
    pub name: String,
    pub kind: CheckKind,
    pub enabled: bool,
    pub status: Option<CheckStatus>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub at: Option<Timestamp>,
}

/// A system's rolled-up health.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SystemHealth {
    pub system_id: String,
    pub status: Health,
    /// When the system entered this status; `null` while unknown.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub since: Option<Timestamp>,
    pub checks: Vec<CheckHealth>,
}

/// What a token may do. `manage` implies `ingest` and `read`; `ingest` does not imply `read`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Ingest,
    Manage,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Ingest => "ingest",
            Scope::Manage => "manage",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "read" => Scope::Read,
            "ingest" => Scope::Ingest,
            "manage" => Scope::Manage,
            _ => return None,
        })
    }

    /// Whether a token of this scope may do what `needed` allows.
    pub fn allows(self, needed: Scope) -> bool {
        self == needed || self == Scope::Manage
    }
}

/// A stored API token (its secret is never stored, only its hash).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub scope: Scope,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub revoked_at: Option<Timestamp>,
}

/// A maintenance window over a set of systems. `status` is derived from time when read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Maintenance {
    pub id: String,
    pub title: String,
    /// Sorted by id.
    pub system_ids: Vec<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub start_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub end_at: Timestamp,
    pub status: MaintenanceStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub cancelled_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

impl Maintenance {
    /// The window as the engine reads it.
    pub fn window(&self) -> MaintenanceWindow {
        MaintenanceWindow {
            start_at: self.start_at,
            end_at: self.end_at,
            cancelled: self.cancelled_at.is_some(),
        }
    }

    /// The same window with its status as of `now` (a cached copy may have been read earlier).
    pub fn at(mut self, now: Timestamp) -> Self {
        self.status = self.window().status(now);
        self
    }
}

/// A maintenance window to create (already validated: `start_at < end_at`, systems given).
#[derive(Clone, Debug)]
pub struct NewMaintenance {
    pub title: String,
    pub system_ids: Vec<String>,
    pub start_at: Timestamp,
    pub end_at: Timestamp,
}

/// Which maintenance windows a list returns: those of a system, overlapping `[from, to)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct MaintenanceFilter {
    pub system_id: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// Whether an incident is still open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum IncidentStatus {
    Open,
    Resolved,
}

/// An incident on a set of systems. With `healthOverride`, its systems are unhealthy while it
/// is open, whatever their checks say.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Incident {
    pub id: String,
    pub title: String,
    /// Sorted by id.
    pub system_ids: Vec<String>,
    pub health_override: bool,
    pub status: IncidentStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub opened_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub resolved_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

/// An incident to open (already validated).
#[derive(Clone, Debug)]
pub struct NewIncident {
    pub title: String,
    pub system_ids: Vec<String>,
    pub health_override: bool,
}

/// Which incidents a list returns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct IncidentFilter {
    pub system_id: Option<String>,
    pub status: Option<IncidentStatus>,
}

/// How one system's health moved when an incident opened or was resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct HealthMove {
    pub system_id: String,
    pub before: Health,
    pub after: Health,
    /// Whether its timeline changed (an interval opened, closed, or changed source).
    pub timeline_changed: bool,
}

impl HealthMove {
    /// Whether anything an objective or a health view reads moved.
    pub fn moved(&self) -> bool {
        self.timeline_changed || self.before != self.after
    }

    /// The new rolled-up health, when it differs from the old one.
    pub fn changed_health(&self) -> Option<Health> {
        (self.before != self.after).then_some(self.after)
    }
}

/// How an objective stood at the end of one UTC day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub objective_id: String,
    /// The UTC day, `YYYY-MM-DD`.
    pub day: String,
    pub availability: f64,
    pub consumed_minutes: f64,
    pub remaining_percent: f64,
    pub burn_rate: Option<f64>,
    pub is_breaching: bool,
    /// The streak at the end of the day: consecutive days that ended neither breaching nor
    /// down.
    pub streak_days: u32,
    /// The longest streak up to this day.
    pub best_days: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub taken_at: Timestamp,
}

/// An objective's streak as of the last day counted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StreakRecord {
    pub objective_id: String,
    pub system_id: String,
    pub objective_name: Option<String>,
    /// The last UTC day counted.
    pub day: String,
    pub current_days: u32,
    pub best_days: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

/// An achievement a system unlocked (never revoked).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Achievement {
    pub system_id: String,
    pub kind: AchievementKind,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub unlocked_at: Timestamp,
}

/// Something worth celebrating: an achievement unlocked, or a streak reaching a round number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Milestone {
    /// `achievement` or `streak`.
    pub kind: String,
    pub system_id: String,
    pub objective_id: Option<String>,
    /// The achievement's kind, or the streak's length (`7_days`, ...).
    pub detail: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
}
