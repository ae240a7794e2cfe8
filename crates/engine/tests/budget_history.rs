//! The burn-down behind the dashboard's charts: it starts full at the window's start, ends at
//! the current status, falls only while downtime is counted, and follows the objective's
//! attribution and maintenance rules.

use crate::common::*;
use slod_engine::*;

fn history(
    o: &Objective,
    own: &[DownInterval],
    upstreams: &[(&str, u32, Vec<DownInterval>)],
    maintenance: &[MaintenanceWindow],
    points: usize,
) -> BudgetHistory {
    with_timelines(own, upstreams, maintenance, |t| {
        budget_history(o, t, now(), points).unwrap()
    })
}

#[test]
fn half_the_budget_spent_mid_window_halves_the_curve_from_there() {
    // 99.9 % over 30 days: 43.2 minutes of budget. 21.6 minutes down 15 days ago.
    let own = [down(-15.0 * D, -15.0 * D + 21.6)];
    let h = history(&objective(99.9, 30), &own, &[], &[], 31);
    assert_eq!(h.points.len(), 31);
    assert!(close(h.error_budget_total_minutes, 43.2));
    assert_eq!(h.window_start, at(-30.0 * D));
    assert_eq!(h.window_end, now());
    assert_eq!(h.points[0].at, at(-30.0 * D));
    assert_eq!(h.points[30].at, now());
    // Points are a day apart: day 15 is the outage's start, day 16 is after it.
    assert!(close(h.points[14].remaining_percent, 100.0));
    assert!(close(h.points[15].remaining_percent, 100.0));
    assert!(close(h.points[16].remaining_percent, 50.0));
    assert!(close(h.points[30].remaining_percent, 50.0));
    assert!(close(h.points[30].consumed_minutes, 21.6));
    assert!(close(h.points[0].availability, 100.0));
    // 21.6 of 16 days down at day 16.
    let elapsed = 16.0 * D;
    assert!(close(
        h.points[16].availability,
        (elapsed - 21.6) / elapsed * 100.0
    ));
}

#[test]
fn a_point_inside_an_outage_counts_only_its_elapsed_part() {
    // 99 % over 1 day: 14.4 minutes of budget; down from 60 to 0 minutes ago (still open).
    let h = history(&objective(99.0, 1), &[open(-H)], &[], &[], 49);
    // 30 minutes apart: the second to last point is 30 minutes into the outage.
    assert!(close(h.points[47].consumed_minutes, 30.0));
    assert!(
        close(h.points[47].remaining_percent, 0.0),
        "spent, clamped at 0"
    );
    assert!(close(h.points[46].consumed_minutes, 0.0));
}

#[test]
fn the_last_point_is_the_current_status() {
    let own = [down(-10.0 * D, -10.0 * D + 30.0), open(-20.0)];
    let ups = [("db", 1, vec![down(-10.0 * D - 5.0, -10.0 * D + 10.0)])];
    for o in [objective(99.95, 30), self_only(objective(99.95, 30))] {
        let h = history(&o, &own, &ups, &[], 100);
        let s = eval(&o, &own, &ups, &[]).status;
        let last = h.points.last().unwrap();
        assert!(close(
            last.remaining_percent,
            s.error_budget_remaining_percent
        ));
        assert!(close(
            last.consumed_minutes,
            s.error_budget_consumed_minutes
        ));
        assert!(close(last.availability, s.current_availability));
        let curve: Vec<f64> = h.points.iter().map(|p| p.remaining_percent).collect();
        assert!(
            curve.windows(2).all(|w| w[1] <= w[0]),
            "a burn-down never rises"
        );
    }
    let strict = history(&objective(99.95, 30), &own, &ups, &[], 100);
    let own_only = history(&self_only(objective(99.95, 30)), &own, &ups, &[], 100);
    let last = |h: &BudgetHistory| h.points.last().unwrap().consumed_minutes;
    assert!(
        close(last(&strict) - last(&own_only), 10.0),
        "the upstream's part"
    );
}

#[test]
fn excluded_maintenance_does_not_burn() {
    let own = [down(-5.0 * H, -3.0 * H)];
    let windows = [maintenance(-5.0 * H, -4.0 * H)];
    let mut o = objective(99.0, 1);
    let counted = history(&o, &own, &[], &windows, 10);
    assert!(close(counted.points[9].consumed_minutes, 120.0));
    o.exclude_maintenance_windows = true;
    let excluded = history(&o, &own, &[], &windows, 10);
    assert!(close(excluded.points[9].consumed_minutes, 60.0));
}

#[test]
fn a_calendar_window_ends_at_its_period_and_points_stop_at_now() {
    let mut o = objective(99.9, 30);
    o.window_kind = WindowKind::Month;
    o.window_days = None;
    let h = history(&o, &[], &[], &[], 2);
    assert_eq!(h.window_start, "2026-06-01T00:00:00Z".parse().unwrap());
    assert_eq!(h.window_end, "2026-07-01T00:00:00Z".parse().unwrap());
    assert_eq!(h.points[1].at, now());
    assert!(close(h.error_budget_total_minutes, 43.2));
}

#[test]
fn points_are_clamped_to_the_supported_range() {
    let o = objective(99.9, 30);
    assert_eq!(
        history(&o, &[], &[], &[], 0).points.len(),
        slod_engine::history::MIN_POINTS
    );
    assert_eq!(history(&o, &[], &[], &[], 5000).points.len(), 1000);
}
