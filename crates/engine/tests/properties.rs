//! Properties that hold for any timelines: checked on random inputs with proptest.

use crate::common::*;
use proptest::prelude::*;
use slod_engine::*;

/// An interval as (start minutes ago, length minutes, still open).
type Raw = (u32, u32, bool);

fn interval((ago, len, is_open): Raw) -> DownInterval {
    let start = -(ago as f64);
    if is_open {
        open(start)
    } else {
        down(start, (start + len as f64).min(0.0))
    }
}

fn timeline() -> impl Strategy<Value = Vec<Raw>> {
    prop::collection::vec(
        (0u32..60 * 1440, 0u32..3 * 1440, prop::bool::weighted(0.1)),
        0..25,
    )
}

#[derive(Clone, Debug)]
struct Case {
    target: f64,
    window_days: u32,
    self_only: bool,
    exclude_maintenance: bool,
    own: Vec<Raw>,
    upstreams: Vec<Vec<Raw>>,
    maintenance: Vec<(u32, u32)>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        // Targets with up to 6 decimals, from 90 % to 100 %.
        (0u32..=10_000_000).prop_map(|t| 90.0 + t as f64 / 1_000_000.0),
        1u32..=60,
        any::<bool>(),
        any::<bool>(),
        timeline(),
        prop::collection::vec(timeline(), 0..3),
        prop::collection::vec((0u32..60 * 1440, 0u32..2 * 1440), 0..5),
    )
        .prop_map(
            |(target, window_days, self_only, exclude_maintenance, own, upstreams, maintenance)| {
                Case {
                    target,
                    window_days,
                    self_only,
                    exclude_maintenance,
                    own,
                    upstreams,
                    maintenance,
                }
            },
        )
}

const UPSTREAM_IDS: [&str; 3] = ["u0", "u1", "u2"];

fn run(c: &Case) -> Evaluation {
    let mut o = objective(c.target, c.window_days);
    if c.self_only {
        o = self_only(o);
    }
    o.exclude_maintenance_windows = c.exclude_maintenance;
    let own: Vec<DownInterval> = c.own.iter().copied().map(interval).collect();
    let ups: Vec<(&str, u32, Vec<DownInterval>)> = c
        .upstreams
        .iter()
        .enumerate()
        .map(|(i, t)| {
            (
                UPSTREAM_IDS[i],
                1 + i as u32 % 2,
                t.iter().copied().map(interval).collect(),
            )
        })
        .collect();
    let maint: Vec<MaintenanceWindow> = c
        .maintenance
        .iter()
        .map(|&(ago, len)| maintenance(-(ago as f64), -(ago as f64) + len as f64))
        .collect();
    eval(&o, &own, &ups, &maint)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn consumed_never_exceeds_the_window(c in case()) {
        let s = run(&c).status;
        let window = c.window_days as f64 * 1440.0;
        prop_assert!(s.error_budget_consumed_minutes <= window + 1e-9);
        prop_assert!(s.error_budget_consumed_strict_minutes <= window + 1e-9);
        prop_assert!((0.0..=100.0).contains(&s.current_availability));
    }

    #[test]
    fn the_budget_is_the_window_times_the_unspent_target_exactly(c in case()) {
        // W * (100 - target) / 100 with the target as sent: millionths of a percent.
        let s = run(&c).status;
        let millionths = (c.target * 1_000_000.0).round() as i128;
        let exact = (c.window_days as i128 * 1440) * (100_000_000 - millionths);
        prop_assert!((s.error_budget_total_minutes - exact as f64 / 100_000_000.0).abs() < 1e-9);
    }

    #[test]
    fn remaining_plus_consumed_covers_the_budget(c in case()) {
        let s = run(&c).status;
        prop_assert!(s.error_budget_remaining_minutes + s.error_budget_consumed_minutes
            >= s.error_budget_total_minutes - 1e-9);
        prop_assert!(s.error_budget_remaining_minutes >= 0.0);
    }

    #[test]
    fn adding_downtime_never_raises_availability(c in case(), extra in (0u32..60 * 1440, 0u32..3 * 1440, any::<bool>())) {
        let before = run(&c).status;
        let mut more = c.clone();
        more.own.push(extra);
        let after = run(&more).status;
        prop_assert!(after.current_availability <= before.current_availability + 1e-9);
        prop_assert!(after.strict_availability <= before.strict_availability + 1e-9);
    }

    #[test]
    fn excluding_maintenance_never_raises_consumed(c in case()) {
        let mut with = c.clone();
        with.exclude_maintenance = true;
        let mut without = c.clone();
        without.exclude_maintenance = false;
        prop_assert!(run(&with).status.error_budget_consumed_minutes
            <= run(&without).status.error_budget_consumed_minutes + 1e-9);
    }

    #[test]
    fn self_plus_upstream_is_total(c in case()) {
        let e = run(&c);
        let s = &e.status;
        let attributed: f64 = s.attribution.iter().map(|a| a.minutes).sum();
        prop_assert!((attributed - s.error_budget_consumed_strict_minutes).abs() < 1e-6);
        let listed: f64 = e.downtime.iter().map(|d| d.duration_seconds / 60.0).sum();
        prop_assert!((listed - s.error_budget_consumed_strict_minutes).abs() < 1e-6);
        if !c.self_only {
            prop_assert_eq!(s.error_budget_consumed_minutes, s.error_budget_consumed_strict_minutes);
        }
    }

    #[test]
    fn input_order_does_not_matter(c in case(), seed in any::<u64>()) {
        let mut shuffled = c.clone();
        let mut rng = seed;
        let mut next = move |n: usize| { rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1); (rng >> 33) as usize % n.max(1) };
        for i in (1..shuffled.own.len()).rev() { let j = next(i + 1); shuffled.own.swap(i, j); }
        for t in &mut shuffled.upstreams { for i in (1..t.len()).rev() { let j = next(i + 1); t.swap(i, j); } }
        for i in (1..shuffled.maintenance.len()).rev() { let j = next(i + 1); shuffled.maintenance.swap(i, j); }
        let (a, b) = (run(&c), run(&shuffled));
        prop_assert_eq!(&a.status, &b.status);
        // Segments are equal up to the source of overlapping input intervals; compare spans.
        let spans = |e: &Evaluation| e.downtime.iter().map(|d| (d.start, d.end, d.upstream_system_id.clone())).collect::<Vec<_>>();
        prop_assert_eq!(spans(&a).len(), spans(&b).len());
    }
}
