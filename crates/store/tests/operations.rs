//! Maintenance windows, incidents and the daily bookkeeping's records, on both backends.

use jiff::Timestamp;
use slod_engine::achievements::AchievementKind;
use slod_engine::streak::Streak;
use slod_engine::{CheckStatus, DownSource, Health};
use slod_store::*;

use crate::support::*;

conformance!(
    maintenance_windows_are_listed_filtered_and_cancelled,
    override_incident_opens_and_resolving_closes,
    resolving_cannot_close_an_outage_the_checks_see,
    an_outage_the_override_holds_becomes_the_incidents,
    an_override_without_checks_ends_with_the_incident,
    incidents_are_listed_by_system_and_status,
    a_rerun_day_replaces_its_snapshot_and_the_latest_is_the_streak,
    achievements_and_milestones_are_recorded_once,
    one_claim_wins_and_an_expired_lease_is_taken_over,
    a_standing_lease_is_renewed_by_its_holder_and_taken_once_expired,
    old_results_are_pruned_and_timelines_kept,
    a_due_probe_is_claimed_by_one_replica,
);

fn window(title: &str, systems: &[&str], from: i64, to: i64) -> NewMaintenance {
    NewMaintenance {
        title: title.into(),
        system_ids: systems.iter().map(|s| s.to_string()).collect(),
        start_at: mins(from),
        end_at: mins(to),
    }
}

fn incident(systems: &[&str], health_override: bool) -> NewIncident {
    NewIncident {
        title: "broken".into(),
        system_ids: systems.iter().map(|s| s.to_string()).collect(),
        health_override,
    }
}

async fn open_system_interval(s: &Store, system: &str) -> Option<slod_engine::DownInterval> {
    s.down_intervals(system, None, mins(-10_000))
        .await
        .unwrap()
        .into_iter()
        .last()
}

/// Reads stamp a window's status at the real time; the test's clock is fixed, so compare the
/// windows as of the test's `now`.
fn as_of_now(items: Vec<Maintenance>) -> Vec<Maintenance> {
    items.into_iter().map(|m| m.at(now())).collect()
}

async fn maintenance_windows_are_listed_filtered_and_cancelled(s: Store) {
    tx!(s, create_system(system("api", &[]), now())).unwrap();
    tx!(s, create_system(system("db", &[]), now())).unwrap();
    let bad = tx!(
        s,
        create_maintenance(&window("w", &["api", "ghost"], 0, 60), now())
    );
    assert!(
        matches!(bad, Err(StoreError::Invalid { ref field, .. }) if field == "systemIds"),
        "{bad:?}"
    );
    let none = s
        .list_maintenances(&MaintenanceFilter::default(), 10, None)
        .await
        .unwrap();
    assert!(none.items.is_empty(), "a rejected window stores nothing");

    let past = tx!(
        s,
        create_maintenance(&window("past", &["api", "db", "api"], -120, -60), now())
    )
    .unwrap();
    assert_eq!(past.system_ids, ["api", "db"], "deduplicated and sorted");
    assert_eq!(past.status, slod_engine::MaintenanceStatus::Completed);
    let future = tx!(
        s,
        create_maintenance(&window("future", &["db"], 60, 120), now())
    )
    .unwrap();
    assert_eq!(future.status, slod_engine::MaintenanceStatus::Scheduled);
    assert_eq!(
        s.get_maintenance(&past.id).await.unwrap(),
        Some(past.clone())
    );

    let of_api = MaintenanceFilter {
        system_id: Some("api".into()),
        ..Default::default()
    };
    let listed = s.list_maintenances(&of_api, 10, None).await.unwrap();
    assert_eq!(as_of_now(listed.items), vec![past.clone()]);
    let later = MaintenanceFilter {
        from: Some(mins(0)),
        ..Default::default()
    };
    let listed = s.list_maintenances(&later, 10, None).await.unwrap();
    assert_eq!(
        as_of_now(listed.items),
        vec![future.clone()],
        "overlapping [from, to) only"
    );
    let first = s
        .list_maintenances(&MaintenanceFilter::default(), 1, None)
        .await
        .unwrap();
    assert_eq!(
        as_of_now(first.items),
        vec![future.clone()],
        "latest start first"
    );
    let second = s
        .list_maintenances(
            &MaintenanceFilter::default(),
            1,
            first.next_cursor.as_deref(),
        )
        .await
        .unwrap();
    assert_eq!(as_of_now(second.items), vec![past.clone()]);
    assert_eq!(second.next_cursor, None);

    let cancelled = tx!(s, cancel_maintenance(&past.id, mins(1)))
        .unwrap()
        .unwrap();
    assert_eq!(cancelled.status, slod_engine::MaintenanceStatus::Cancelled);
    let again = tx!(s, cancel_maintenance(&past.id, mins(2)))
        .unwrap()
        .unwrap();
    assert_eq!(
        again.cancelled_at, cancelled.cancelled_at,
        "the first cancel holds"
    );
    assert_eq!(tx!(s, cancel_maintenance("nope", now())).unwrap(), None);

    let windows = s
        .maintenance_windows(&["api".into(), "db".into()], mins(-1000))
        .await
        .unwrap();
    assert_eq!(windows["api"].len(), 1);
    assert!(windows["api"][0].cancelled);
    assert_eq!(windows["db"].len(), 2);
    let recent = s
        .maintenance_windows(&["db".into()], mins(0))
        .await
        .unwrap();
    assert_eq!(recent["db"].len(), 1, "only windows ending after `since`");
}

