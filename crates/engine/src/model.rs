//! The domain types the engine computes with and the service returns as JSON (camelCase,
//! timestamps in RFC 3339 UTC, absent values as `null`).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The result of one health check run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Healthy,
    Degraded,
    Unhealthy,
}

impl CheckStatus {
    /// The name as stored and sent (`healthy`, `degraded`, `unhealthy`).
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Healthy => "healthy",
            CheckStatus::Degraded => "degraded",
            CheckStatus::Unhealthy => "unhealthy",
        }
    }

    /// `degraded` and `unhealthy` count as down.
    pub fn is_down(self) -> bool {
        self != CheckStatus::Healthy
    }
}

/// A system's (or check's) rolled-up health.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Healthy,
    Degraded,
    Unhealthy,
    /// No result yet. Opens nothing and closes nothing.
    Unknown,
}

impl Health {
    /// The status this health counts as down with, if it is down.
    pub fn down_status(self) -> Option<CheckStatus> {
        match self {
            Health::Degraded => Some(CheckStatus::Degraded),
            Health::Unhealthy => Some(CheckStatus::Unhealthy),
            Health::Healthy | Health::Unknown => None,
        }
    }
}

impl From<CheckStatus> for Health {
    fn from(s: CheckStatus) -> Self {
        match s {
            CheckStatus::Healthy => Health::Healthy,
            CheckStatus::Degraded => Health::Degraded,
            CheckStatus::Unhealthy => Health::Unhealthy,
        }
    }
}

/// What caused (or held) a down interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DownSource {
    Healthcheck,
    Incident,
}

/// One interval of a health timeline during which a system (or check) was down.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DownInterval {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub start: Timestamp,
    /// `None` while the interval is open (it ends at `now`).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub end: Option<Timestamp>,
    /// The worst status seen during the interval.
    pub worst: CheckStatus,
    pub source: DownSource,
}

/// A maintenance window's status, derived from time (and cancellation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceStatus {
    Scheduled,
    InProgress,
    Completed,
    Cancelled,
}

/// A planned window `[startAt, endAt)` for a set of systems.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MaintenanceWindow {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub start_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub end_at: Timestamp,
    pub cancelled: bool,
}

impl MaintenanceWindow {
    /// The status at `now`.
    pub fn status(&self, now: Timestamp) -> MaintenanceStatus {
        if self.cancelled {
            MaintenanceStatus::Cancelled
        } else if now < self.start_at {
            MaintenanceStatus::Scheduled
        } else if now < self.end_at {
            MaintenanceStatus::InProgress
        } else {
            MaintenanceStatus::Completed
        }
    }
}

/// How an objective's window is laid over time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum WindowKind {
    /// The last `windowDays` days up to now.
    #[default]
    Rolling,
    /// The current ISO week (Monday 00:00), in the objective's time zone.
    Week,
    /// The current calendar month.
    Month,
    /// The current calendar quarter.
    Quarter,
}

/// Whether an objective's budget counts upstream outages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum DependencyExclusion {
    /// Every minute the system was down counts.
    #[default]
    Strict,
    /// Minutes during which an upstream was also down are attributed to it and do not count.
    SelfOnly,
}

/// Thresholds dashboards and notifications use to flag an objective.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BurnRateThresholds {
    /// Budget consumed (percent) at which an objective is flagged as a warning.
    pub warning_percent: f64,
    /// Budget consumed (percent) at which an objective is flagged as critical.
    pub critical_percent: f64,
    /// The 1-hour burn rate that pages on a 30-day window (scaled for other windows).
    pub fast_burn_multiplier: f64,
}

impl Default for BurnRateThresholds {
    fn default() -> Self {
        BurnRateThresholds {
            warning_percent: 50.0,
            critical_percent: 80.0,
            fast_burn_multiplier: 14.4,
        }
    }
}

/// "System S (or one of its checks) is available at least `target` % of the window."
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Objective {
    pub id: String,
    pub system_id: String,
    pub health_check_id: Option<String>,
    pub name: Option<String>,
    /// Percent, 0..=100, with at most 6 decimals (99.999999), used exactly as given.
    pub target: f64,
    /// Days, 1..=3650: the length of a rolling window; `None` for calendar windows, whose
    /// length is the period's.
    pub window_days: Option<u32>,
    pub window_kind: WindowKind,
    /// IANA time zone calendar windows are aligned in; `None` is UTC.
    pub time_zone: Option<String>,
    pub dependency_exclusion: DependencyExclusion,
    pub excluded_dependency_ids: Vec<String>,
    pub exclude_maintenance_windows: bool,
    pub burn_rate_thresholds: BurnRateThresholds,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

/// Whose outage a stretch of downtime is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AttributionType {
    /// The system's own.
    #[serde(rename = "self")]
    Own,
    /// An upstream system's, down at the same time.
    Upstream,
}

