//! A system's health from its checks, and what a change of health does to its timeline.

use jiff::Timestamp;

use crate::model::{CheckStatus, DownInterval, DownSource, Health};

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

/// A system's down intervals from `from` on, rolled up from its checks' intervals and its
/// override incidents (engine.md, "The health timeline"): the system is down wherever a check
/// is down (worst status wins) or an override incident is open (unhealthy). A merged interval
/// is `source: incident` when an override alone caused or held part of it. The result is
/// ordered and non-overlapping; at most its last interval is open (`end: None`). Intervals
/// are clipped to start no earlier than `from`.
///
/// `overrides` are `[opened, resolved)` spans (`None`: still open).
pub fn rollup_timeline(
    from: Timestamp,
    checks: &[DownInterval],
    overrides: &[(Timestamp, Option<Timestamp>)],
) -> Vec<DownInterval> {
    let covers = |start: Timestamp, end: Option<Timestamp>, t: Timestamp| {
        start <= t && end.is_none_or(|end| end > t)
    };
    let mut edges: Vec<Timestamp> = vec![from];
    for i in checks {
        edges.extend([Some(i.start), i.end].into_iter().flatten());
    }
    for (start, end) in overrides {
        edges.extend([Some(*start), *end].into_iter().flatten());
    }
    edges.retain(|t| *t >= from);
    edges.sort_unstable();
    edges.dedup();
    let mut out: Vec<DownInterval> = Vec::new();
    for (k, &at) in edges.iter().enumerate() {
        let until = edges.get(k + 1).copied();
        let check_worst = checks
            .iter()
            .filter(|i| covers(i.start, i.end, at))
            .map(|i| i.worst)
            .max();
        let overridden = overrides.iter().any(|(s, e)| covers(*s, *e, at));
        let worst = match (check_worst, overridden) {
            (_, true) => CheckStatus::Unhealthy,
            (Some(w), false) => w,
            (None, false) => continue,
        };
        let source = if overridden && check_worst.is_none() {
            DownSource::Incident
        } else {
            DownSource::Healthcheck
        };
        match out.last_mut() {
            Some(last) if last.end == Some(at) => {
                last.end = until;
                last.worst = last.worst.max(worst);
                last.source = last.source.max(source);
            }
            _ => out.push(DownInterval {
                start: at,
                end: until,
                worst,
                source,
            }),
        }
    }
    out
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

    fn t(minutes: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + minutes * 60).unwrap()
    }

    fn down(from: i64, to: Option<i64>, worst: CheckStatus) -> DownInterval {
        DownInterval {
            start: t(from),
            end: to.map(t),
            worst,
            source: DownSource::Healthcheck,
        }
    }

    #[test]
    fn a_system_is_down_wherever_a_check_is_worst_status_winning() {
        // Check A down 0..10, check B down 5..30 (a back-filled outage, older than A's
        // recovery): the system is down 0..30, and nothing of B's is lost.
        let checks = [down(0, Some(10), Degraded), down(5, Some(30), Unhealthy)];
        assert_eq!(
            rollup_timeline(t(0), &checks, &[]),
            [down(0, Some(30), Unhealthy)]
        );
        // Two separate outages stay two; an open one stays open.
        let checks = [down(0, Some(10), Degraded), down(20, None, Degraded)];
        assert_eq!(
            rollup_timeline(t(-5), &checks, &[]),
            [down(0, Some(10), Degraded), down(20, None, Degraded)]
        );
        // From a later instant: what lies before is clipped.
        assert_eq!(
            rollup_timeline(t(5), &checks, &[]),
            [down(5, Some(10), Degraded), down(20, None, Degraded)]
        );
    }

    #[test]
    fn an_override_incident_holds_the_system_down_and_marks_what_it_alone_caused() {
        let checks = [down(0, Some(10), Degraded)];
        let out = rollup_timeline(t(0), &checks, &[(t(5), Some(t(20)))]);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].start, out[0].end), (t(0), Some(t(20))));
        assert_eq!(
            (out[0].worst, out[0].source),
            (Unhealthy, DownSource::Incident)
        );
        let only_checks = rollup_timeline(t(0), &checks, &[(t(2), Some(t(8)))]);
        assert_eq!(
            only_checks[0].source,
            DownSource::Healthcheck,
            "the checks saw all of it"
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
