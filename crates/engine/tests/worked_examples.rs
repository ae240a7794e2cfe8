//! The worked numbers of engine.md and the edge cases of the engine issue, exactly.

use crate::common::*;
use slod_engine::*;

#[test]
fn ninety_nine_nine_over_thirty_days_allows_43_2_minutes_and_50_breach() {
    let o = objective(99.9, 30);
    let s = eval(&o, &[down(-3.0 * H, -3.0 * H + 50.0)], &[], &[]).status;
    assert!(
        close(s.error_budget_total_minutes, 43.2),
        "{}",
        s.error_budget_total_minutes
    );
    assert!(close(s.error_budget_consumed_minutes, 50.0));
    assert_eq!(s.error_budget_remaining_minutes, 0.0);
    assert_eq!(s.error_budget_remaining_percent, 0.0);
    assert!(s.is_breaching);
    assert_eq!(s.tier, Tier::Breaching);
    assert!(close(
        s.current_availability,
        (43_200.0 - 50.0) / 43_200.0 * 100.0
    ));
    assert!(close(s.burn_rate.unwrap(), 50.0 / 43.2));
}

#[test]
fn no_events_is_a_clean_healthy_status() {
    let s = eval(&objective(99.9, 30), &[], &[], &[]).status;
    assert_eq!(s.error_budget_consumed_minutes, 0.0);
    assert_eq!(s.current_availability, 100.0);
    assert_eq!(s.strict_availability, 100.0);
    assert_eq!(s.error_budget_remaining_percent, 100.0);
    assert_eq!(s.burn_rate, Some(0.0));
    assert!(!s.is_breaching && !s.has_open_downtime);
    assert_eq!(s.tier, Tier::Healthy);
    assert_eq!(s.alerts, AlertLevel::None);
    assert_eq!(s.time_to_exhaustion_minutes, None);
    assert!(s.attribution.is_empty());
    assert!(s.burn_rates.values().all(|r| *r == Some(0.0)));
}

#[test]
fn events_are_clipped_at_both_window_edges() {
    let o = objective(99.0, 1);
    // Starts 2 days ago, ends 12 h ago: only the 12 h inside the 1-day window count.
    let s = eval(&o, &[down(-2.0 * D, -12.0 * H)], &[], &[]).status;
    assert!(close(s.error_budget_consumed_minutes, 12.0 * H));
    // Open, started 30 minutes ago: counts up to now.
    let s = eval(&o, &[open(-30.0)], &[], &[]).status;
    assert!(close(s.error_budget_consumed_minutes, 30.0));
    assert!(s.has_open_downtime);
    // Entirely before the window: nothing.
    let s = eval(&o, &[down(-3.0 * D, -2.0 * D)], &[], &[]).status;
    assert_eq!(s.error_budget_consumed_minutes, 0.0);
}

#[test]
fn open_event_started_sixty_days_ago_counts_exactly_the_window() {
    let s = eval(&objective(99.9, 30), &[open(-60.0 * D)], &[], &[]).status;
    assert_eq!(s.error_budget_consumed_minutes, 43_200.0);
    assert_eq!(s.current_availability, 0.0);
    assert!(s.is_breaching && s.has_open_downtime);
}

#[test]
fn event_inside_a_maintenance_window_leaves_no_attribution() {
    let mut o = objective(99.9, 30);
    o.exclude_maintenance_windows = true;
    let e = eval(
        &o,
        &[down(-2.0 * H, -H)],
        &[],
        &[maintenance(-3.0 * H, 0.0)],
    );
    assert!(e.status.attribution.is_empty());
    assert_eq!(e.status.error_budget_consumed_minutes, 0.0);
    assert!(e.downtime.is_empty());
    // Not opted in: it counts.
    o.exclude_maintenance_windows = false;
    let s = eval(
        &o,
        &[down(-2.0 * H, -H)],
        &[],
        &[maintenance(-3.0 * H, 0.0)],
    )
    .status;
    assert!(close(s.error_budget_consumed_minutes, 60.0));
}

