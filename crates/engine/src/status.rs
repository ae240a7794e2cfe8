//! An objective's status at one instant (engine.md, "Status"), from its derived downtime.
//!
//! Comparisons against the target are done in integers: the target is held in millionths of a
//! percent (it has at most 6 decimals, so this is exact) and time in milliseconds, so
//! "consumed exactly the budget" is never breaching because of a floating-point rounding
//! (99.9 % of 30 days is 43.2 minutes, which f64 cannot hold exactly).

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::derive::{derive, Owner, Segment, Timelines};
use crate::intervals::Span;
use crate::model::{
    AlertLevel, AlertRule, AttributionEntry, AttributionType, DependencyExclusion, DownInterval,
    DowntimeSegment, Objective, Status, Tier,
};
use crate::window::{window_at, Window, MINUTE_MS};
use crate::EngineError;

/// Look-back windows of the multi-window burn rates, by name, in minutes.
pub const BURN_WINDOWS: [(&str, i64); 7] = [
    ("5m", 5),
    ("30m", 30),
    ("1h", 60),
    ("2h", 120),
    ("6h", 360),
    ("1d", 1440),
    ("3d", 4320),
];

/// The SRE workbook's multi-window alert table: (level, budget percent, long window, short
/// window). A row fires when both windows burn faster than
/// `budget percent * window hours / long window hours`.
const ALERT_RULES: [(AlertLevel, f64, &str, &str); 4] = [
    (AlertLevel::Page, 2.0, "1h", "5m"),
    (AlertLevel::Page, 5.0, "6h", "30m"),
    (AlertLevel::Ticket, 10.0, "1d", "2h"),
    (AlertLevel::Ticket, 10.0, "3d", "6h"),
];

/// 100 %, in millionths of a percent: the unit a target is exact in.
pub const HUNDRED_PERCENT: i128 = 100_000_000;

/// Remaining budget at or below this percent makes an objective `at_risk`.
const AT_RISK_PERCENT: f64 = 20.0;

/// `target` (percent, at most 6 decimals) in millionths of a percent, exactly.
pub fn target_units(target: f64) -> i128 {
    (target * 1_000_000.0)
        .round()
        .clamp(0.0, HUNDRED_PERCENT as f64) as i128
}

fn minutes(ms: i64) -> f64 {
    ms as f64 / MINUTE_MS as f64
}

/// The window of `objective` at `now`. Errors: an unknown time zone.
pub(crate) fn window_of(objective: &Objective, now: Timestamp) -> Result<Window, EngineError> {
    window_at(
        objective.window_kind,
        objective.window_days,
        objective.time_zone.as_deref(),
        now,
    )
}

/// The window of `objective` at `now`, and the range its downtime is derived over: the window
/// plus the longest burn-rate look-back.
fn ranges(objective: &Objective, now: Timestamp) -> Result<(Window, Span), EngineError> {
    let window = window_of(objective, now)?;
    let now_ms = now.as_millisecond();
    let longest_burn_ms = BURN_WINDOWS[BURN_WINDOWS.len() - 1].1 * MINUTE_MS;
    Ok((
        window,
        Span::new(window.observed.start.min(now_ms - longest_burn_ms), now_ms),
    ))
}

/// Downtime totals gathered in one pass over the derived segments.
struct Totals {
    /// All downtime in the window.
    total_ms: i64,
    /// The system's own downtime in the window.
    own_ms: i64,
    /// Downtime in the window per upstream (indexes of `Timelines::upstreams`).
    upstream_ms: Vec<i64>,
    /// Counted downtime (strict: all; self-only: own) in each burn-rate look-back.
    burn_ms: [i64; BURN_WINDOWS.len()],
    /// The system's own downtime in each burn-rate look-back.
    own_burn_ms: [i64; BURN_WINDOWS.len()],
    /// Downtime attributed to upstreams in each burn-rate look-back.
    upstream_burn_ms: [i64; BURN_WINDOWS.len()],
}

