//! One suite, both backends: every case runs on SQLite (a fresh file) and on PostgreSQL (a fresh
//! schema in `DATABASE_URL`). Without `DATABASE_URL` the PostgreSQL cases print that they were
//! skipped; with `SLOD_REQUIRE_SERVICES=1` a missing database is a failure.

use jiff::Timestamp;
use slod_engine::{CheckStatus, Health};
use slod_store::*;

use crate::support::*;

conformance!(
    systems_crud_and_dependencies,
    dependency_cycles_are_conflicts,
    systems_list_pages_with_a_cursor,
    deleting_a_system_deletes_what_hangs_off_it,
    checks_crud,
    backdated_results_build_the_timeline,
    out_of_order_and_future_results_change_nothing,
    worst_enabled_check_wins_and_disabling_rerolls,
    concurrent_ingest_keeps_one_open_interval,
    tokens_are_found_by_hash_and_revoked,
    migrating_twice_is_a_no_op,
    batches_mix_null_and_present_latency,
    returned_times_are_what_is_stored,
    objectives_crud_and_batched_timelines,
);

async fn systems_crud_and_dependencies(s: Store) {
    tx!(s, create_system(system("db", &[]), now())).unwrap();
    let api = tx!(s, create_system(system("api", &["db", "db"]), now())).unwrap();
    assert_eq!(api.depends_on, ["db"]);
    assert!(matches!(
        tx!(s, create_system(system("api", &[]), now())),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        tx!(s, create_system(system("web", &["nope"]), now())),
        Err(StoreError::Invalid { .. })
    ));
    assert!(
        s.get_system("web").await.unwrap().is_none(),
        "a failed create leaves nothing behind"
    );
    let generated = tx!(
        s,
        create_system(
            NewSystem {
                name: "anon".into(),
                ..NewSystem::default()
            },
            now(),
        )
    )
    .unwrap();
    assert_eq!(generated.id.len(), 36);

    let patched = tx!(
        s,
        update_system(
            "api",
            SystemPatch {
                description: Some(Some("REST".into())),
                ..SystemPatch::default()
            },
            mins(5),
        )
    )
    .unwrap();
    assert_eq!(
        (patched.name.as_str(), patched.description.as_deref()),
        ("System api", Some("REST"))
    );
    assert_eq!(
        patched.depends_on,
        ["db"],
        "omitted fields keep their values"
    );
    assert_eq!(patched.updated_at, mins(5));
    let cleared = tx!(
        s,
        update_system(
            "api",
            SystemPatch {
                description: Some(None),
                depends_on: Some(vec![]),
                ..SystemPatch::default()
            },
            now(),
        )
    )
    .unwrap();
    assert_eq!(
        (cleared.description.as_deref(), cleared.depends_on.len()),
        (None, 0)
    );
    assert!(matches!(
        tx!(s, update_system("ghost", SystemPatch::default(), now())),
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(s.get_system("api").await.unwrap().unwrap(), cleared);
}

async fn dependency_cycles_are_conflicts(s: Store) {
    tx!(s, create_system(system("a", &[]), now())).unwrap();
    tx!(s, create_system(system("b", &["a"]), now())).unwrap();
    tx!(s, create_system(system("c", &["b"]), now())).unwrap();
    let cycle = SystemPatch {
        depends_on: Some(vec!["c".into()]),
        ..SystemPatch::default()
    };
    assert!(matches!(
        tx!(s, update_system("a", cycle, now())),
        Err(StoreError::Conflict(_))
    ));
    let own = SystemPatch {
        depends_on: Some(vec!["a".into()]),
        ..SystemPatch::default()
    };
    assert!(matches!(
        tx!(s, update_system("a", own, now())),
        Err(StoreError::Conflict(_))
    ));
    assert!(
        s.get_system("a")
            .await
            .unwrap()
            .unwrap()
            .depends_on
            .is_empty(),
        "nothing changed"
    );
    let graph = s.dependency_graph().await.unwrap();
    assert_eq!(graph["c"], ["b"]);
}

async fn systems_list_pages_with_a_cursor(s: Store) {
    for i in 0..7 {
        tx!(s, create_system(system(&format!("s{i}"), &[]), now())).unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = s.list_systems(3, cursor.as_deref()).await.unwrap();
        seen.extend(page.items.iter().map(|s| s.id.clone()));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ["s0", "s1", "s2", "s3", "s4", "s5", "s6"]);
    assert_eq!(s.list_systems(7, None).await.unwrap().next_cursor, None);
}

async fn deleting_a_system_deletes_what_hangs_off_it(s: Store) {
    tx!(s, create_system(system("db", &[]), now())).unwrap();
    tx!(s, create_system(system("api", &["db"]), now())).unwrap();
    let check = tx!(s, create_check("db", push_check("ping"), now())).unwrap();
    tx!(
        s,
        record_results(
            &check.id,
            &[result(CheckStatus::Unhealthy, mins(-10))],
            now(),
        )
    )
    .unwrap();
    assert!(tx!(s, delete_system("db")).unwrap().is_some());
    assert!(tx!(s, delete_system("db")).unwrap().is_none());
    assert!(s.get_check(&check.id).await.unwrap().is_none());
    assert!(s
        .down_intervals("db", None, mins(-100))
        .await
        .unwrap()
        .is_empty());
    assert!(s.system_health("db").await.unwrap().is_none());
    assert!(s
        .get_system("api")
        .await
        .unwrap()
        .unwrap()
        .depends_on
        .is_empty());
}

async fn checks_crud(s: Store) {
    assert!(matches!(
        tx!(s, create_check("ghost", push_check("x"), now())),
        Err(StoreError::NotFound { .. })
    ));
    tx!(s, create_system(system("web", &[]), now())).unwrap();
    let http = NewCheck {
        kind: CheckKind::Http,
        target: Some("http://127.0.0.1:9/".into()),
        ..push_check("home")
    };
    let c = tx!(s, create_check("web", http, now())).unwrap();
    assert_eq!(
        s.list_checks("web").await.unwrap(),
        std::slice::from_ref(&c)
    );
    assert_eq!(s.due_probes(now(), 10).await.unwrap().len(), 1);
    let (updated, _) = tx!(
        s,
        update_check(
            &c.id,
            CheckPatch {
                timeout_ms: Some(900),
                enabled: Some(false),
                ..CheckPatch::default()
            },
            mins(1),
        )
    )
    .unwrap();
    assert_eq!(
        (updated.timeout_ms, updated.enabled, updated.name.as_str()),
        (900, false, "home")
    );
    assert!(s.due_probes(mins(1), 10).await.unwrap().is_empty());
    assert!(matches!(
        s.list_checks("ghost").await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(
        tx!(s, delete_check(&c.id, now()))
            .unwrap()
            .map(|d| d.system_id),
        Some("web".to_owned())
    );
    assert!(tx!(s, delete_check(&c.id, now())).unwrap().is_none());
}

async fn backdated_results_build_the_timeline(s: Store) {
    tx!(s, create_system(system("pay", &[]), now())).unwrap();
    let c = tx!(s, create_check("pay", push_check("agent"), now())).unwrap();
    assert_eq!(
        s.system_health("pay").await.unwrap().unwrap().status,
        Health::Unknown
    );
    let batch = [
        result(CheckStatus::Healthy, mins(-180)),
        result(CheckStatus::Unhealthy, mins(-120)),
        result(CheckStatus::Healthy, mins(-60)),
    ];
    let ingested = tx!(s, record_results(&c.id, &batch, now())).unwrap();
    assert_eq!(
        (
            ingested.accepted,
            ingested.health.before,
            ingested.health.after
        ),
        (3, Health::Unknown, Health::Healthy)
    );
    assert!(ingested.health.timeline_changed);
    let system = s.down_intervals("pay", None, mins(-1000)).await.unwrap();
    assert_eq!(system.len(), 1);
    assert_eq!(
        (system[0].start, system[0].end),
        (mins(-120), Some(mins(-60)))
    );
    let check = s
        .down_intervals("pay", Some(&c.id), mins(-1000))
        .await
        .unwrap();
    assert_eq!(
        (check[0].start, check[0].end),
        (mins(-120), Some(mins(-60)))
    );
    let health = s.system_health("pay").await.unwrap().unwrap();
    assert_eq!(
        (health.status, health.since),
        (Health::Healthy, Some(mins(-60)))
    );
    assert_eq!(health.checks[0].status, Some(CheckStatus::Healthy));
    let listed = s.list_results(&c.id, None, None, 10).await.unwrap();
    assert_eq!(
        listed.iter().map(|r| r.at).collect::<Vec<_>>(),
        [mins(-60), mins(-120), mins(-180)]
    );
    let windowed = s
        .list_results(&c.id, Some(mins(-130)), Some(mins(-61)), 10)
        .await
        .unwrap();
    assert_eq!(windowed.len(), 1);

    // Degraded then unhealthy while down: one interval, worst = unhealthy; unknown closes nothing.
    tx!(
        s,
        record_results(&c.id, &[result(CheckStatus::Degraded, mins(-30))], now())
    )
    .unwrap();
    tx!(
        s,
        record_results(&c.id, &[result(CheckStatus::Unhealthy, mins(-20))], now())
    )
    .unwrap();
    let open = s.down_intervals("pay", None, mins(-40)).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].start, open[0].end, open[0].worst),
        (mins(-30), None, CheckStatus::Unhealthy)
    );
}

async fn out_of_order_and_future_results_change_nothing(s: Store) {
    tx!(s, create_system(system("ord", &[]), now())).unwrap();
    let c = tx!(s, create_check("ord", push_check("agent"), now())).unwrap();
    tx!(
        s,
        record_results(&c.id, &[result(CheckStatus::Healthy, mins(-10))], now())
    )
    .unwrap();
    let older = tx!(
        s,
        record_results(
            &c.id,
            &[
                result(CheckStatus::Unhealthy, mins(-5)),
                result(CheckStatus::Unhealthy, mins(-20)),
            ],
            now(),
        )
    );
    assert!(matches!(older, Err(StoreError::Conflict(_))), "{older:?}");
    let future = tx!(
        s,
        record_results(&c.id, &[result(CheckStatus::Unhealthy, mins(10))], now())
    );
    assert!(matches!(future, Err(StoreError::Invalid { .. })));
    assert_eq!(
        s.list_results(&c.id, None, None, 10).await.unwrap().len(),
        1,
        "the good half of a bad batch is not kept"
    );
    assert!(s
        .down_intervals("ord", None, mins(-100))
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        tx!(s, record_results("ghost", &[], now())),
        Err(StoreError::NotFound { .. })
    ));
    // Same time as the latest is not older.
    tx!(
        s,
        record_results(&c.id, &[result(CheckStatus::Healthy, mins(-10))], now())
    )
    .unwrap();
}

