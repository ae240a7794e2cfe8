//! Builders for engine tests: times are minutes relative to a fixed `now`.

#![allow(dead_code)]

use jiff::Timestamp;
use slod_engine::*;

pub const NOW: &str = "2026-06-30T12:00:00Z";

pub fn now() -> Timestamp {
    NOW.parse().unwrap()
}

/// `now` shifted by `minutes` (negative: in the past).
pub fn at(minutes: f64) -> Timestamp {
    Timestamp::from_millisecond(now().as_millisecond() + (minutes * 60_000.0) as i64).unwrap()
}

pub const H: f64 = 60.0;
pub const D: f64 = 1440.0;

/// A closed down interval from `from` to `to` minutes relative to now.
pub fn down(from: f64, to: f64) -> DownInterval {
    DownInterval {
        start: at(from),
        end: Some(at(to)),
        worst: CheckStatus::Unhealthy,
        source: DownSource::Healthcheck,
    }
}

/// An interval still open at now.
pub fn open(from: f64) -> DownInterval {
    DownInterval {
        start: at(from),
        end: None,
        worst: CheckStatus::Unhealthy,
        source: DownSource::Healthcheck,
    }
}

pub fn maintenance(from: f64, to: f64) -> MaintenanceWindow {
    MaintenanceWindow {
        start_at: at(from),
        end_at: at(to),
        cancelled: false,
    }
}

pub fn objective(target: f64, window_days: u32) -> Objective {
    Objective {
        id: "obj".into(),
        system_id: "checkout".into(),
        health_check_id: None,
        name: None,
        target,
        window_days: Some(window_days),
        window_kind: WindowKind::Rolling,
        time_zone: None,
        dependency_exclusion: DependencyExclusion::Strict,
        excluded_dependency_ids: vec![],
        exclude_maintenance_windows: false,
        burn_rate_thresholds: BurnRateThresholds::default(),
        created_at: now(),
        updated_at: now(),
    }
}

pub fn self_only(mut o: Objective) -> Objective {
    o.dependency_exclusion = DependencyExclusion::SelfOnly;
    o
}

/// Runs `f` on the timelines made of the own timeline, upstreams `(id, depth, intervals)` and
/// maintenance.
pub fn with_timelines<R>(
    own: &[DownInterval],
    upstreams: &[(&str, u32, Vec<DownInterval>)],
    maintenance: &[MaintenanceWindow],
    f: impl FnOnce(&Timelines<'_>) -> R,
) -> R {
    let ups: Vec<Upstream<'_>> = upstreams
        .iter()
        .map(|(id, depth, intervals)| Upstream {
            system_id: id,
            depth: *depth,
            intervals,
        })
        .collect();
    f(&Timelines {
        own,
        upstreams: &ups,
        maintenance,
    })
}

/// Evaluates with the given own timeline, upstreams `(id, depth, intervals)` and maintenance.
pub fn eval(
    o: &Objective,
    own: &[DownInterval],
    upstreams: &[(&str, u32, Vec<DownInterval>)],
    maintenance: &[MaintenanceWindow],
) -> Evaluation {
    with_timelines(own, upstreams, maintenance, |timelines| Evaluation {
        status: status(o, timelines, now()).unwrap(),
        downtime: downtime(o, timelines, now(), usize::MAX).unwrap(),
    })
}

/// A status and the downtime list, computed for the same instant.
#[derive(Debug, PartialEq)]
pub struct Evaluation {
    pub status: Status,
    pub downtime: Vec<DowntimeSegment>,
}

pub fn minutes_of(status: &Status, source: Option<&str>) -> f64 {
    status
        .attribution
        .iter()
        .find(|a| a.system_id.as_deref() == source)
        .map_or(0.0, |a| a.minutes)
}

pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}