#[test]
fn overlapping_maintenance_windows_are_merged() {
    let mut o = objective(99.9, 30);
    o.exclude_maintenance_windows = true;
    let holes = [maintenance(-3.0 * H, -1.5 * H), maintenance(-2.0 * H, -H)];
    let s = eval(&o, &[down(-4.0 * H, 0.0)], &[], &holes).status;
    assert!(
        close(s.error_budget_consumed_minutes, 2.0 * H),
        "{}",
        s.error_budget_consumed_minutes
    );
    // A cancelled window never counts.
    let cancelled = MaintenanceWindow {
        cancelled: true,
        ..maintenance(-4.0 * H, 0.0)
    };
    let s = eval(&o, &[down(-4.0 * H, 0.0)], &[], &[cancelled]).status;
    assert!(close(s.error_budget_consumed_minutes, 4.0 * H));
}

#[test]
fn target_100_with_downtime_breaches_with_full_percent_and_no_burn_rate() {
    let s = eval(&objective(100.0, 30), &[down(-10.0, -9.0)], &[], &[]).status;
    assert_eq!(s.error_budget_total_minutes, 0.0);
    assert_eq!(s.error_budget_remaining_percent, 100.0);
    assert_eq!(s.burn_rate, None);
    assert!(s.is_breaching);
    assert!(s.burn_rates.values().all(Option::is_none));
    assert_eq!(s.time_to_exhaustion_minutes, None);
}

#[test]
fn target_0_never_breaches() {
    let s = eval(&objective(0.0, 30), &[open(-90.0 * D)], &[], &[]).status;
    assert!(!s.is_breaching);
    assert_eq!(s.current_availability, 0.0);
    assert_eq!(s.tier, Tier::Degraded);
}

#[test]
fn consuming_exactly_the_budget_is_at_risk_not_breaching() {
    // 43.2 minutes = 2,592 seconds exactly.
    let s = eval(
        &objective(99.9, 30),
        &[down(-100.0, -100.0 + 43.2)],
        &[],
        &[],
    )
    .status;
    assert!(!s.is_breaching, "consumed == allowed must not breach");
    assert_eq!(s.error_budget_remaining_minutes, 0.0);
    assert_eq!(s.tier, Tier::AtRisk);
    // One more second breaches.
    let s = eval(
        &objective(99.9, 30),
        &[down(-100.0, -100.0 + 43.2 + 1.0 / 60.0)],
        &[],
        &[],
    )
    .status;
    assert!(s.is_breaching);
}

#[test]
fn self_only_with_only_upstream_downtime_is_fully_available() {
    let o = self_only(objective(99.9, 30));
    let e = eval(
        &o,
        &[down(-2.0 * H, -H)],
        &[("db", 1, vec![down(-3.0 * H, 0.0)])],
        &[],
    );
    assert_eq!(e.status.current_availability, 100.0);
    assert_eq!(e.status.error_budget_consumed_minutes, 0.0);
    assert!(close(e.status.error_budget_consumed_strict_minutes, 60.0));
    assert!(e.status.strict_availability < 100.0);
    assert!(close(minutes_of(&e.status, Some("db")), 60.0));
}

#[test]
fn tiers_in_order_of_severity() {
    let o = objective(99.0, 1); // 14.4 minutes of budget
    assert_eq!(
        eval(&o, &[down(-100.0, -88.0)], &[], &[]).status.tier,
        Tier::AtRisk
    ); // 12 of 14.4
    assert_eq!(
        eval(&o, &[open(-1.0)], &[], &[]).status.tier,
        Tier::Degraded
    );
    assert_eq!(
        eval(&o, &[open(-20.0)], &[], &[]).status.tier,
        Tier::Breaching
    );
    assert_eq!(
        eval(&o, &[down(-100.0, -95.0)], &[], &[]).status.tier,
        Tier::Healthy
    );
}

#[test]
fn downtime_is_listed_newest_first_with_open_end_null() {
    let e = eval(
        &objective(99.9, 30),
        &[down(-3.0 * H, -2.0 * H), open(-10.0)],
        &[],
        &[],
    );
    assert_eq!(e.downtime.len(), 2);
    assert_eq!(e.downtime[0].start, at(-10.0));
    assert_eq!(e.downtime[0].end, None);
    assert_eq!(e.downtime[0].duration_seconds, 600.0);
    assert_eq!(e.downtime[1].end, Some(at(-2.0 * H)));
    assert_eq!(e.downtime[1].attribution_type, AttributionType::Own);
    let json = serde_json::to_value(&e.downtime[0]).unwrap();
    assert_eq!(json["attributionType"], "self");
    assert_eq!(json["end"], serde_json::Value::Null);
    assert_eq!(json["upstreamSystemId"], serde_json::Value::Null);
}