async fn override_incident_opens_and_resolving_closes(s: Store) {
    tx!(s, create_system(system("api", &[]), now())).unwrap();
    let c = tx!(s, create_check("api", push_check("agent"), now())).unwrap();
    tx!(
        s,
        record_results(&c.id, &[result(CheckStatus::Healthy, mins(-30))], now())
    )
    .unwrap();
    let (opened, moves) = tx!(s, open_incident(&incident(&["api"], true), mins(-20))).unwrap();
    assert_eq!(opened.status, IncidentStatus::Open);
    assert_eq!(moves.len(), 1);
    assert_eq!(
        (moves[0].before, moves[0].after),
        (Health::Healthy, Health::Unhealthy)
    );
    assert!(moves[0].timeline_changed);
    assert_eq!(
        s.system_health("api").await.unwrap().unwrap().status,
        Health::Unhealthy
    );
    let open = open_system_interval(&s, "api").await.unwrap();
    assert_eq!(
        (open.start, open.end, open.source),
        (mins(-20), None, DownSource::Incident)
    );

    // The checks keep saying healthy: the override holds.
    tx!(
        s,
        record_results(&c.id, &[result(CheckStatus::Healthy, mins(-10))], now())
    )
    .unwrap();
    assert_eq!(open_system_interval(&s, "api").await.unwrap().end, None);

    let (resolved, moves) = tx!(s, resolve_incident(&opened.id, mins(-5)))
        .unwrap()
        .unwrap();
    assert_eq!(resolved.status, IncidentStatus::Resolved);
    assert_eq!(resolved.resolved_at, Some(mins(-5)));
    assert_eq!(
        (moves[0].before, moves[0].after),
        (Health::Unhealthy, Health::Healthy)
    );
    let closed = open_system_interval(&s, "api").await.unwrap();
    assert_eq!((closed.start, closed.end), (mins(-20), Some(mins(-5))));
    assert_eq!(
        s.system_health("api").await.unwrap().unwrap().status,
        Health::Healthy
    );

    let (_, moves) = tx!(s, resolve_incident(&opened.id, mins(0)))
        .unwrap()
        .unwrap();
    assert!(moves.is_empty(), "resolving twice moves nothing");
    assert_eq!(
        s.get_incident(&opened.id)
            .await
            .unwrap()
            .unwrap()
            .resolved_at,
        Some(mins(-5))
    );
}

