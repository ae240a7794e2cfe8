//! Alerts and silences, on both backends: each transition is recorded once however many
//! evaluations race, and silences validate what they name.

use slod_store::*;

use crate::support::*;

conformance!(
    an_active_fingerprint_fires_once_and_a_stale_move_changes_nothing,
    alerts_are_listed_by_state_system_objective_and_kind,
    silences_name_what_exists_and_end_once,
    resolved_alerts_and_finished_silences_are_pruned,
);

fn new_alert(fingerprint: &str, system: &str, kind: AlertKind) -> NewAlert {
    NewAlert {
        id: uuid::Uuid::new_v4().to_string(),
        fingerprint: fingerprint.into(),
        subject: AlertSubject {
            subject_type: SubjectType::System,
            id: system.into(),
        },
        system_ids: vec![system.into()],
        objective_id: None,
        kind,
        severity: AlertSeverity::Ticket,
        state: AlertState::Firing,
        inhibited_by: None,
        silenced_by: None,
        summary: format!("{system} is unhealthy"),
    }
}

fn resolve_move() -> AlertMove {
    AlertMove {
        state: AlertState::Resolved,
        inhibited_by: None,
        silenced_by: None,
        condition_false_since: Some(mins(1)),
    }
}

async fn an_active_fingerprint_fires_once_and_a_stale_move_changes_nothing(s: Store) {
    tx!(s, create_system(system("db", &[]), now())).unwrap();
    let first = tx!(
        s,
        fire_alert(&new_alert("f1", "db", AlertKind::Health), now())
    )
    .unwrap()
    .expect("the first fire records");
    assert_eq!(first.system_ids, ["db"]);
    assert!(
        tx!(
            s,
            fire_alert(&new_alert("f1", "db", AlertKind::Health), now())
        )
        .unwrap()
        .is_none(),
        "a second active episode of one fingerprint is refused"
    );
    let silenced = AlertMove {
        state: AlertState::Silenced,
        inhibited_by: None,
        silenced_by: Some(SilencedBy {
            source: MuteSource::Silence,
            id: "x".into(),
        }),
        condition_false_since: None,
    };
    let moved = tx!(s, move_alert(&first, &silenced, mins(1)))
        .unwrap()
        .expect("the move from the current revision applies");
    assert_eq!(moved.state, AlertState::Silenced);
    assert!(
        tx!(s, move_alert(&first, &resolve_move(), mins(2)))
            .unwrap()
            .is_none(),
        "a move computed from an older read changes nothing"
    );
    assert_eq!(s.get_alert(&first.id).await.unwrap().unwrap(), moved);
    let resolved = tx!(s, move_alert(&moved, &resolve_move(), mins(2)))
        .unwrap()
        .unwrap();
    assert_eq!(resolved.ends_at, Some(mins(2)));
    assert_eq!(s.get_alert(&first.id).await.unwrap().unwrap(), resolved);
    assert!(s.active_alerts(None).await.unwrap().is_empty());
    let next = tx!(
        s,
        fire_alert(&new_alert("f1", "db", AlertKind::Health), mins(3))
    )
    .unwrap()
    .expect("a resolved fingerprint fires a new episode");
    assert_ne!(next.id, first.id);
    assert_eq!(
        s.active_alerts(None).await.unwrap(),
        std::slice::from_ref(&next)
    );
    assert_eq!(s.active_alerts(Some("db")).await.unwrap(), [next]);
    assert!(s.active_alerts(Some("api")).await.unwrap().is_empty());
}

