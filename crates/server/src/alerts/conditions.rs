//! What holds at one evaluation: the alert conditions of each objective, system and open
//! incident, with a one-line summary and what upstream systems could be to blame.
//!
//! | kind | severity | subject | holds while |
//! |---|---|---|---|
//! | `burn_rate` | `page`, `ticket` | objective | either rule of the tier fires (both its windows burn above the factor; the SRE workbook's table, engine.md "Status") |
//! | `budget_low` | `ticket` | objective | at most 20 % of the budget is left and the objective is not breaching |
//! | `breaching` | `ticket` | objective | availability is below the target |
//! | `health` | `ticket` | system | the system is unhealthy or degraded |
//! | `incident` | `ticket` | incident | the incident is open |

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use slod_engine::{
    upstream_closure, AlertLevel, AttributionType, DependencyExclusion, Health, Status,
};
use slod_store::{Alert, AlertKind, AlertSeverity, AlertSubject, Incident, SubjectType};

use crate::views::{Graph, ObjectiveStatus};

/// Remaining budget at or below this percent is `budget_low`.
pub const BUDGET_LOW_PERCENT: f64 = 20.0;

/// What identifies a condition among the active alerts: subject, kind, severity (what its
/// fingerprint is a hash of).
pub type Key<'a> = (SubjectType, &'a str, AlertKind, AlertSeverity);

/// The key of a stored alert.
pub fn key_of(alert: &Alert) -> Key<'_> {
    (
        alert.subject.subject_type,
        &alert.subject.id,
        alert.kind,
        alert.severity,
    )
}

/// One alert condition that holds, borrowing what it is about: an evaluation builds
/// thousands and writes a summary only for those that fire.
#[derive(Clone, Debug)]
pub struct Condition<'a> {
    pub subject_type: SubjectType,
    pub subject_id: &'a str,
    /// Sorted.
    pub system_ids: &'a [String],
    pub objective_id: Option<&'a str>,
    pub kind: AlertKind,
    pub severity: AlertSeverity,
    pub blame: Blame,
    about: About<'a>,
}

/// What a condition is about, for its summary.
#[derive(Clone, Copy, Debug)]
enum About<'a> {
    Objective(&'a ObjectiveStatus),
    System(&'a str, Health),
    Incident(&'a Incident),
}

impl<'a> Condition<'a> {
    pub fn key(&self) -> Key<'a> {
        (self.subject_type, self.subject_id, self.kind, self.severity)
    }

    pub fn subject(&self) -> AlertSubject {
        AlertSubject {
            subject_type: self.subject_type,
            id: self.subject_id.to_owned(),
        }
    }

    /// [`fingerprint`] of subject, kind and severity.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.subject(), self.kind, self.severity)
    }

    /// One line saying what holds.
    pub fn summary(&self) -> String {
        match self.about {
            About::Objective(o) => objective_summary(o, self.kind, self.severity),
            About::System(system, health) => format!(
                "{system} is {}",
                if health == Health::Degraded {
                    "degraded"
                } else {
                    "unhealthy"
                }
            ),
            About::Incident(incident) => format!("Incident open: {}", incident.title),
        }
    }
}

/// Whether an alert may be inhibited by an upstream's, and which upstreams come first.
#[derive(Clone, Debug, PartialEq)]
pub enum Blame {
    /// Never inhibited: the subject's own downtime dominates, the objective counts only its
    /// own downtime (self-only), or the subject is an incident someone declared.
    Own,
    /// Upstream systems' minutes exceed the system's own in the window that matters:
    /// inhibited while one of these upstreams (transitively) has an active alert. Ranked:
    /// most attributed minutes first, then nearest, then by id.
    Upstreams(Vec<String>),
    /// A system's health: inhibited while one of these upstreams (nearest first) is itself
    /// alerting on its health (down now).
    UpstreamHealth(Vec<String>),
}

/// 16 hex digits naming a condition: equal for every episode of one subject, kind and
/// severity (as Alertmanager fingerprints an alert by its labels).
pub fn fingerprint(subject: &AlertSubject, kind: AlertKind, severity: AlertSeverity) -> String {
    let text = format!(
        "{}\0{}\0{}\0{}",
        subject.subject_type.as_str(),
        subject.id,
        kind.as_str(),
        severity.as_str()
    );
    hex::encode(&Sha256::digest(text.as_bytes())[..8])
}

/// How an objective is named in a summary: its name, or its target and window.
fn objective_label(o: &ObjectiveStatus) -> String {
    match &o.objective.name {
        Some(name) => format!("{name:?}"),
        None => format!(
            "{}% over {} minutes",
            o.objective.target, o.status.window_minutes
        ),
    }
}

fn level_of(severity: AlertSeverity) -> AlertLevel {
    match severity {
        AlertSeverity::Page => AlertLevel::Page,
        AlertSeverity::Ticket => AlertLevel::Ticket,
    }
}

fn objective_summary(o: &ObjectiveStatus, kind: AlertKind, severity: AlertSeverity) -> String {
    let (label, system, status) = (objective_label(o), &o.objective.system_id, &o.status);
    match kind {
        AlertKind::BurnRate => {
            let level = level_of(severity);
            let Some(rule) = status
                .alert_rules
                .iter()
                .find(|r| r.severity == level && r.firing)
            else {
                return format!("{label} on {system} burns its error budget fast");
            };
            let rate = status
                .burn_rates
                .get(&rule.long_window)
                .copied()
                .flatten()
                .unwrap_or(0.0);
            format!(
                "{label} on {system} burns its error budget at {rate:.1}x over {long} (and {short}), above {factor:.1}x",
                long = rule.long_window,
                short = rule.short_window,
                factor = rule.factor,
            )
        }
        AlertKind::Breaching => format!(
            "{label} on {system}: availability {:.3}% is below its {}% target",
            status.current_availability, o.objective.target
        ),
        _ => format!(
            "{label} on {system}: {:.1}% of the error budget is left",
            status.error_budget_remaining_percent
        ),
    }
}

