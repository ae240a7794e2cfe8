//! Multi-window burn rates and alerts (SRE workbook table, scaled by the window).

use crate::common::*;
use slod_engine::*;

#[test]
fn five_minute_total_outage_in_the_last_hour_pages() {
    let s = eval(&objective(99.9, 30), &[down(-5.0, 0.0)], &[], &[]).status;
    // 1h: 5/60 down over a 0.1 % budget = 83.3; 5m: 1000.
    assert!(close(s.burn_rates["1h"].unwrap(), 5.0 / 60.0 / 0.001));
    assert!(close(s.burn_rates["5m"].unwrap(), 1000.0));
    assert_eq!(s.alerts, AlertLevel::Page);
}

#[test]
fn outage_that_stopped_no_longer_pages_but_still_tickets() {
    // 50 minutes down, ended 40 minutes ago: the long windows still burn, both short page
    // windows (5m, 30m) have recovered, the 2h ticket window has not.
    let s = eval(&objective(99.9, 30), &[down(-90.0, -40.0)], &[], &[]).status;
    assert!(s.burn_rates["1h"].unwrap() > 14.4 && s.burn_rates["6h"].unwrap() > 6.0);
    assert_eq!(
        (s.burn_rates["5m"], s.burn_rates["30m"]),
        (Some(0.0), Some(0.0))
    );
    assert_eq!(s.alerts, AlertLevel::Ticket);
    // Ended 10 minutes ago: the 30-minute window still burns, so the 6h/30m row pages.
    let s = eval(&objective(99.9, 30), &[down(-50.0, -10.0)], &[], &[]).status;
    assert_eq!(s.alerts, AlertLevel::Page);
}

#[test]
fn slow_leak_of_one_percent_over_three_days_tickets() {
    // 6 seconds down every 10 minutes for 3 days: 1 % of the time. On a 99.5 % objective that
    // burns at 2x: above the 3d/6h ticket factor (1), below every page factor (6, 14.4) and the
    // 1d/2h ticket factor (3).
    let leak: Vec<DownInterval> = (1..=432)
        .map(|i| {
            let start = -(i as f64) * 10.0;
            down(start, start + 0.1)
        })
        .collect();
    let s = eval(&objective(99.5, 30), &leak, &[], &[]).status;
    assert!(
        (s.burn_rates["3d"].unwrap() - 2.0).abs() < 0.01,
        "{:?}",
        s.burn_rates
    );
    assert!((s.burn_rates["6h"].unwrap() - 2.0).abs() < 0.05);
    assert_eq!(s.alerts, AlertLevel::Ticket);
}

#[test]
fn factors_scale_with_the_window_length() {
    // On a 7-day window the 1h/5m page factor is 2 % * 168 h / 1 h = 3.36: a 1h burn of 5 pages
    // there, while on a 30-day window (factor 14.4) it does not.
    let own = [down(-3.0, 0.0)];
    let week = eval(&objective(99.0, 7), &own, &[], &[]).status; // 1h burn = 0.05/0.01 = 5
    assert!(close(week.burn_rates["1h"].unwrap(), 5.0));
    assert_eq!(week.alerts, AlertLevel::Page);
    let month = eval(&objective(99.0, 30), &own, &[], &[]).status;
    assert_eq!(month.alerts, AlertLevel::None);
}

#[test]
fn burn_rates_respect_self_only() {
    let ups = [("db", 1, vec![open(-5.0)])];
    let s = eval(&self_only(objective(99.9, 30)), &[open(-5.0)], &ups, &[]).status;
    assert_eq!(s.burn_rates["5m"], Some(0.0));
    assert_eq!(s.alerts, AlertLevel::None);
}

#[test]
fn each_rule_splits_its_long_window_between_own_and_upstream_minutes() {
    // The system is down 50..10 minutes ago and 26 h..24.5 h ago; its upstream "db" is down
    // 45..20 minutes ago and 27 h..25 h ago, so the overlaps (25 and 60 minutes) are the
    // upstream's.
    let e = eval(
        &objective(99.9, 30),
        &[down(-50.0, -10.0), down(-26.0 * H, -24.5 * H)],
        &[(
            "db",
            1,
            vec![down(-45.0, -20.0), down(-27.0 * H, -25.0 * H)],
        )],
        &[],
    );
    let rule = |long: &str| {
        e.status
            .alert_rules
            .iter()
            .find(|r| r.long_window == long)
            .unwrap()
            .clone()
    };
    // 1h and 1d (the older outage lies before the day): own 15, upstream 25.
    for long in ["1h", "1d"] {
        assert!(close(rule(long).self_minutes, 15.0), "{long}");
        assert!(close(rule(long).upstream_minutes, 25.0), "{long}");
    }
    // 3d: own 15 + 30, upstream 25 + 60.
    assert!(close(rule("3d").self_minutes, 45.0));
    assert!(close(rule("3d").upstream_minutes, 85.0));

    // A self-only objective counts only its own minutes toward firing, but reports both.
    let e = eval(
        &self_only(objective(99.9, 30)),
        &[open(-30.0)],
        &[("db", 1, vec![open(-40.0)])],
        &[],
    );
    let one_hour = e
        .status
        .alert_rules
        .iter()
        .find(|r| r.long_window == "1h")
        .unwrap();
    assert!(close(one_hour.upstream_minutes, 30.0));
    assert_eq!(one_hour.self_minutes, 0.0);
    assert!(!one_hour.firing);
}