/// A stretch of an objective's downtime with one attribution and one source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DowntimeSegment {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub start: Timestamp,
    /// `None` when the segment is still open at `now`.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub end: Option<Timestamp>,
    pub duration_seconds: f64,
    pub attribution_type: AttributionType,
    pub upstream_system_id: Option<String>,
    pub source: DownSource,
}

/// Minutes of downtime per source within the window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AttributionEntry {
    pub source_type: AttributionType,
    pub system_id: Option<String>,
    pub minutes: f64,
}

/// The objective's tier, most severe first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Breaching,
    Degraded,
    AtRisk,
    Healthy,
}

/// One row of the multi-window burn-rate alert table (the SRE workbook's, scaled to the
/// objective's window as Sloth scales it), evaluated at the status's instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AlertRule {
    /// `page` or `ticket`.
    pub severity: AlertLevel,
    /// The long look-back window (`1h`, `6h`, `1d`, `3d`).
    pub long_window: String,
    /// The short look-back window (`5m`, `30m`, `2h`, `6h`).
    pub short_window: String,
    /// Percent of the whole window's budget the rule is about (2, 5 or 10).
    pub budget_percent: f64,
    /// The burn rate both windows must exceed to fire:
    /// `budgetPercent / 100 * window hours / long window hours`.
    pub factor: f64,
    /// Whether both windows burn faster than `factor` now.
    pub firing: bool,
    /// Whether the rule can fire at all: `factor` is below the highest burn rate a total
    /// outage reaches, `100 / (100 - target)`. On long windows with loose targets the fastest
    /// page rule cannot (3650 days at 99.9 %: factor 1752, highest burn 1000); slod reports
    /// that instead of changing the rule.
    pub reachable: bool,
    /// The system's own downtime in the long window, in minutes.
    pub self_minutes: f64,
    /// Downtime attributed to upstream systems in the long window, in minutes (counted in
    /// `firing` only for strict objectives). Alert evaluation inhibits a rule whose upstream
    /// minutes exceed its own while an upstream alert fires.
    pub upstream_minutes: f64,
}

/// The highest multi-window burn alert firing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AlertLevel {
    None,
    Ticket,
    Page,
}

/// Burn rate per look-back window (`5m` .. `3d`); `null` when the target allows no downtime.
pub type BurnRates = BTreeMap<String, Option<f64>>;

/// The OpenAPI shape of [`BurnRates`]: one burn rate (a ratio, 1 = spending the budget exactly
/// over the window) per look-back window, `null` when the target allows no downtime.
#[cfg(feature = "openapi")]
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = BurnRates)]
pub struct BurnRatesSchema {
    #[serde(rename = "5m")]
    pub m5: Option<f64>,
    #[serde(rename = "30m")]
    pub m30: Option<f64>,
    #[serde(rename = "1h")]
    pub h1: Option<f64>,
    #[serde(rename = "2h")]
    pub h2: Option<f64>,
    #[serde(rename = "6h")]
    pub h6: Option<f64>,
    #[serde(rename = "1d")]
    pub d1: Option<f64>,
    #[serde(rename = "3d")]
    pub d3: Option<f64>,
}

/// Everything a dashboard shows about one objective at one instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub objective_id: String,
    pub system_id: String,
    pub target: f64,
    /// The window's length in calendar days (a rolling window's `windowDays`; 7 for a week,
    /// 28 to 31 for a month, 90 to 92 for a quarter).
    pub window_days: u32,
    /// The window's real length in minutes, the `W` of every budget formula (a calendar
    /// window in a time zone with DST is an hour shorter or longer than its days).
    pub window_minutes: u64,
    pub current_availability: f64,
    pub strict_availability: f64,
    pub error_budget_total_minutes: f64,
    pub error_budget_consumed_minutes: f64,
    pub error_budget_consumed_strict_minutes: f64,
    pub error_budget_remaining_minutes: f64,
    pub error_budget_remaining_percent: f64,
    pub burn_rate: Option<f64>,
    pub is_breaching: bool,
    pub has_open_downtime: bool,
    pub tier: Tier,
    pub attribution: Vec<AttributionEntry>,
    #[cfg_attr(feature = "openapi", schema(value_type = BurnRatesSchema))]
    pub burn_rates: BurnRates,
    /// Every row of the alert table, firing or not, reachable or not.
    pub alert_rules: Vec<AlertRule>,
    pub alerts: AlertLevel,
    pub time_to_exhaustion_minutes: Option<f64>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub computed_at: Timestamp,
}