async fn resolving_cannot_close_an_outage_the_checks_see(s: Store) {
    tx!(s, create_system(system("api", &[]), now())).unwrap();
    let c = tx!(s, create_check("api", push_check("agent"), now())).unwrap();
    tx!(
        s,
        record_results(&c.id, &[result(CheckStatus::Unhealthy, mins(-30))], now())
    )
    .unwrap();
    let (opened, moves) = tx!(s, open_incident(&incident(&["api"], true), mins(-20))).unwrap();
    assert!(!moves[0].timeline_changed, "the interval was already open");
    tx!(s, resolve_incident(&opened.id, mins(-10)))
        .unwrap()
        .unwrap();
    let open = open_system_interval(&s, "api").await.unwrap();
    assert_eq!(
        (open.start, open.end, open.source),
        (mins(-30), None, DownSource::Healthcheck),
        "still down: the checks say so"
    );
    tx!(
        s,
        record_results(&c.id, &[result(CheckStatus::Healthy, mins(-5))], now())
    )
    .unwrap();
    assert_eq!(
        open_system_interval(&s, "api").await.unwrap().end,
        Some(mins(-5))
    );
}

async fn an_outage_the_override_holds_becomes_the_incidents(s: Store) {
    tx!(s, create_system(system("api", &[]), now())).unwrap();
    let c = tx!(s, create_check("api", push_check("agent"), now())).unwrap();
    tx!(
        s,
        record_results(&c.id, &[result(CheckStatus::Degraded, mins(-30))], now())
    )
    .unwrap();
    let (opened, _) = tx!(s, open_incident(&incident(&["api"], true), mins(-20))).unwrap();
    tx!(
        s,
        record_results(&c.id, &[result(CheckStatus::Healthy, mins(-15))], now())
    )
    .unwrap();
    let held = open_system_interval(&s, "api").await.unwrap();
    assert_eq!((held.end, held.source), (None, DownSource::Incident));
    tx!(s, resolve_incident(&opened.id, mins(-10)))
        .unwrap()
        .unwrap();
    let closed = open_system_interval(&s, "api").await.unwrap();
    assert_eq!((closed.start, closed.end), (mins(-30), Some(mins(-10))));
}