fn totals(
    objective: &Objective,
    timelines: &Timelines<'_>,
    window: Window,
    range: Span,
    now_ms: i64,
) -> Totals {
    let strict = objective.dependency_exclusion == DependencyExclusion::Strict;
    let look_backs = BURN_WINDOWS.map(|(_, mins)| Span::new(now_ms - mins * MINUTE_MS, now_ms));
    let mut t = Totals {
        total_ms: 0,
        own_ms: 0,
        upstream_ms: vec![0; timelines.upstreams.len()],
        burn_ms: [0; BURN_WINDOWS.len()],
        own_burn_ms: [0; BURN_WINDOWS.len()],
        upstream_burn_ms: [0; BURN_WINDOWS.len()],
    };
    derive(
        timelines,
        objective.exclude_maintenance_windows,
        range,
        now_ms,
        |segment| {
            let len_in = |range: Span| segment.span.clip(range).map_or(0, |s| s.len());
            let in_window = len_in(window.observed);
            t.total_ms += in_window;
            match segment.owner {
                Owner::Own => t.own_ms += in_window,
                Owner::Upstream(i) => t.upstream_ms[i] += in_window,
            }
            let counted = strict || segment.owner == Owner::Own;
            let by_owner = match segment.owner {
                Owner::Own => &mut t.own_burn_ms,
                Owner::Upstream(_) => &mut t.upstream_burn_ms,
            };
            for (i, look_back) in look_backs.into_iter().enumerate() {
                let len = len_in(look_back);
                by_owner[i] += len;
                if counted {
                    t.burn_ms[i] += len;
                }
            }
        },
    );
    t
}

/// The status of `objective` over `timelines` at `now`.
pub fn status(
    objective: &Objective,
    timelines: &Timelines<'_>,
    now: Timestamp,
) -> Result<Status, EngineError> {
    let (window, range) = ranges(objective, now)?;
    let totals = totals(objective, timelines, window, range, now.as_millisecond());
    Ok(status_from(objective, timelines, &totals, window, now))
}

/// The window's downtime of `objective`, newest first, at most `limit` segments, as
/// `GET /objectives/{id}/downtime` lists it.
pub fn downtime(
    objective: &Objective,
    timelines: &Timelines<'_>,
    now: Timestamp,
    limit: usize,
) -> Result<Vec<DowntimeSegment>, EngineError> {
    let (window, range) = ranges(objective, now)?;
    let now_ms = now.as_millisecond();
    let mut segments: Vec<Segment> = Vec::new();
    derive(
        timelines,
        objective.exclude_maintenance_windows,
        range,
        now_ms,
        |s| {
            if s.span.clip(window.observed).is_some() {
                segments.push(s);
            }
        },
    );
    Ok(segments
        .iter()
        .rev()
        .take(limit)
        .map(|s| {
            let span = s
                .span
                .clip(window.observed)
                .expect("kept only segments inside the window");
            DowntimeSegment {
                start: millis_to_timestamp(span.start),
                end: (!(s.open && span.end == now_ms)).then(|| millis_to_timestamp(span.end)),
                duration_seconds: span.len() as f64 / 1000.0,
                attribution_type: match s.owner {
                    Owner::Own => AttributionType::Own,
                    Owner::Upstream(_) => AttributionType::Upstream,
                },
                upstream_system_id: match s.owner {
                    Owner::Own => None,
                    Owner::Upstream(i) => Some(timelines.upstreams[i].system_id.to_owned()),
                },
                source: s.source,
            }
        })
        .collect())
}

fn millis_to_timestamp(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).expect("spans come from valid timestamps")
}