#[test]
fn time_to_exhaustion_at_the_one_hour_burn_rate() {
    // 99.9 %/30 d: 43.2 min budget. 10 minutes down in the last hour (and nothing else):
    // remaining 33.2 min at 10/60 of each minute -> 199.2 minutes.
    let s = eval(&objective(99.9, 30), &[down(-20.0, -10.0)], &[], &[]).status;
    assert!(close(s.time_to_exhaustion_minutes.unwrap(), 33.2 * 6.0));
    let s = eval(&objective(99.9, 30), &[down(-3.0 * H, -2.0 * H)], &[], &[]).status;
    assert_eq!(
        s.time_to_exhaustion_minutes, None,
        "not burning in the last hour"
    );
}

#[test]
fn status_serializes_with_the_api_field_names() {
    let s = eval(&objective(99.9, 30), &[open(-5.0)], &[], &[]).status;
    let json = serde_json::to_value(&s).unwrap();
    for field in [
        "objectiveId",
        "systemId",
        "target",
        "windowDays",
        "currentAvailability",
        "strictAvailability",
        "errorBudgetTotalMinutes",
        "errorBudgetConsumedMinutes",
        "errorBudgetConsumedStrictMinutes",
        "errorBudgetRemainingMinutes",
        "errorBudgetRemainingPercent",
        "burnRate",
        "isBreaching",
        "hasOpenDowntime",
        "tier",
        "attribution",
        "burnRates",
        "alerts",
        "timeToExhaustionMinutes",
        "computedAt",
    ] {
        assert!(json.get(field).is_some(), "missing {field}");
    }
    assert_eq!(json["tier"], "degraded");
    assert_eq!(json["computedAt"], NOW);
    let rates: Vec<&String> = json["burnRates"].as_object().unwrap().keys().collect();
    assert_eq!(rates.len(), 7);
    assert_eq!(json["attribution"][0]["sourceType"], "self");
}

#[test]
fn calendar_month_window_sizes_the_budget_on_the_whole_month() {
    let mut o = objective(99.9, 30);
    o.window_kind = WindowKind::Month;
    // June 2026 has 30 days: 43.2 minutes of budget; downtime from May does not count.
    let s = eval(
        &o,
        &[down(-30.0 * D, -29.5 * D), down(-60.0, -30.0)],
        &[],
        &[],
    )
    .status;
    assert!(close(s.error_budget_total_minutes, 43.2));
    assert!(close(s.error_budget_consumed_minutes, 30.0));
    assert_eq!(s.window_days, 30);
}

#[test]
fn a_status_in_the_past_sees_an_outage_that_has_ended_since_as_open() {
    // The daily job computes each day's status at the day's end, possibly later (catch-up):
    // an outage from -120 to -30 min was open at -60 min, and not yet begun at -150 min.
    let o = objective(99.0, 30);
    let own = [down(-120.0, -30.0)];
    let timelines = Timelines {
        own: &own,
        upstreams: &[],
        maintenance: &[],
    };
    let during = status(&o, &timelines, at(-60.0)).unwrap();
    assert!(during.has_open_downtime, "down at -60 min");
    assert_eq!(during.tier, Tier::Degraded);
    assert!(close(during.error_budget_consumed_minutes, 60.0));
    let before = status(&o, &timelines, at(-150.0)).unwrap();
    assert!(!before.has_open_downtime);
    assert_eq!(before.error_budget_consumed_minutes, 0.0);
    let after = status(&o, &timelines, at(0.0)).unwrap();
    assert!(!after.has_open_downtime, "recovered by now");
}