async fn alerts_are_listed_by_state_system_objective_and_kind(s: Store) {
    tx!(s, create_system(system("db", &[]), now())).unwrap();
    tx!(s, create_system(system("api", &["db"]), now())).unwrap();
    let db = tx!(
        s,
        fire_alert(&new_alert("a", "db", AlertKind::Health), mins(1))
    )
    .unwrap()
    .unwrap();
    let mut objective_alert = new_alert("b", "api", AlertKind::BurnRate);
    objective_alert.subject = AlertSubject {
        subject_type: SubjectType::Objective,
        id: "o1".into(),
    };
    objective_alert.objective_id = Some("o1".into());
    let api = tx!(s, fire_alert(&objective_alert, mins(2)))
        .unwrap()
        .unwrap();
    let api = tx!(s, move_alert(&api, &resolve_move(), mins(3)))
        .unwrap()
        .unwrap();

    let list = |filter: AlertFilter| {
        let s = s.clone();
        async move {
            s.list_alerts(&filter, 100, None)
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|a| a.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(AlertFilter::default()).await,
        [api.id.clone(), db.id.clone()]
    );
    let firing = AlertFilter {
        state: Some(AlertState::Firing),
        ..AlertFilter::default()
    };
    assert_eq!(list(firing).await, std::slice::from_ref(&db.id));
    let of_api = AlertFilter {
        system_id: Some("api".into()),
        ..AlertFilter::default()
    };
    assert_eq!(list(of_api).await, std::slice::from_ref(&api.id));
    let of_objective = AlertFilter {
        objective_id: Some("o1".into()),
        ..AlertFilter::default()
    };
    assert_eq!(list(of_objective).await, std::slice::from_ref(&api.id));
    let health = AlertFilter {
        kind: Some(AlertKind::Health),
        ..AlertFilter::default()
    };
    assert_eq!(list(health).await, std::slice::from_ref(&db.id));

    let first = s
        .list_alerts(&AlertFilter::default(), 1, None)
        .await
        .unwrap();
    assert_eq!(first.items[0].id, api.id);
    let second = s
        .list_alerts(&AlertFilter::default(), 1, first.next_cursor.as_deref())
        .await
        .unwrap();
    assert_eq!(second.items[0].id, db.id);
    assert_eq!(second.next_cursor, None);

    tx!(s, delete_system("api")).unwrap();
    assert_eq!(
        s.get_alert(&api.id).await.unwrap().unwrap().system_ids,
        ["api"],
        "a resolved alert keeps naming the system it was about"
    );
}

async fn silences_name_what_exists_and_end_once(s: Store) {
    tx!(s, create_system(system("db", &[]), now())).unwrap();
    let silence = |systems: &[&str], objectives: &[&str]| NewSilence {
        system_ids: systems.iter().map(|s| s.to_string()).collect(),
        objective_ids: objectives.iter().map(|s| s.to_string()).collect(),
        kinds: vec![AlertKind::Health, AlertKind::Health],
        until: mins(60),
        reason: "upgrade".into(),
        created_by: "ops".into(),
    };
    assert!(matches!(
        tx!(s, create_silence(&silence(&["nope"], &[]), now())),
        Err(StoreError::Invalid { field, .. }) if field == "systemIds"
    ));
    assert!(matches!(
        tx!(s, create_silence(&silence(&["db"], &["0e0d3f0c-8b8b-4a4a-9c9c-123456789abc"]), now())),
        Err(StoreError::Invalid { field, .. }) if field == "objectiveIds"
    ));
    assert!(s.list_silences(100, None).await.unwrap().items.is_empty());

    let created = tx!(s, create_silence(&silence(&["db"], &[]), now())).unwrap();
    assert_eq!(created.kinds, [AlertKind::Health]);
    assert!(created.matches(&["db".into()], None, AlertKind::Health));
    assert!(!created.matches(&["db".into()], None, AlertKind::BurnRate));
    assert!(!created.matches(&["api".into()], None, AlertKind::Health));
    let read = s.get_silence(&created.id).await.unwrap().unwrap();
    assert_eq!(read.clone().at(now()), created);
    assert_eq!(
        read.status,
        SilenceStatus::Expired,
        "a read's status is as of the read"
    );
    let active = s.active_silences(mins(59)).await.unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].clone().at(now()), created);
    assert!(s.active_silences(mins(60)).await.unwrap().is_empty());

    let ended = tx!(s, end_silence(&created.id, mins(10))).unwrap().unwrap();
    assert_eq!(ended.ended_at, Some(mins(10)));
    assert_eq!(ended.status, SilenceStatus::Ended);
    let again = tx!(s, end_silence(&created.id, mins(20))).unwrap().unwrap();
    assert_eq!(
        again.ended_at,
        Some(mins(10)),
        "ending twice keeps the first time"
    );
    assert!(s.active_silences(mins(11)).await.unwrap().is_empty());
    assert!(tx!(s, end_silence("nope", mins(20))).unwrap().is_none());
}

async fn resolved_alerts_and_finished_silences_are_pruned(s: Store) {
    tx!(s, create_system(system("db", &[]), now())).unwrap();
    let old = tx!(
        s,
        fire_alert(&new_alert("a", "db", AlertKind::Health), mins(1))
    )
    .unwrap()
    .unwrap();
    tx!(s, move_alert(&old, &resolve_move(), mins(2)))
        .unwrap()
        .unwrap();
    let active = tx!(
        s,
        fire_alert(&new_alert("b", "db", AlertKind::Incident), mins(1))
    )
    .unwrap()
    .unwrap();
    let pruned = tx!(s, prune_alerts(mins(10))).unwrap();
    assert_eq!(pruned, 1);
    assert!(s.get_alert(&old.id).await.unwrap().is_none());
    assert_eq!(s.active_alerts(None).await.unwrap(), [active]);
}