async fn an_override_without_checks_ends_with_the_incident(s: Store) {
    tx!(s, create_system(system("api", &[]), now())).unwrap();
    let (opened, _) = tx!(s, open_incident(&incident(&["api"], true), mins(-20))).unwrap();
    assert_eq!(
        s.system_health("api").await.unwrap().unwrap().status,
        Health::Unhealthy
    );
    let (_, moves) = tx!(s, resolve_incident(&opened.id, mins(-10)))
        .unwrap()
        .unwrap();
    assert_eq!(moves[0].after, Health::Unknown, "no check has spoken");
    let closed = open_system_interval(&s, "api").await.unwrap();
    assert_eq!(
        closed.end,
        Some(mins(-10)),
        "only the incident vouched for it"
    );
    // Without an override, an incident moves no timeline.
    let (_, moves) = tx!(s, open_incident(&incident(&["api"], false), mins(-5))).unwrap();
    assert!(moves.is_empty());
    assert_eq!(
        s.down_intervals("api", None, mins(-100))
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn incidents_are_listed_by_system_and_status(s: Store) {
    tx!(s, create_system(system("api", &[]), now())).unwrap();
    tx!(s, create_system(system("db", &[]), now())).unwrap();
    assert!(matches!(
        tx!(s, open_incident(&incident(&["ghost"], true), now())),
        Err(StoreError::Invalid { .. })
    ));
    let (a, _) = tx!(s, open_incident(&incident(&["api"], false), mins(-3))).unwrap();
    let (b, _) = tx!(s, open_incident(&incident(&["api", "db"], false), mins(-2))).unwrap();
    let (c, _) = tx!(s, open_incident(&incident(&["db"], false), mins(-1))).unwrap();
    tx!(s, resolve_incident(&b.id, now())).unwrap();
    let ids = |page: Page<Incident>| page.items.into_iter().map(|i| i.id).collect::<Vec<_>>();
    let all = s
        .list_incidents(&IncidentFilter::default(), 10, None)
        .await
        .unwrap();
    assert_eq!(ids(all), [c.id.clone(), b.id.clone(), a.id.clone()]);
    let api_open = IncidentFilter {
        system_id: Some("api".into()),
        status: Some(IncidentStatus::Open),
    };
    assert_eq!(
        ids(s.list_incidents(&api_open, 10, None).await.unwrap()),
        vec![a.id.clone()]
    );
    let resolved = IncidentFilter {
        status: Some(IncidentStatus::Resolved),
        ..Default::default()
    };
    let page = s.list_incidents(&resolved, 10, None).await.unwrap();
    assert_eq!(page.items[0].system_ids, ["api", "db"]);
    let first = s
        .list_incidents(&IncidentFilter::default(), 2, None)
        .await
        .unwrap();
    let rest = s
        .list_incidents(&IncidentFilter::default(), 2, first.next_cursor.as_deref())
        .await
        .unwrap();
    assert_eq!(ids(rest), [a.id]);
}

fn snapshot(objective: &str, day: &str, availability: f64, streak: u32) -> Snapshot {
    Snapshot {
        objective_id: objective.into(),
        day: day.into(),
        availability,
        consumed_minutes: 1.5,
        remaining_percent: 96.5,
        burn_rate: None,
        is_breaching: false,
        streak_days: streak,
        best_days: streak,
        taken_at: now(),
    }
}

async fn a_rerun_day_replaces_its_snapshot_and_the_latest_is_the_streak(s: Store) {
    tx!(s, create_system(system("api", &[]), now())).unwrap();
    tx!(s, create_objective(&objective("o1", "api"))).unwrap();
    let day1 = "2026-06-28";
    assert!(s.current_streaks().await.unwrap().is_empty());
    tx!(s, record_day(&snapshot("o1", day1, 99.0, 1), true)).unwrap();
    // A re-run of the same day replaces its snapshot.
    tx!(s, record_day(&snapshot("o1", day1, 98.0, 1), true)).unwrap();
    let day2 = "2026-06-29";
    let mut with_burn = snapshot("o1", day2, 97.0, 2);
    with_burn.burn_rate = Some(0.25);
    tx!(s, record_day(&with_burn, true)).unwrap();
    let all = s
        .list_snapshots("o1", "2026-06-01", "2026-06-30")
        .await
        .unwrap();
    assert_eq!(all.len(), 2, "one per day");
    assert_eq!(
        (all[0].day.as_str(), all[0].availability),
        (day1, 98.0),
        "replaced"
    );
    assert_eq!((all[1].burn_rate, all[1].best_days), (Some(0.25), 2));
    assert_eq!(s.snapshots_on(day1).await.unwrap(), [all[0].clone()]);
    assert_eq!(s.snapshot_days().await.unwrap(), [day1, day2]);
    let streaks = s.list_streaks(10).await.unwrap();
    assert_eq!(
        (streaks[0].current_days, streaks[0].day.as_str()),
        (2, day2)
    );
    assert_eq!(
        s.current_streaks().await.unwrap()["o1"],
        Streak {
            current_days: 2,
            best_days: 2
        }
    );
    // A day recomputed behind the latest leaves the current streak alone.
    tx!(s, record_day(&snapshot("o1", day1, 99.5, 1), false)).unwrap();
    assert_eq!(s.list_streaks(10).await.unwrap()[0].day, day2);
    // A deleted objective records nothing.
    tx!(s, record_day(&snapshot("ghost", day2, 1.0, 0), true)).unwrap();
    assert!(s
        .list_snapshots("ghost", "2026-01-01", "2026-12-31")
        .await
        .unwrap()
        .is_empty());
}

async fn achievements_and_milestones_are_recorded_once(s: Store) {
    tx!(s, create_system(system("api", &[]), now())).unwrap();
    tx!(s, create_objective(&objective("o1", "api"))).unwrap();
    assert!(tx!(
        s,
        unlock_achievement("api", AchievementKind::FirstSteps, now())
    )
    .unwrap());
    assert!(!tx!(
        s,
        unlock_achievement("api", AchievementKind::FirstSteps, mins(5))
    )
    .unwrap());
    assert!(tx!(
        s,
        unlock_achievement("api", AchievementKind::CleanSheet, mins(1))
    )
    .unwrap());
    let got = s.list_achievements("api").await.unwrap();
    assert_eq!(
        got.iter().map(|a| a.kind).collect::<Vec<_>>(),
        [AchievementKind::FirstSteps, AchievementKind::CleanSheet]
    );
    assert_eq!(got[0].unlocked_at, now(), "never replaced");
    assert!(tx!(s, streak_milestone("api", "o1", 7, mins(2))).unwrap());
    assert!(!tx!(s, streak_milestone("api", "o1", 7, mins(3))).unwrap());
    let milestones = s.list_milestones(10).await.unwrap();
    assert_eq!(milestones.len(), 3);
    assert_eq!(
        (
            milestones[0].kind.as_str(),
            milestones[0].detail.as_str(),
            milestones[0].objective_id.as_deref()
        ),
        ("streak", "7_days", Some("o1")),
        "newest first"
    );
    assert_eq!(milestones[2].detail, "first_steps");
}

async fn one_claim_wins_and_an_expired_lease_is_taken_over(s: Store) {
    let lease = mins(15);
    let (a, b) = tokio::join!(
        s.claim_job("daily", "2026-06-29", "a", now(), lease),
        s.claim_job("daily", "2026-06-29", "b", now(), lease)
    );
    assert!(a.unwrap() ^ b.unwrap(), "exactly one replica wins");
    assert!(!s
        .claim_job("daily", "2026-06-29", "c", mins(10), mins(25))
        .await
        .unwrap());
    // The winner died: after its lease another replica takes over.
    assert!(s
        .claim_job("daily", "2026-06-29", "c", mins(16), mins(31))
        .await
        .unwrap());
    assert_eq!(s.last_finished("daily").await.unwrap(), None);
    tx!(s, finish_job("daily", "2026-06-29", "c", mins(17))).unwrap();
    assert_eq!(
        s.last_finished("daily").await.unwrap().as_deref(),
        Some("2026-06-29")
    );
    assert!(
        !s.claim_job("daily", "2026-06-29", "d", mins(100), mins(115))
            .await
            .unwrap(),
        "a finished run is never run again"
    );
    assert!(
        s.claim_job("digest", "2026-06-29", "d", now(), lease)
            .await
            .unwrap(),
        "jobs are separate"
    );
}

async fn old_results_are_pruned_and_timelines_kept(s: Store) {
    tx!(s, create_system(system("api", &[]), now())).unwrap();
    let c = tx!(s, create_check("api", push_check("agent"), now())).unwrap();
    tx!(
        s,
        record_results(
            &c.id,
            &[
                result(CheckStatus::Unhealthy, mins(-300)),
                result(CheckStatus::Healthy, mins(-200)),
                result(CheckStatus::Healthy, mins(-10)),
            ],
            now(),
        )
    )
    .unwrap();
    assert_eq!(tx!(s, prune_results(mins(-100))).unwrap(), 2);
    assert_eq!(
        s.list_results(&c.id, None, None, 10).await.unwrap().len(),
        1
    );
    assert_eq!(
        s.down_intervals("api", None, mins(-1000))
            .await
            .unwrap()
            .len(),
        1,
        "kept"
    );
    assert_eq!(s.longest_window_days().await.unwrap(), None);
    tx!(s, create_objective(&objective("o1", "api"))).unwrap();
    assert_eq!(s.longest_window_days().await.unwrap(), Some(30));
    let _ = Timestamp::now();
}

async fn a_due_probe_is_claimed_by_one_replica(s: Store) {
    tx!(s, create_system(system("web", &[]), now())).unwrap();
    let mut http = push_check("http");
    http.kind = CheckKind::Http;
    http.target = Some("http://127.0.0.1:9/".into());
    let c = tx!(s, create_check("web", http, now())).unwrap();
    tx!(s, create_check("web", push_check("agent"), now())).unwrap();
    let due = s.due_probes(now(), 10).await.unwrap();
    assert_eq!(due.len(), 1, "push checks are never probed");
    let next = mins(1);
    let (a, b) = tokio::join!(
        s.claim_probe(&c.id, now(), next),
        s.claim_probe(&c.id, now(), next)
    );
    assert!(a.unwrap() ^ b.unwrap(), "exactly one replica probes");
    assert!(s.due_probes(now(), 10).await.unwrap().is_empty());
    assert_eq!(
        s.due_probes(mins(1), 10).await.unwrap().len(),
        1,
        "due again a minute later"
    );
    // A changed check is due at once.
    tx!(
        s,
        update_check(
            &c.id,
            CheckPatch {
                timeout_ms: Some(2000),
                ..Default::default()
            },
            now(),
        )
    )
    .unwrap();
    assert_eq!(s.due_probes(now(), 10).await.unwrap().len(), 1);
    tx!(
        s,
        update_check(
            &c.id,
            CheckPatch {
                enabled: Some(false),
                ..Default::default()
            },
            now(),
        )
    )
    .unwrap();
    assert!(
        s.due_probes(now(), 10).await.unwrap().is_empty(),
        "disabled checks rest"
    );
}

/// Two stores on one SQLite file (a `slod jobs run` beside the running service): writes that
/// read before they write must wait for each other, not fail with SQLITE_BUSY.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_sqlite_file_take_turns_writing() {
    let path = std::env::temp_dir().join(format!("slod-two-{}.db", uuid::Uuid::new_v4()));
    let url = format!("sqlite://{}", path.display());
    let a = Store::open(&url).await.unwrap();
    a.migrate().await.unwrap();
    let b = Store::open(&url).await.unwrap();
    tx!(a, create_system(system("api", &[]), now())).unwrap();
    tx!(a, create_objective(&objective("o1", "api"))).unwrap();
    let write = |store: Store, n: u32| async move {
        for i in 0..40 {
            let day = format!("2026-06-{:02}", 1 + (i % 28));
            tx!(store, record_day(&snapshot("o1", &day, 99.0, n), true))
                .unwrap_or_else(|e| panic!("store {n}, write {i}: {e}"));
        }
    };
    let (x, y) = tokio::join!(tokio::spawn(write(a, 1)), tokio::spawn(write(b, 2)));
    x.unwrap();
    y.unwrap();
}

async fn a_standing_lease_is_renewed_by_its_holder_and_taken_once_expired(s: Store) {
    assert!(s.hold_lease("alerts", "a", mins(0), mins(1)).await.unwrap());
    assert!(
        !s.hold_lease("alerts", "b", mins(0), mins(1)).await.unwrap(),
        "held by another"
    );
    assert!(
        s.hold_lease("alerts", "a", mins(0), mins(2)).await.unwrap(),
        "the holder renews"
    );
    assert!(!s.hold_lease("alerts", "b", mins(1), mins(3)).await.unwrap());
    assert!(
        s.hold_lease("alerts", "b", mins(3), mins(4)).await.unwrap(),
        "an expired lease is taken over"
    );
    assert!(!s.hold_lease("alerts", "a", mins(3), mins(5)).await.unwrap());
    assert_eq!(
        s.last_finished("alerts").await.unwrap(),
        None,
        "a standing lease never finishes a period"
    );
}
