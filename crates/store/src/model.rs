//! What the store keeps, as the API returns it (camelCase JSON, RFC 3339 times, nulls present).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use slod_engine::{CheckStatus, Health};

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
    pub(crate) fn as_str(self) -> &'static str {
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
    pub system_id: String,
    pub health_before: Health,
    pub health_after: Health,
    /// Whether the system's or the check's timeline changed (an interval opened, closed or got
    /// worse): objectives reading them must be recomputed.
    pub timeline_changed: bool,
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