/// The upstreams of the objective's system that count (excluded dependencies count as its
/// own), ranked by the minutes attributed to them, then nearest, then id.
fn ranked_upstreams(o: &ObjectiveStatus, graph: &Graph) -> Vec<String> {
    let minutes: HashMap<&str, f64> = o
        .status
        .attribution
        .iter()
        .filter_map(|a| Some((a.system_id.as_deref()?, a.minutes)))
        .collect();
    let mut closure = upstream_closure(
        &o.objective.system_id,
        graph,
        &o.objective.excluded_dependency_ids,
    );
    closure.sort_by(|(a, da), (b, db)| {
        let (ma, mb) = (minutes.get(a.as_str()), minutes.get(b.as_str()));
        mb.unwrap_or(&0.0)
            .total_cmp(ma.unwrap_or(&0.0))
            .then(da.cmp(db))
            .then(a.cmp(b))
    });
    closure.into_iter().map(|(id, _)| id).collect()
}

/// Own and upstream minutes in the objective's window (its attribution).
fn window_minutes(status: &Status) -> (f64, f64) {
    status
        .attribution
        .iter()
        .fold((0.0, 0.0), |(own, up), a| match a.source_type {
            AttributionType::Own => (own + a.minutes, up),
            AttributionType::Upstream => (own, up + a.minutes),
        })
}

/// The conditions of one objective that hold in its status, added to `out`. Reads the
/// status's summary fields first (held inline): most objectives hold nothing, and their rules
/// and attribution are never touched.
pub fn of_objective<'a>(o: &'a ObjectiveStatus, graph: &Graph, out: &mut Vec<Condition<'a>>) {
    let status = &o.status;
    let budget_kind = if status.is_breaching {
        Some(AlertKind::Breaching)
    } else if status.error_budget_remaining_percent <= BUDGET_LOW_PERCENT {
        Some(AlertKind::BudgetLow)
    } else {
        None
    };
    if status.alerts == AlertLevel::None && budget_kind.is_none() {
        return;
    }
    let strict = o.objective.dependency_exclusion == DependencyExclusion::Strict;
    // Upstream minutes count only in a strict objective: a self-only one never blames them.
    let blame_if = |upstream_dominates: &dyn Fn() -> bool| {
        if strict && upstream_dominates() {
            Blame::Upstreams(ranked_upstreams(o, graph))
        } else {
            Blame::Own
        }
    };
    let make = |kind, severity, blame| Condition {
        subject_type: SubjectType::Objective,
        subject_id: &o.objective.id,
        system_ids: std::slice::from_ref(&o.objective.system_id),
        objective_id: Some(&o.objective.id),
        kind,
        severity,
        blame,
        about: About::Objective(o),
    };
    if status.alerts != AlertLevel::None {
        for severity in [AlertSeverity::Page, AlertSeverity::Ticket] {
            let level = level_of(severity);
            let firing = || {
                status
                    .alert_rules
                    .iter()
                    .filter(move |r| r.severity == level && r.firing)
            };
            if firing().next().is_none() {
                continue;
            }
            let blame = blame_if(&|| firing().all(|r| r.upstream_minutes > r.self_minutes));
            out.push(make(AlertKind::BurnRate, severity, blame));
        }
    }
    if let Some(kind) = budget_kind {
        let blame = blame_if(&|| {
            let (own, upstream) = window_minutes(status);
            upstream > own
        });
        out.push(make(kind, AlertSeverity::Ticket, blame));
    }
}

/// The health condition of a system, if it is unhealthy or degraded.
pub fn of_system<'a>(system: &'a String, health: Health, graph: &Graph) -> Option<Condition<'a>> {
    if !matches!(health, Health::Unhealthy | Health::Degraded) {
        return None;
    }
    let mut upstreams = upstream_closure(system, graph, &[]);
    upstreams.sort_by(|(a, da), (b, db)| da.cmp(db).then(a.cmp(b)));
    Some(Condition {
        subject_type: SubjectType::System,
        subject_id: system,
        system_ids: std::slice::from_ref(system),
        objective_id: None,
        kind: AlertKind::Health,
        severity: AlertSeverity::Ticket,
        blame: Blame::UpstreamHealth(upstreams.into_iter().map(|(id, _)| id).collect()),
        about: About::System(system, health),
    })
}

/// The condition of an open incident.
pub fn of_incident(incident: &Incident) -> Condition<'_> {
    Condition {
        subject_type: SubjectType::Incident,
        subject_id: &incident.id,
        system_ids: &incident.system_ids,
        objective_id: None,
        kind: AlertKind::Incident,
        severity: AlertSeverity::Ticket,
        blame: Blame::Own,
        about: About::Incident(incident),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_16_hex_digits_and_differ_by_every_part() {
        let subject = |id: &str| AlertSubject {
            subject_type: SubjectType::Objective,
            id: id.into(),
        };
        let a = fingerprint(&subject("o"), AlertKind::BurnRate, AlertSeverity::Page);
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(
            a,
            fingerprint(&subject("o"), AlertKind::BurnRate, AlertSeverity::Page)
        );
        for other in [
            fingerprint(&subject("p"), AlertKind::BurnRate, AlertSeverity::Page),
            fingerprint(&subject("o"), AlertKind::BurnRate, AlertSeverity::Ticket),
            fingerprint(&subject("o"), AlertKind::Breaching, AlertSeverity::Page),
        ] {
            assert_ne!(a, other);
        }
    }
}