fn status_from(
    objective: &Objective,
    timelines: &Timelines<'_>,
    totals: &Totals,
    window: Window,
    now: Timestamp,
) -> Status {
    let strict = objective.dependency_exclusion == DependencyExclusion::Strict;
    let w_ms = window.length_ms().max(1);
    let total_ms = totals.total_ms;
    let consumed_ms = if strict { total_ms } else { totals.own_ms };

    let units = target_units(objective.target);
    let budget_units = HUNDRED_PERCENT - units;
    // allowed = (100 - target) / 100 * W, kept as the exact fraction
    // allowed_scaled / HUNDRED_PERCENT.
    let allowed_scaled = i128::from(w_ms) * budget_units;
    let consumed_scaled = i128::from(consumed_ms) * HUNDRED_PERCENT;
    let allowed_min = allowed_scaled as f64 / HUNDRED_PERCENT as f64 / MINUTE_MS as f64;
    let consumed_min = minutes(consumed_ms);
    let remaining_min = if consumed_scaled >= allowed_scaled {
        0.0
    } else {
        (allowed_min - consumed_min).max(0.0)
    };
    let remaining_percent = if allowed_scaled > 0 {
        remaining_min / allowed_min * 100.0
    } else {
        100.0
    };
    let availability =
        |down_ms: i64| ((w_ms - down_ms).max(0) as f64 / w_ms as f64 * 100.0).max(0.0);
    let is_breaching = consumed_scaled > allowed_scaled;

    // "Down now" at the status's own instant, which may lie in the past (the daily job
    // computes each day's status at its end), when an interval closed since is still open.
    let down_at_now = |i: &DownInterval| i.start <= now && i.end.is_none_or(|end| end > now);
    let own_open = timelines.own.iter().any(down_at_now);
    let upstream_open = timelines
        .upstreams
        .iter()
        .any(|u| u.intervals.iter().any(down_at_now));
    let has_open_downtime = own_open && (strict || !upstream_open);

    let tier = if is_breaching {
        Tier::Breaching
    } else if has_open_downtime {
        Tier::Degraded
    } else if remaining_percent <= AT_RISK_PERCENT {
        Tier::AtRisk
    } else {
        Tier::Healthy
    };

    let budget_fraction = budget_units as f64 / HUNDRED_PERCENT as f64;
    let burn_rates: BTreeMap<String, Option<f64>> = BURN_WINDOWS
        .iter()
        .zip(totals.burn_ms)
        .map(|(&(name, mins), down_ms)| {
            let down_fraction = down_ms as f64 / (mins * MINUTE_MS) as f64;
            (
                name.to_owned(),
                (budget_fraction > 0.0).then(|| down_fraction / budget_fraction),
            )
        })
        .collect();
    let window_hours = w_ms as f64 / 3_600_000.0;
    // A total outage burns 1 / budget fraction: no rule with a factor at or above it can fire.
    let highest_burn = (budget_fraction > 0.0).then(|| 1.0 / budget_fraction);
    let alert_rules: Vec<AlertRule> = ALERT_RULES
        .iter()
        .map(|&(severity, budget_percent, long, short)| {
            let long_at = BURN_WINDOWS
                .iter()
                .position(|w| w.0 == long)
                .expect("alert rules name burn windows");
            let long_hours = BURN_WINDOWS[long_at].1 as f64 / 60.0;
            let factor = budget_percent / 100.0 * window_hours / long_hours;
            let burns = |name: &str| burn_rates[name].is_some_and(|rate| rate > factor);
            AlertRule {
                severity,
                long_window: long.to_owned(),
                short_window: short.to_owned(),
                budget_percent,
                factor,
                firing: burns(long) && burns(short),
                reachable: highest_burn.is_some_and(|highest| factor < highest),
                self_minutes: minutes(totals.own_burn_ms[long_at]),
                upstream_minutes: minutes(totals.upstream_burn_ms[long_at]),
            }
        })
        .collect();
    let alerts = alert_rules
        .iter()
        .filter(|rule| rule.firing)
        .map(|rule| rule.severity)
        .max()
        .unwrap_or(AlertLevel::None);

    let hour = BURN_WINDOWS
        .iter()
        .position(|w| w.0 == "1h")
        .expect("1h is a burn window");
    let down_last_hour = totals.burn_ms[hour] as f64 / (60 * MINUTE_MS) as f64;
    let time_to_exhaustion_minutes =
        (allowed_scaled > 0 && down_last_hour > 0.0).then(|| remaining_min / down_last_hour);

    let mut attribution = Vec::new();
    if totals.own_ms > 0 {
        attribution.push(AttributionEntry {
            source_type: AttributionType::Own,
            system_id: None,
            minutes: minutes(totals.own_ms),
        });
    }
    let mut upstream_entries: Vec<(&str, i64)> = timelines
        .upstreams
        .iter()
        .zip(&totals.upstream_ms)
        .filter(|(_, ms)| **ms > 0)
        .map(|(u, ms)| (u.system_id, *ms))
        .collect();
    upstream_entries.sort_unstable();
    attribution.extend(
        upstream_entries
            .into_iter()
            .map(|(id, ms)| AttributionEntry {
                source_type: AttributionType::Upstream,
                system_id: Some(id.to_owned()),
                minutes: minutes(ms),
            }),
    );

    Status {
        objective_id: objective.id.clone(),
        system_id: objective.system_id.clone(),
        target: objective.target,
        window_days: window.days,
        window_minutes: (w_ms / MINUTE_MS) as u64,
        current_availability: availability(consumed_ms),
        strict_availability: availability(total_ms),
        error_budget_total_minutes: allowed_min,
        error_budget_consumed_minutes: consumed_min,
        error_budget_consumed_strict_minutes: minutes(total_ms),
        error_budget_remaining_minutes: remaining_min,
        error_budget_remaining_percent: remaining_percent,
        burn_rate: (allowed_scaled > 0).then(|| consumed_min / allowed_min),
        is_breaching,
        has_open_downtime,
        tier,
        attribution,
        burn_rates,
        alert_rules,
        alerts,
        time_to_exhaustion_minutes,
        computed_at: now,
    }
}
