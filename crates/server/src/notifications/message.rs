//! What a delivery says, in each channel's own shape: the versioned webhook payload,
//! Alertmanager's alerts (`POST /api/v2/alerts`), a Slack message and an email.

use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;
use slod_store::{Alert, AlertKind, AlertState, NotifyEvent};

/// The version of the webhook payload; bumped on any change a receiver could notice.
pub const WEBHOOK_VERSION: &str = "1";

/// The header carrying a webhook's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
/// "<t>.<body>">` (the scheme Stripe's webhooks use).
pub const SIGNATURE_HEADER: &str = "Slod-Signature";

/// One alert transition as it was when it happened: what every channel's message is made
/// from. Stored with the delivery (JSON), so a retry says what the first attempt said.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    pub event: NotifyEvent,
    pub alert: Alert,
    /// The objective's name, for objective alerts that have one.
    pub objective_name: Option<String>,
    /// The alert on the dashboard: `<SLOD_PUBLIC_URL>/#alert-<id>`.
    pub dashboard_url: String,
    /// When the transition happened.
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: Timestamp,
}

/// The webhook body (version [`WEBHOOK_VERSION`]): `{"version", "event", "occurredAt",
/// "alert", "objectiveName", "dashboardUrl"}`, the alert as `GET /api/v1/alerts/{id}` returns
/// it.
pub fn webhook_body(notice: &Notice) -> Value {
    json!({
        "version": WEBHOOK_VERSION,
        "event": notice.event,
        "occurredAt": notice.occurred_at,
        "alert": notice.alert,
        "objectiveName": notice.objective_name,
        "dashboardUrl": notice.dashboard_url,
    })
}

/// The value of [`SIGNATURE_HEADER`] for `body` sent at `at` with `secret`.
pub fn signature(secret: &str, at: Timestamp, body: &[u8]) -> String {
    let t = at.as_second();
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Alertmanager's `alertname` for an alert kind.
pub fn alertname(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::BurnRate => "SLOBurnRate",
        AlertKind::BudgetLow => "SLOBudgetLow",
        AlertKind::Breaching => "SLOBreaching",
        AlertKind::Health => "SystemUnhealthy",
        AlertKind::Incident => "IncidentOpen",
    }
}

/// One alert in Alertmanager's `POST /api/v2/alerts` shape. Labels: `alertname`, `severity`,
/// `system` (the system ids, comma-separated), and for objective alerts `objective` (its id)
/// and `objective_name`. Annotations: `summary`, `description`, `dashboard_url`. A firing
/// alert ends at `firing_until` (so Alertmanager keeps it only while slod re-sends it); a
/// resolved one at its resolution.
pub fn alertmanager_alert(notice: &Notice, firing_until: Timestamp) -> Value {
    let alert = &notice.alert;
    let mut labels = serde_json::Map::new();
    labels.insert("alertname".into(), alertname(alert.kind).into());
    labels.insert("severity".into(), alert.severity.as_str().into());
    labels.insert("system".into(), alert.system_ids.join(",").into());
    if let Some(objective) = &alert.objective_id {
        labels.insert("objective".into(), objective.clone().into());
        labels.insert(
            "objective_name".into(),
            notice.objective_name.clone().unwrap_or_default().into(),
        );
    }
    let ends_at = match alert.ends_at {
        Some(ended) => ended,
        None => firing_until,
    };
    json!({
        "labels": labels,
        "annotations": {
            "summary": alert.summary,
            "description": description(notice),
            "dashboard_url": notice.dashboard_url,
        },
        "startsAt": alert.starts_at,
        "endsAt": ends_at,
        "generatorURL": notice.dashboard_url,
    })
}

/// When Alertmanager should drop a firing alert slod stops re-sending: four evaluation
/// intervals from `now`, so one or two missed evaluations never resolve it.
pub fn firing_until(now: Timestamp, interval_seconds: u64) -> Timestamp {
    let ahead = SignedDuration::from_secs(
        i64::try_from(interval_seconds.saturating_mul(4)).unwrap_or(i64::MAX),
    );
    now.checked_add(ahead).unwrap_or(now)
}

/// A Slack incoming-webhook message: `{"text": ...}`.
pub fn slack_body(notice: &Notice) -> Value {
    json!({ "text": format!("{}\n{}\n<{}|Open in slod>", subject(notice), description(notice), notice.dashboard_url) })
}

/// The one-line subject of an email or chat message: `[FIRING page] SLOBurnRate: <summary>`.
pub fn subject(notice: &Notice) -> String {
    let word = match notice.event {
        NotifyEvent::Firing => "FIRING",
        NotifyEvent::Repeat => "STILL FIRING",
        NotifyEvent::Resolved => "RESOLVED",
    };
    format!(
        "[{word} {}] {}: {}",
        notice.alert.severity.as_str(),
        alertname(notice.alert.kind),
        notice.alert.summary
    )
}

/// What happened, in a few lines: the systems, the objective, since when, and how it ended.
pub fn description(notice: &Notice) -> String {
    let alert = &notice.alert;
    let mut lines = vec![format!("Systems: {}", alert.system_ids.join(", "))];
    if let Some(objective) = &alert.objective_id {
        let name = notice.objective_name.as_deref().unwrap_or("unnamed");
        lines.push(format!("Objective: {name} ({objective})"));
    }
    lines.push(format!("Since: {}", alert.starts_at));
    if let Some(ended) = alert.ends_at {
        lines.push(format!("Resolved: {ended}"));
    } else if alert.state != AlertState::Firing {
        lines.push(format!("State: {}", alert.state.as_str()));
    }
    lines.join("\n")
}

/// The plain-text email body: the description, then the dashboard link.
pub fn email_body(notice: &Notice) -> String {
    format!(
        "{}\n\n{}\n\nDashboard: {}\n",
        notice.alert.summary,
        description(notice),
        notice.dashboard_url
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signature is the HMAC-SHA256 of `<t>.<body>`, checked against RFC 4231's first
    /// test vector shape by recomputing it independently with the same primitives.
    #[test]
    fn a_signature_covers_the_timestamp_and_the_body() {
        let at = Timestamp::from_second(1_700_000_000).unwrap();
        let header = signature("key", at, b"{}");
        assert!(header.starts_with("t=1700000000,v1="), "{header}");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"key").unwrap();
        mac.update(b"1700000000.{}");
        assert_eq!(
            header,
            format!(
                "t=1700000000,v1={}",
                hex::encode(mac.finalize().into_bytes())
            )
        );
        assert_ne!(header, signature("key", at, b"{ }"));
        assert_ne!(header, signature("other", at, b"{}"));
    }

    #[test]
    fn firing_alerts_end_four_intervals_ahead() {
        let now = Timestamp::from_second(1_000).unwrap();
        assert_eq!(
            firing_until(now, 30),
            Timestamp::from_second(1_120).unwrap()
        );
    }
}