async fn worst_enabled_check_wins_and_disabling_rerolls(s: Store) {
    tx!(s, create_system(system("multi", &[]), now())).unwrap();
    let a = tx!(s, create_check("multi", push_check("a"), now())).unwrap();
    let b = tx!(s, create_check("multi", push_check("b"), now())).unwrap();
    tx!(
        s,
        record_results(&a.id, &[result(CheckStatus::Healthy, mins(-50))], now())
    )
    .unwrap();
    let i = tx!(
        s,
        record_results(&b.id, &[result(CheckStatus::Degraded, mins(-40))], now())
    )
    .unwrap();
    assert_eq!(i.health.after, Health::Degraded);
    let i = tx!(
        s,
        record_results(&a.id, &[result(CheckStatus::Unhealthy, mins(-30))], now())
    )
    .unwrap();
    assert_eq!(i.health.after, Health::Unhealthy);
    let i = tx!(
        s,
        record_results(&a.id, &[result(CheckStatus::Healthy, mins(-20))], now())
    )
    .unwrap();
    assert_eq!(i.health.after, Health::Degraded, "b is still degraded");
    let (_, changed) = tx!(
        s,
        update_check(
            &b.id,
            CheckPatch {
                enabled: Some(false),
                ..CheckPatch::default()
            },
            mins(-10),
        )
    )
    .unwrap();
    assert!(changed.moved());
    assert_eq!(
        s.system_health("multi").await.unwrap().unwrap().status,
        Health::Healthy
    );
    let down = s.down_intervals("multi", None, mins(-100)).await.unwrap();
    assert_eq!(down.len(), 1);
    assert_eq!(
        (down[0].start, down[0].end, down[0].worst),
        (mins(-40), Some(mins(-10)), CheckStatus::Unhealthy)
    );
}