/// Budgets use the target exactly as given (at most 6 decimals): millionths of a percent.
/// The figures are W * (100 - target) / 100, worked by hand.
#[test]
fn targets_with_six_decimals_give_exact_budgets() {
    // 3650 days = 5,256,000 minutes.
    for (target, budget) in [(99.99999, 0.5256), (99.99994, 3.1536), (99.999999, 0.05256)] {
        let s = eval(&objective(target, 3650), &[], &[], &[]).status;
        assert!(
            (s.error_budget_total_minutes - budget).abs() < 1e-9,
            "{target}: {} minutes, not {budget}",
            s.error_budget_total_minutes
        );
        assert_eq!(
            s.burn_rate,
            Some(0.0),
            "a budget exists, so the burn rate does"
        );
    }
    // 30 days = 43,200 minutes at 0.876544 % = 378.667008 minutes.
    let s = eval(&objective(99.123456, 30), &[], &[], &[]).status;
    assert!(
        (s.error_budget_total_minutes - 378.667008).abs() < 1e-9,
        "{}",
        s.error_budget_total_minutes
    );
    // Half a minute down of a 0.5256-minute budget is not a breach; 0.6 minutes is.
    let o = objective(99.99999, 3650);
    let s = eval(&o, &[down(-1.0, -0.5)], &[], &[]).status;
    assert!(!s.is_breaching && s.error_budget_remaining_minutes > 0.0);
    let s = eval(&o, &[down(-1.0, -0.4)], &[], &[]).status;
    assert!(s.is_breaching);
}

/// A calendar window's `windowDays` is its calendar days; `windowMinutes` its real length,
/// which DST shortens by an hour.
#[test]
fn calendar_windows_report_their_days_and_their_real_minutes() {
    let calendar = |kind, zone: &str| {
        let mut o = objective(99.9, 30);
        o.window_kind = kind;
        o.window_days = None;
        o.time_zone = Some(zone.to_owned());
        o
    };
    let nothing = Timelines {
        own: &[],
        upstreams: &[],
        maintenance: &[],
    };
    for (kind, zone, now, days, minutes) in [
        // The week of 2 March 2026 in New York holds 8 March, when DST begins.
        (
            WindowKind::Week,
            "America/New_York",
            "2026-03-05T12:00:00Z",
            7,
            7 * 1440 - 60,
        ),
        (
            WindowKind::Month,
            "America/New_York",
            "2026-03-15T12:00:00Z",
            31,
            31 * 1440 - 60,
        ),
        // October to December in Sydney: DST begins on 4 October.
        (
            WindowKind::Quarter,
            "Australia/Sydney",
            "2026-11-15T00:00:00Z",
            92,
            92 * 1440 - 60,
        ),
        (
            WindowKind::Month,
            "UTC",
            "2026-02-10T00:00:00Z",
            28,
            28 * 1440,
        ),
    ] {
        let s = status(&calendar(kind, zone), &nothing, now.parse().unwrap()).unwrap();
        assert_eq!(
            (s.window_days, s.window_minutes),
            (days, minutes),
            "{kind:?} in {zone} at {now}"
        );
        assert!((s.error_budget_total_minutes - minutes as f64 * 0.001).abs() < 1e-9);
    }
}

/// The alert table scaled to the window; a rule whose factor a total outage cannot reach is
/// reported as such. 3650 days at 99.9 %: a total outage burns 1 / 0.001 = 1000; the factors
/// are 2 % * 87,600 h / 1 h = 1752, 5 % * 87,600 / 6 = 730, 10 % * 87,600 / 24 = 365 and
/// 10 % * 87,600 / 72 = 121.67.
#[test]
fn alert_rules_that_cannot_fire_are_reported() {
    let s = eval(&objective(99.9, 3650), &[open(-600.0)], &[], &[]).status;
    let rules: Vec<(f64, bool, bool)> = s
        .alert_rules
        .iter()
        .map(|r| ((r.factor * 100.0).round() / 100.0, r.reachable, r.firing))
        .collect();
    assert_eq!(
        rules,
        [
            (1752.0, false, false),
            (730.0, true, true),
            (365.0, true, true),
            (121.67, true, true)
        ],
        "a ten-hour total outage fires every reachable rule"
    );
    assert_eq!(s.alerts, AlertLevel::Page);
    let thirty = eval(&objective(99.9, 30), &[], &[], &[]).status;
    let factors: Vec<f64> = thirty
        .alert_rules
        .iter()
        .map(|r| (r.factor * 10.0).round() / 10.0)
        .collect();
    assert_eq!(factors, [14.4, 6.0, 3.0, 1.0]);
    assert!(thirty.alert_rules.iter().all(|r| r.reachable && !r.firing));
    // 100 % leaves no budget: nothing can fire.
    let strict = eval(&objective(100.0, 30), &[], &[], &[]).status;
    assert!(strict.alert_rules.iter().all(|r| !r.reachable));
}
