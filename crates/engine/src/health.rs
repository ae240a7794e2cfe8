//! A system's health from its checks, and what a change of health does to its timeline.

use crate::model::{CheckStatus, Health};

/// What one check contributes to its system's health.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckState {
    pub enabled: bool,
    /// The latest result, if any.
    pub latest: Option<CheckStatus>,
}

/// The worst latest result of the enabled checks (unhealthy > degraded > healthy); `unknown`
/// while none has a result. An active incident with a health override makes it `unhealthy`.
pub fn rollup(checks: &[CheckState], incident_override: bool) -> Health {
    if incident_override {
        return Health::Unhealthy;
    }
    checks
        .iter()
        .filter(|c| c.enabled)
        .filter_map(|c| c.latest)
        .max()
        .map_or(Health::Unknown, Health::from)
}

/// What a new health does to a timeline whose latest interval is open or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// Open an interval now, with this worst status.
    Open(CheckStatus),
    /// The open interval saw a worse status.
    Worsen(CheckStatus),
    /// Close the open interval now.
    Close,
    /// Nothing changes.
    None,
}

/// The transition for `next` given whether an interval is open and its worst status so far.
/// `unknown` neither opens nor closes: a lookup failure must never end a real outage.
pub fn transition(open_worst: Option<CheckStatus>, next: Health) -> Transition {
    match (open_worst, next.down_status()) {
        (None, Some(status)) => Transition::Open(status),
        (Some(worst), Some(status)) if status > worst => Transition::Worsen(status),
        (Some(_), None) if next == Health::Healthy => Transition::Close,
        _ => Transition::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CheckStatus::*;

    fn check(latest: Option<CheckStatus>) -> CheckState {
        CheckState {
            enabled: true,
            latest,
        }
    }

    #[test]
    fn worst_enabled_check_wins() {
        assert_eq!(rollup(&[], false), Health::Unknown);
        assert_eq!(rollup(&[check(None)], false), Health::Unknown);
        assert_eq!(
            rollup(&[check(Some(Healthy)), check(None)], false),
            Health::Healthy
        );
        assert_eq!(
            rollup(&[check(Some(Healthy)), check(Some(Degraded))], false),
            Health::Degraded
        );
        assert_eq!(
            rollup(&[check(Some(Unhealthy)), check(Some(Degraded))], false),
            Health::Unhealthy
        );
        let disabled = CheckState {
            enabled: false,
            latest: Some(Unhealthy),
        };
        assert_eq!(
            rollup(&[check(Some(Healthy)), disabled], false),
            Health::Healthy
        );
        assert_eq!(
            rollup(&[check(Some(Healthy))], true),
            Health::Unhealthy,
            "incident override"
        );
    }

    #[test]
    fn transitions_open_close_and_ignore_unknown() {
        assert_eq!(
            transition(None, Health::Degraded),
            Transition::Open(Degraded)
        );
        assert_eq!(transition(None, Health::Healthy), Transition::None);
        assert_eq!(transition(None, Health::Unknown), Transition::None);
        assert_eq!(
            transition(Some(Degraded), Health::Unhealthy),
            Transition::Worsen(Unhealthy)
        );
        assert_eq!(
            transition(Some(Unhealthy), Health::Degraded),
            Transition::None
        );
        assert_eq!(
            transition(Some(Degraded), Health::Healthy),
            Transition::Close
        );
        assert_eq!(
            transition(Some(Degraded), Health::Unknown),
            Transition::None,
            "unknown closes nothing"
        );
    }
}
