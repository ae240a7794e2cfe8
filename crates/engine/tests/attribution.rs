//! Who a stretch of downtime belongs to, in every order of events (the original attributed the
//! whole overlap wrongly when the upstream went down first).

use crate::common::*;
use slod_engine::*;

#[test]
fn upstream_down_first_then_downstream_the_whole_overlap_is_upstream() {
    let own = [down(-2.0 * H, -30.0)];
    let ups = [("db", 1, vec![down(-3.0 * H, -H)])];
    let strict = eval(&objective(99.9, 30), &own, &ups, &[]).status;
    assert!(close(minutes_of(&strict, Some("db")), 60.0));
    assert!(close(minutes_of(&strict, None), 30.0));
    assert!(
        close(strict.error_budget_consumed_minutes, 90.0),
        "strict counts all"
    );
    let own_only = eval(&self_only(objective(99.9, 30)), &own, &ups, &[]).status;
    assert!(close(own_only.error_budget_consumed_minutes, 30.0));
}

#[test]
fn downstream_down_first_then_upstream() {
    let e = eval(
        &self_only(objective(99.9, 30)),
        &[down(-3.0 * H, -H)],
        &[("db", 1, vec![open(-2.0 * H)])],
        &[],
    );
    assert!(close(minutes_of(&e.status, None), 60.0));
    assert!(close(minutes_of(&e.status, Some("db")), 60.0));
    assert!(close(e.status.error_budget_consumed_minutes, 60.0));
    // Newest first: the upstream part, then the own part.
    assert_eq!(e.downtime.len(), 2);
    assert_eq!(e.downtime[0].upstream_system_id.as_deref(), Some("db"));
    assert_eq!(e.downtime[1].attribution_type, AttributionType::Own);
}

#[test]
fn upstream_recovers_first_the_rest_is_self() {
    let e = eval(
        &self_only(objective(99.9, 30)),
        &[down(-3.0 * H, -H)],
        &[("db", 1, vec![down(-4.0 * H, -2.0 * H)])],
        &[],
    );
    assert!(close(minutes_of(&e.status, Some("db")), 60.0));
    assert!(close(minutes_of(&e.status, None), 60.0));
    assert!(close(e.status.error_budget_consumed_minutes, 60.0));
}

#[test]
fn two_level_chain_attributes_to_the_nearest_upstream_that_was_down() {
    // checkout -> api (depth 1) -> db (depth 2).
    let own = [down(-3.0 * H, 0.0)];
    let ups = [
        ("api", 1, vec![open(-2.0 * H)]),
        ("db", 2, vec![down(-3.0 * H, -H)]),
    ];
    let s = eval(&self_only(objective(99.9, 30)), &own, &ups, &[]).status;
    assert!(
        close(minutes_of(&s, Some("db")), 60.0),
        "only db was down in the first hour"
    );
    assert!(
        close(minutes_of(&s, Some("api")), 120.0),
        "api is nearer when both are down"
    );
    assert_eq!(minutes_of(&s, None), 0.0);
    assert_eq!(s.error_budget_consumed_minutes, 0.0);
    assert!(
        !s.has_open_downtime,
        "down now, but covered by an upstream that is down now"
    );
}

#[test]
fn ties_at_the_same_depth_go_to_the_smallest_id() {
    let own = [down(-60.0, 0.0)];
    let ups = [
        ("zeta", 1, vec![down(-60.0, 0.0)]),
        ("alpha", 1, vec![down(-60.0, 0.0)]),
    ];
    let s = eval(&objective(99.9, 30), &own, &ups, &[]).status;
    assert!(close(minutes_of(&s, Some("alpha")), 60.0));
    assert_eq!(minutes_of(&s, Some("zeta")), 0.0);
}

#[test]
fn excluded_upstream_counts_as_self() {
    let deps = std::collections::HashMap::from([
        (
            "checkout".to_owned(),
            vec!["db".to_owned(), "cache".to_owned()],
        ),
        ("db".to_owned(), vec!["disk".to_owned()]),
    ]);
    let closure = upstream_closure("checkout", &deps, &["db".to_owned()]);
    assert_eq!(closure, [("cache".to_owned(), 1), ("disk".to_owned(), 2)]);
    // With db excluded its outage is the system's own.
    let s = eval(
        &self_only(objective(99.9, 30)),
        &[down(-2.0 * H, -H)],
        &[],
        &[],
    )
    .status;
    assert!(close(s.error_budget_consumed_minutes, 60.0));
}

#[test]
fn upstream_closure_is_transitive_with_distances_and_survives_cycles() {
    let deps = std::collections::HashMap::from([
        ("a".to_owned(), vec!["b".to_owned()]),
        ("b".to_owned(), vec!["c".to_owned(), "a".to_owned()]),
        ("c".to_owned(), vec!["d".to_owned(), "b".to_owned()]),
    ]);
    assert_eq!(
        upstream_closure("a", &deps, &[]),
        [
            ("b".to_owned(), 1),
            ("c".to_owned(), 2),
            ("d".to_owned(), 3)
        ]
    );
}

#[test]
fn incident_source_is_kept_on_segments() {
    let incident = DownInterval {
        source: DownSource::Incident,
        ..down(-30.0, -20.0)
    };
    let e = eval(
        &objective(99.9, 30),
        &[down(-60.0, -40.0), incident],
        &[],
        &[],
    );
    assert_eq!(e.downtime[0].source, DownSource::Incident);
    assert_eq!(e.downtime[1].source, DownSource::Healthcheck);
}
