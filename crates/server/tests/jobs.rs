//! The periodic jobs, run at the instants the tests choose: snapshots, streaks, achievements,
//! milestones, retention, the weekly digest, once per cluster, and catch-up after downtime.

use crate::support::*;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};
use reqwest::StatusCode;
use serde_json::{json, Value};
use slod::jobs::{self, day_of, start_of, CatchUp, Outcome};

on_both!(
    a_rerun_of_the_same_day_replaces_its_snapshot,
    two_replicas_at_midnight_produce_one_snapshot_per_objective,
    missed_midnights_are_caught_up_at_start,
    two_replicas_catching_up_count_each_day_once_in_order,
    the_weekly_digest_runs_once_per_week,
    old_results_are_pruned_by_the_daily_job,
);

fn plus_days(day: Date, n: i64) -> Date {
    day.checked_add(n.days()).unwrap()
}

/// A few seconds after the midnight that ends `day`.
fn just_after(day: Date) -> Timestamp {
    start_of(plus_days(day, 1)) + SignedDuration::from_secs(5)
}

async fn snapshots(s: &TestServer, objective: &str, from: Date, to: Date) -> Vec<Value> {
    let (status, body) = s
        .get(&format!(
            "/api/v1/objectives/{objective}/snapshots?from={from}&to={to}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["snapshots"].as_array().unwrap().clone()
}

async fn a_rerun_of_the_same_day_replaces_its_snapshot(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let (check, id) = watched_system(&s, "svc", json!({"target": 99.0, "windowDays": 7})).await;
    let today = day_of(Timestamp::now());
    let at = just_after(today);
    assert_eq!(
        jobs::run_daily(&s.state, today, at, false).await.unwrap(),
        Outcome::Ran
    );
    let first = snapshots(&s, &id, today, today).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["availability"], 100.0);
    assert_eq!(first[0]["streakDays"], 1);

    // An outage recorded later that day (back-filled), then an operator's re-run.
    results(
        &s,
        &check,
        json!([{"status": "unhealthy", "at": minutes_ago(20)}, {"status": "healthy", "at": minutes_ago(10)}]),
    )
    .await;
    assert_eq!(
        jobs::run_daily(&s.state, today, at, true).await.unwrap(),
        Outcome::Ran
    );
    let again = snapshots(&s, &id, today, today).await;
    assert_eq!(again.len(), 1, "replaced, not duplicated");
    assert!(
        again[0]["availability"].as_f64().unwrap() < 100.0,
        "{again:?}"
    );
    assert!((again[0]["consumedMinutes"].as_f64().unwrap() - 10.0).abs() < 0.05);
    assert_eq!(again[0]["streakDays"], 1, "the day counts once");
    assert_eq!(
        jobs::run_daily(&s.state, today, at, false).await.unwrap(),
        Outcome::Claimed,
        "a finished day does not run again by itself"
    );
}

async fn two_replicas_at_midnight_produce_one_snapshot_per_objective(db: Db) {
    let Some(a) = start(db, |_| {}).await else {
        return;
    };
    let b = replica_of(&a, |_| {}).await;
    system_with_check(&a, "api", &[]).await;
    system_with_check(&a, "web", &["api"]).await;
    let mut ids = Vec::new();
    for (system, target) in [("api", 99.0), ("api", 99.9), ("web", 99.5)] {
        ids.push(
            objective(
                &a,
                json!({"systemId": system, "target": target, "windowDays": 30}),
            )
            .await,
        );
    }
    let today = day_of(Timestamp::now());
    let at = just_after(today);
    let (ran_a, ran_b) = tokio::join!(
        jobs::run_daily(&a.state, today, at, false),
        jobs::run_daily(&b.state, today, at, false)
    );
    let outcomes = [ran_a.unwrap(), ran_b.unwrap()];
    assert_eq!(
        outcomes.iter().filter(|o| **o == Outcome::Ran).count(),
        1,
        "exactly one replica ran the day: {outcomes:?}"
    );
    for id in &ids {
        assert_eq!(snapshots(&b, id, today, today).await.len(), 1, "{id}");
    }
    let (_, streaks) = b.get("/api/v1/streaks").await;
    assert_eq!(streaks["streaks"].as_array().unwrap().len(), 3, "{streaks}");
}

async fn missed_midnights_are_caught_up_at_start(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let (_, id) = watched_system(&s, "svc", json!({"target": 99.0, "windowDays": 7})).await;
    let today = day_of(Timestamp::now());
    assert_eq!(
        jobs::due_days(&s.state, just_after(today)).await.unwrap(),
        [today],
        "the first day an objective existed"
    );
    jobs::run_daily(&s.state, today, just_after(today), false)
        .await
        .unwrap();
    // The service was down for the next two midnights and starts again ten minutes after the
    // third.
    let restart = start_of(plus_days(today, 3)) + SignedDuration::from_mins(10);
    assert_eq!(
        jobs::due_days(&s.state, restart).await.unwrap(),
        [plus_days(today, 1), plus_days(today, 2)]
    );
    let mut events = Events::open(&s, "?systemId=svc").await;
    jobs::catch_up(&s.state, restart).await.unwrap();
    let taken = snapshots(&s, &id, today, plus_days(today, 2)).await;
    let days: Vec<&str> = taken.iter().map(|t| t["day"].as_str().unwrap()).collect();
    let expected: Vec<String> = (0..3).map(|n| plus_days(today, n).to_string()).collect();
    assert_eq!(days, expected, "oldest first, one per day");
    let streak_days: Vec<u64> = taken
        .iter()
        .map(|t| t["streakDays"].as_u64().unwrap())
        .collect();
    assert_eq!(streak_days, [1, 2, 3]);
    assert!(jobs::due_days(&s.state, restart).await.unwrap().is_empty());

    let signal = events.until(|n, _| n == "slo.streak.updated").await;
    assert_eq!(signal["objectiveId"], id.as_str());
    let (_, streaks) = s.get("/api/v1/streaks").await;
    assert_eq!(streaks["streaks"][0]["currentDays"], 3);
    assert_eq!(streaks["streaks"][0]["bestDays"], 3);
    let (_, achievements) = s.get("/api/v1/systems/svc/achievements").await;
    let kinds: Vec<&str> = achievements["achievements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    for kind in ["first_steps", "budget_miser", "clean_sheet"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    assert!(!kinds.contains(&"iron_uptime"), "3 days are not 7");
    let (_, milestones) = s.get("/api/v1/milestones?limit=2").await;
    assert_eq!(milestones["milestones"].as_array().unwrap().len(), 2);
    assert_eq!(milestones["milestones"][0]["kind"], "achievement");
    let (status, _) = s.get("/api/v1/systems/ghost/achievements").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, error) = s
        .get(&format!("/api/v1/objectives/{id}/snapshots?from=yesterday"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"]["details"][0]["field"], "from");
}

async fn the_weekly_digest_runs_once_per_week(db: Db) {
    let Some(s) = start(db, |_| {}).await else {
        return;
    };
    let _ = watched_system(
        &s,
        "svc",
        json!({"name": "up", "target": 99.0, "windowDays": 7}),
    )
    .await;
    let today = day_of(Timestamp::now());
    let days_to_monday = 7 - i64::from(today.weekday().to_monday_zero_offset());
    let monday = plus_days(today, days_to_monday);
    let mut events = Events::open(&s, "").await;
    // Before 09:00 on Monday the digest is not due; after, it runs once.
    jobs::catch_up(&s.state, start_of(monday) + SignedDuration::from_hours(8))
        .await
        .unwrap();
    let nine_thirty = start_of(monday) + SignedDuration::from_mins(9 * 60 + 30);
    jobs::catch_up(&s.state, nine_thirty).await.unwrap();
    let digest = events.until(|n, _| n == "slo.digest").await;
    assert_eq!(digest["totalObjectives"], 1);
    assert_eq!(digest["bestByAvailability"][0]["systemName"], "svc");
    let (outcome, _) = jobs::run_digest(&s.state, monday, nine_thirty, false)
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Claimed, "once per week");
    // Nothing else arrives: the next signal is the marker a change of ours announces.
    let (status, _) = s
        .post(
            "/api/v1/incidents",
            json!({"systemIds": ["svc"], "title": "marker"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (next, _) = events.next().await;
    assert_eq!(next, "incident.changed", "no second digest");
}

async fn old_results_are_pruned_by_the_daily_job(db: Db) {
    let Some(s) = start(db, |c| c.result_retention_days = Some(1)).await else {
        return;
    };
    let check = system_with_check(&s, "svc", &[]).await;
    results(
        &s,
        &check,
        json!([
            {"status": "unhealthy", "at": minutes_ago(3 * 1440)},
            {"status": "healthy", "at": minutes_ago(2 * 1440)},
            {"status": "healthy", "at": minutes_ago(5)},
        ]),
    )
    .await;
    let id = objective(
        &s,
        json!({"systemId": "svc", "target": 99.0, "windowDays": 7}),
    )
    .await;
    let today = day_of(Timestamp::now());
    jobs::run_daily(&s.state, today, Timestamp::now(), false)
        .await
        .unwrap();
    let (_, kept) = s.get(&format!("/api/v1/checks/{check}/results")).await;
    assert_eq!(kept["results"].as_array().unwrap().len(), 1, "{kept}");
    // The timeline is kept: the objective still sees the outage.
    let (_, o) = s.get(&format!("/api/v1/objectives/{id}")).await;
    assert!(o["status"]["errorBudgetConsumedMinutes"].as_f64().unwrap() > 1400.0);
}

async fn two_replicas_catching_up_count_each_day_once_in_order(db: Db) {
    let Some(a) = start(db, |_| {}).await else {
        return;
    };
    let b = replica_of(&a, |_| {}).await;
    system_with_check(&a, "svc", &[]).await;
    let mut ids = Vec::new();
    for target in [99.0, 99.5, 99.9] {
        ids.push(
            objective(
                &a,
                json!({"systemId": "svc", "target": target, "windowDays": 7}),
            )
            .await,
        );
    }
    let today = day_of(Timestamp::now());
    // Both start after five missed midnights, at the same moment.
    let restart = start_of(plus_days(today, 5)) + SignedDuration::from_mins(1);
    let (first_a, first_b) = tokio::join!(
        jobs::catch_up(&a.state, restart),
        jobs::catch_up(&b.state, restart)
    );
    // A replica that found a day held by the other retries (the scheduler does, a minute later).
    for (replica, first) in [(&a, first_a.unwrap()), (&b, first_b.unwrap())] {
        let mut progress = first;
        while progress == CatchUp::Waiting {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            progress = jobs::catch_up(&replica.state, restart).await.unwrap();
        }
    }
    for id in &ids {
        let taken = snapshots(&a, id, today, plus_days(today, 4)).await;
        let streak: Vec<u64> = taken
            .iter()
            .map(|t| t["streakDays"].as_u64().unwrap())
            .collect();
        assert_eq!(streak, [1, 2, 3, 4, 5], "{id}: each day once, in order");
    }
}

/// Five days of an objective's life: healthy, healthy, a 30-minute outage (a breach of a
/// 99 % one-day objective, whose budget is 14.4 minutes), healthy, healthy. `days[0]` is
/// the objective's first day.
async fn five_days() -> (TestServer, [Date; 5], [String; 2]) {
    let s = start(Db::Sqlite, |_| {}).await.unwrap();
    let today = day_of(Timestamp::now());
    let days = [5, 4, 3, 2, 1].map(|back| plus_days(today, -back));
    let born = start_of(days[0]) + SignedDuration::from_hours(1);
    let check = system_with_check(&s, "svc", &[]).await;
    let at = |day: Date, hours: i64, mins: i64| {
        (start_of(day) + SignedDuration::from_mins(hours * 60 + mins)).to_string()
    };
    results(
        &s,
        &check,
        json!([
            {"status": "healthy", "at": born.to_string()},
            {"status": "unhealthy", "at": at(days[2], 12, 0)},
            {"status": "healthy", "at": at(days[2], 12, 30)}
        ]),
    )
    .await;
    let mut tx = s.state.store.begin().await.unwrap();
    let ids = [("daily", 99.0, 1), ("weekly", 99.9, 7)].map(|(name, target, days)| {
        let mut o = slod_engine::Objective {
            id: uuid::Uuid::new_v4().to_string(),
            system_id: "svc".into(),
            health_check_id: None,
            name: Some(name.into()),
            target,
            window_days: Some(days),
            window_kind: slod_engine::WindowKind::Rolling,
            time_zone: None,
            dependency_exclusion: slod_engine::DependencyExclusion::Strict,
            excluded_dependency_ids: vec![],
            exclude_maintenance_windows: false,
            burn_rate_thresholds: slod_engine::BurnRateThresholds::default(),
            created_at: born,
            updated_at: born,
        };
        o.name = Some(name.into());
        o
    });
    for o in &ids {
        tx.create_objective(o).await.unwrap();
    }
    tx.commit().await.unwrap();
    (s, days, ids.map(|o| o.id))
}

/// Everything the bookkeeping records, but the instants it recorded them at.
async fn bookkeeping(s: &TestServer, days: &[Date; 5], objectives: &[String; 2]) -> Value {
    let store = &s.state.store;
    let mut snapshots = Vec::new();
    for o in objectives {
        for snap in store
            .list_snapshots(o, &days[0].to_string(), &days[4].to_string())
            .await
            .unwrap()
        {
            snapshots.push(json!([
                snap.day,
                snap.availability,
                snap.consumed_minutes,
                snap.remaining_percent,
                snap.is_breaching,
                snap.streak_days,
                snap.best_days
            ]));
        }
    }
    let mut streaks: Vec<(Option<String>, Value)> = store
        .list_streaks(100)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.objective_name.clone(),
                json!([r.objective_name, r.day, r.current_days, r.best_days]),
            )
        })
        .collect();
    streaks.sort_by(|a, b| a.0.cmp(&b.0));
    let streaks: Vec<Value> = streaks.into_iter().map(|(_, v)| v).collect();
    let achievements: Vec<Value> = store
        .list_achievements("svc")
        .await
        .unwrap()
        .into_iter()
        .map(|a| json!(a.kind).to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(Value::String)
        .collect();
    let milestones: Vec<Value> = store
        .list_milestones(100)
        .await
        .unwrap()
        .into_iter()
        .map(|m| json!([m.kind, m.objective_id, m.detail]).to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(Value::String)
        .collect();
    json!({"snapshots": snapshots, "streaks": streaks, "achievements": achievements, "milestones": milestones})
}

/// Re-running a day recomputes it and every later day; an earlier day never computed is
/// computed first. So any order of runs and re-runs ends where running the days in order
/// does: days 1 and 2, then redo 1, then redo 2, gives streaks 1 and 2 (not 2 and 3).
#[test]
fn any_order_of_runs_and_reruns_ends_where_running_the_days_in_order_does() {
    use proptest::prelude::*;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let run = |order: &[usize]| {
        runtime.block_on(async {
            let (s, days, objectives) = five_days().await;
            for &d in order {
                jobs::run_daily(&s.state, days[d], Timestamp::now(), true)
                    .await
                    .unwrap();
            }
            bookkeeping(&s, &days, &objectives).await
        })
    };
    let in_order: Vec<Value> = (0..5)
        .map(|last| run(&(0..=last).collect::<Vec<_>>()))
        .collect();
    // The worked case of the report: day 1, day 2, redo 1, redo 2.
    let reported = run(&[0, 1, 0, 1]);
    assert_eq!(reported, in_order[1]);
    let streaks: Vec<u64> = reported["snapshots"].as_array().unwrap()[..2]
        .iter()
        .map(|s| s[5].as_u64().unwrap())
        .collect();
    assert_eq!(streaks, [1, 2]);
    // The breach on day 3 resets the one-day objective's streak, and day 5 counts it to 2.
    let last = &in_order[4]["snapshots"].as_array().unwrap()[..5];
    let one_day: Vec<(u64, u64)> = last
        .iter()
        .map(|s| (s[5].as_u64().unwrap(), s[6].as_u64().unwrap()))
        .collect();
    assert_eq!(one_day, [(1, 1), (2, 2), (0, 2), (1, 2), (2, 2)]);

    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 16,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&prop::collection::vec(0usize..5, 1..8), |order| {
            let last = *order.iter().max().unwrap();
            prop_assert_eq!(run(&order), in_order[last].clone(), "run order {:?}", order);
            Ok(())
        })
        .unwrap();
}