async fn concurrent_ingest_keeps_one_open_interval(s: Store) {
    tx!(s, create_system(system("busy", &[]), now())).unwrap();
    let mut checks = Vec::new();
    for i in 0..4 {
        checks.push(tx!(s, create_check("busy", push_check(&format!("c{i}")), now())).unwrap());
    }
    let tasks: Vec<_> = checks
        .iter()
        .enumerate()
        .map(|(i, check)| {
            let s = s.clone();
            let id = check.id.clone();
            tokio::spawn(async move {
                for step in 0..15i64 {
                    let status = if (step + i as i64) % 3 == 0 {
                        CheckStatus::Unhealthy
                    } else {
                        CheckStatus::Healthy
                    };
                    tx!(
                        s,
                        record_results(&id, &[result(status, mins(-100 + step * 5))], now())
                    )
                    .unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let down = s.down_intervals("busy", None, mins(-1000)).await.unwrap();
    assert!(down.iter().filter(|d| d.end.is_none()).count() <= 1);
    for pair in down.windows(2) {
        let end = pair[0].end.expect("only the last may be open");
        assert!(end <= pair[1].start, "intervals overlap: {pair:?}");
    }
}

async fn tokens_are_found_by_hash_and_revoked(s: Store) {
    let t = tx!(s, create_token("ci", Scope::Ingest, "hash-1", now())).unwrap();
    assert_eq!(s.find_token("hash-1").await.unwrap(), Some(t.clone()));
    assert_eq!(s.find_token("hash-2").await.unwrap(), None);
    assert_eq!(tx!(s, revoke_token("ci", now())).unwrap(), 1);
    assert_eq!(s.find_token("hash-1").await.unwrap(), None);
    assert_eq!(
        tx!(s, revoke_token(&t.id, now())).unwrap(),
        0,
        "already revoked"
    );
    assert_eq!(s.list_tokens().await.unwrap()[0].revoked_at, Some(now()));
}

async fn migrating_twice_is_a_no_op(s: Store) {
    assert_eq!(s.migrate().await.unwrap(), Vec::<i64>::new());
    s.ping().await.unwrap();
}

async fn batches_mix_null_and_present_latency(s: Store) {
    // PostgreSQL through the Any driver once rejected a float after a NULL in the same batch.
    tx!(s, create_system(system("lat", &[]), now())).unwrap();
    let c = tx!(s, create_check("lat", push_check("agent"), now())).unwrap();
    let batch = [
        NewResult {
            latency_ms: None,
            ..result(CheckStatus::Healthy, mins(-30))
        },
        NewResult {
            latency_ms: Some(3000.0),
            message: Some("timeout".into()),
            ..result(CheckStatus::Unhealthy, mins(-20))
        },
        NewResult {
            latency_ms: None,
            ..result(CheckStatus::Healthy, mins(-10))
        },
    ];
    assert_eq!(
        tx!(s, record_results(&c.id, &batch, now()))
            .unwrap()
            .accepted,
        3
    );
    let stored = s.list_results(&c.id, None, None, 10).await.unwrap();
    assert_eq!(
        stored.iter().map(|r| r.latency_ms).collect::<Vec<_>>(),
        [None, Some(3000.0), None]
    );
    assert_eq!(stored[1].message.as_deref(), Some("timeout"));
}

async fn returned_times_are_what_is_stored(s: Store) {
    // Times are kept to the millisecond; what a create returns must equal what a read returns.
    let precise: Timestamp = "2026-06-30T12:00:00.123456789Z".parse().unwrap();
    let created = tx!(s, create_system(system("t", &[]), precise)).unwrap();
    assert_eq!(created.created_at.to_string(), "2026-06-30T12:00:00.123Z");
    assert_eq!(s.get_system("t").await.unwrap().unwrap(), created);
    let check = tx!(s, create_check("t", push_check("c"), precise)).unwrap();
    assert_eq!(s.get_check(&check.id).await.unwrap().unwrap(), check);
}

async fn objectives_crud_and_batched_timelines(s: Store) {
    tx!(s, create_system(system("db", &[]), now())).unwrap();
    tx!(s, create_system(system("api", &["db"]), now())).unwrap();
    let c = tx!(s, create_check("api", push_check("agent"), now())).unwrap();
    let created = tx!(s, create_objective(&objective("o1", "api"))).unwrap();
    assert_eq!(created, objective("o1", "api"), "every field round-trips");
    let mut scoped = objective("o2", "api");
    scoped.health_check_id = Some(c.id.clone());
    tx!(s, create_objective(&scoped)).unwrap();
    tx!(s, create_objective(&objective("o3", "db"))).unwrap();

    let mut foreign = objective("o4", "db");
    foreign.health_check_id = Some(c.id.clone());
    assert!(
        matches!(
            tx!(s, create_objective(&foreign)),
            Err(StoreError::Invalid { .. })
        ),
        "the check belongs to another system"
    );
    assert!(matches!(
        tx!(s, create_objective(&objective("o5", "ghost"))),
        Err(StoreError::Invalid { .. })
    ));

    let mut changed = created.clone();
    changed.target = 99.5;
    changed.excluded_dependency_ids = vec![];
    changed.updated_at = mins(1);
    assert_eq!(tx!(s, update_objective(&changed)).unwrap(), changed);

    let page = s.list_objectives(2, None).await.unwrap();
    assert_eq!(
        page.items.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        ["o1", "o2"]
    );
    let rest = s
        .list_objectives(2, page.next_cursor.as_deref())
        .await
        .unwrap();
    assert_eq!((rest.items.len(), rest.next_cursor), (1, None));
    let for_api = s
        .objectives_for_systems(&["api".into(), "ghost".into()])
        .await
        .unwrap();
    assert_eq!(for_api.len(), 2);

    tx!(
        s,
        record_results(
            &c.id,
            &[
                result(CheckStatus::Unhealthy, mins(-30)),
                result(CheckStatus::Healthy, mins(-10)),
            ],
            now(),
        )
    )
    .unwrap();
    let set = s
        .timelines(
            &["api".into(), "db".into()],
            std::slice::from_ref(&c.id),
            mins(-60),
        )
        .await
        .unwrap();
    assert_eq!(set.systems["api"].len(), 1);
    assert!(!set.systems.contains_key("db"));
    assert_eq!(set.checks[&c.id][0].end, Some(mins(-10)));
    assert!(
        s.timelines(&["api".into()], &[], mins(-5))
            .await
            .unwrap()
            .systems
            .is_empty(),
        "ended before since"
    );

    assert_eq!(
        tx!(s, delete_objective("o1")).unwrap().as_deref(),
        Some("api")
    );
    assert_eq!(tx!(s, delete_objective("o1")).unwrap(), None);
    tx!(s, delete_check(&c.id, now())).unwrap();
    assert!(
        s.get_objective("o2").await.unwrap().is_none(),
        "a check-scoped objective goes with its check"
    );
}
