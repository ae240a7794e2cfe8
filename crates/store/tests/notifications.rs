//! Channels, policies and the delivery outbox, on both backends: a transition is queued once
//! per channel, concurrent workers never claim the same row, and a lapsed claim records
//! nothing.

use std::collections::HashSet;

use slod_store::*;

use crate::support::*;

conformance!(
    a_policy_names_channels_and_systems_that_exist,
    a_channel_in_use_is_not_deleted_and_its_secret_is_write_only,
    a_transition_is_queued_once_per_key,
    concurrent_workers_claim_each_delivery_once,
    a_lapsed_claim_records_nothing_and_the_row_goes_out_again,
    an_alerts_transitions_go_to_a_channel_in_order,
    busy_channels_wait_reminders_need_a_firing_alert_and_active_alerts_keep_their_history,
    failures_back_off_then_die_and_old_deliveries_are_pruned,
);

fn webhook(name: &str) -> NewChannel {
    NewChannel {
        name: name.into(),
        kind: ChannelKind::Webhook,
        url: "http://127.0.0.1:9/hook".into(),
        secret: Some("s3cret".into()),
        email_to: vec![],
        email_from: None,
    }
}

fn policy(channels: &[&str], systems: &[&str]) -> NewPolicy {
    NewPolicy {
        name: "ops".into(),
        channel_ids: channels.iter().map(|c| c.to_string()).collect(),
        system_ids: systems.iter().map(|s| s.to_string()).collect(),
        include_downstream: false,
        kinds: vec![],
        min_severity: AlertSeverity::Ticket,
        repeat_interval_seconds: None,
    }
}

fn delivery(alert: &str, channel: &str, key: &str) -> NewDelivery {
    NewDelivery {
        alert_id: alert.into(),
        channel_id: channel.into(),
        event: NotifyEvent::Firing,
        idempotency_key: key.into(),
        notice: "{}".into(),
    }
}

async fn a_policy_names_channels_and_systems_that_exist(s: Store) {
    tx!(s, create_system(system("db", &[]), now())).unwrap();
    let channel = tx!(s, create_channel(&webhook("hook"), now())).unwrap();
    match tx!(s, create_policy(&policy(&["nope"], &[]), now())) {
        Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "channelIds"),
        other => panic!("{other:?}"),
    }
    match tx!(s, create_policy(&policy(&[&channel.id], &["ghost"]), now())) {
        Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "systemIds"),
        other => panic!("{other:?}"),
    }
    assert!(s.all_policies().await.unwrap().is_empty(), "nothing stored");
    let p = tx!(
        s,
        create_policy(&policy(&[&channel.id, &channel.id], &["db"]), now())
    )
    .unwrap();
    assert_eq!(
        p.channel_ids,
        std::slice::from_ref(&channel.id),
        "deduplicated"
    );
    assert_eq!(s.get_policy(&p.id).await.unwrap(), Some(p.clone()));
    let mut changed = policy(&[&channel.id], &[]);
    changed.repeat_interval_seconds = Some(600);
    let replaced = tx!(s, replace_policy(&p.id, &changed, mins(1)))
        .unwrap()
        .unwrap();
    assert_eq!(
        (replaced.repeat_interval_seconds, replaced.created_at),
        (Some(600), p.created_at)
    );
    assert_eq!(s.get_policy(&p.id).await.unwrap(), Some(replaced));
    assert!(tx!(s, delete_policy(&p.id)).unwrap());
    assert!(!tx!(s, delete_policy(&p.id)).unwrap());
}

async fn a_channel_in_use_is_not_deleted_and_its_secret_is_write_only(s: Store) {
    let channel = tx!(s, create_channel(&webhook("hook"), now())).unwrap();
    assert!(channel.has_secret);
    let p = tx!(s, create_policy(&policy(&[&channel.id], &[]), now())).unwrap();
    assert!(matches!(
        tx!(s, delete_channel(&channel.id)),
        Err(StoreError::Conflict(_))
    ));
    // A replace without a secret keeps it; an empty one clears it.
    let mut next = webhook("renamed");
    next.secret = None;
    let kept = tx!(s, replace_channel(&channel.id, &next, mins(1)))
        .unwrap()
        .unwrap();
    assert_eq!(
        (kept.name.as_str(), kept.secret.as_deref()),
        ("renamed", Some("s3cret"))
    );
    next.secret = Some(String::new());
    let cleared = tx!(s, replace_channel(&channel.id, &next, mins(2)))
        .unwrap()
        .unwrap();
    assert!(!cleared.has_secret && cleared.secret.is_none());
    assert!(tx!(s, delete_policy(&p.id)).unwrap());
    assert!(tx!(s, delete_channel(&channel.id)).unwrap());
    assert!(s.get_channel(&channel.id).await.unwrap().is_none());
}

async fn a_transition_is_queued_once_per_key(s: Store) {
    let c = tx!(s, create_channel(&webhook("hook"), now())).unwrap();
    let first = tx!(s, enqueue_delivery(&delivery("a1", &c.id, "a1:1:c"), now())).unwrap();
    assert!(first.is_some());
    let again = tx!(s, enqueue_delivery(&delivery("a1", &c.id, "a1:1:c"), now())).unwrap();
    assert!(again.is_none(), "the same key is queued once");
    let mut tx = s.begin().await.unwrap();
    let heard = tx
        .channels_that_heard("a1", &[c.id.clone(), "other".into()])
        .await
        .unwrap();
    assert_eq!(heard, std::slice::from_ref(&c.id));
    assert!(tx
        .channels_that_heard("a2", std::slice::from_ref(&c.id))
        .await
        .unwrap()
        .is_empty());
}

async fn concurrent_workers_claim_each_delivery_once(s: Store) {
    let c = tx!(s, create_channel(&webhook("hook"), now())).unwrap();
    for i in 0..40 {
        tx!(
            s,
            enqueue_delivery(&delivery(&format!("a{i}"), &c.id, &format!("k{i}")), now())
        )
        .unwrap();
    }
    let workers = (0..4).map(|w| {
        let s = s.clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let mut tx = s.begin().await.unwrap();
                let claimed = tx
                    .claim_deliveries(mins(1), mins(2), &format!("w{w}"), 3, &[])
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                mine.extend(claimed.into_iter().map(|c| c.delivery.id));
            }
        })
    });
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(
        (all.len(), unique.len()),
        (40, 40),
        "every row claimed exactly once"
    );
}

async fn a_lapsed_claim_records_nothing_and_the_row_goes_out_again(s: Store) {
    let c = tx!(s, create_channel(&webhook("hook"), now())).unwrap();
    tx!(s, enqueue_delivery(&delivery("a1", &c.id, "k"), now())).unwrap();
    let first = tx!(s, claim_deliveries(now(), mins(1), "one", 10, &[])).unwrap();
    assert_eq!(first.len(), 1);
    assert!(
        tx!(s, claim_deliveries(now(), mins(1), "two", 10, &[]))
            .unwrap()
            .is_empty(),
        "a live claim keeps the row"
    );
    // The first worker's lease lapses; another takes the row.
    let second = tx!(s, claim_deliveries(mins(1), mins(2), "two", 10, &[])).unwrap();
    assert_eq!(second.len(), 1);
    let id = second[0].delivery.id.clone();
    let ok = Attempt::Delivered {
        status_code: Some(200),
    };
    assert!(tx!(s, record_attempt(&id, "one", &ok, mins(1)))
        .unwrap()
        .is_none());
    let done = tx!(s, record_attempt(&id, "two", &ok, mins(1)))
        .unwrap()
        .unwrap();
    assert_eq!(
        (done.status, done.attempts, done.delivered_at),
        (DeliveryStatus::Delivered, 1, Some(mins(1)))
    );
    assert_eq!(second[0].delivery.idempotency_key, "k");
}

async fn failures_back_off_then_die_and_old_deliveries_are_pruned(s: Store) {
    let c = tx!(s, create_channel(&webhook("hook"), now())).unwrap();
    tx!(s, enqueue_delivery(&delivery("a1", &c.id, "k"), now())).unwrap();
    let claimed = tx!(s, claim_deliveries(now(), mins(1), "w", 10, &[])).unwrap();
    let id = claimed[0].delivery.id.clone();
    let retry = Attempt::Failed {
        status_code: Some(503),
        error: "503 Service Unavailable".into(),
        retry_at: Some(mins(5)),
    };
    let d = tx!(s, record_attempt(&id, "w", &retry, now()))
        .unwrap()
        .unwrap();
    assert_eq!(
        (d.status, d.attempts, d.next_attempt_at),
        (DeliveryStatus::Pending, 1, Some(mins(5)))
    );
    assert!(
        tx!(s, claim_deliveries(mins(4), mins(6), "w", 10, &[]))
            .unwrap()
            .is_empty(),
        "not due before its next attempt"
    );
    assert_eq!(
        tx!(s, claim_deliveries(mins(5), mins(6), "w", 10, &[]))
            .unwrap()
            .len(),
        1
    );
    let dead = Attempt::Failed {
        status_code: Some(404),
        error: "404 Not Found".into(),
        retry_at: None,
    };
    let d = tx!(s, record_attempt(&id, "w", &dead, mins(5)))
        .unwrap()
        .unwrap();
    assert_eq!(
        (d.status, d.attempts, d.next_attempt_at, d.last_status_code),
        (DeliveryStatus::Dead, 2, None, Some(404))
    );
    let filter = DeliveryFilter {
        status: Some(DeliveryStatus::Dead),
        ..Default::default()
    };
    assert_eq!(
        s.list_deliveries(&filter, 10, None).await.unwrap().items,
        [d]
    );
    assert_eq!(tx!(s, prune_deliveries(mins(1))).unwrap(), 1);
    assert!(s
        .list_deliveries(&DeliveryFilter::default(), 10, None)
        .await
        .unwrap()
        .items
        .is_empty());
}

async fn an_alerts_transitions_go_to_a_channel_in_order(s: Store) {
    let c = tx!(s, create_channel(&webhook("hook"), now())).unwrap();
    let other = tx!(s, create_channel(&webhook("other"), now())).unwrap();
    tx!(s, enqueue_delivery(&delivery("a1", &c.id, "fire"), now())).unwrap();
    tx!(
        s,
        enqueue_delivery(&delivery("a1", &other.id, "fire-other"), now())
    )
    .unwrap();
    tx!(
        s,
        enqueue_delivery(&delivery("a1", &c.id, "resolve"), mins(1))
    )
    .unwrap();
    let keys = |claimed: Vec<Claimed>| -> Vec<String> {
        let mut keys: Vec<String> = claimed
            .into_iter()
            .map(|c| c.delivery.idempotency_key)
            .collect();
        keys.sort();
        keys
    };
    // The resolution waits while its firing is pending, claimed or backing off.
    let first = tx!(s, claim_deliveries(mins(2), mins(3), "w", 10, &[])).unwrap();
    let firing_id = first
        .iter()
        .find(|c| c.delivery.idempotency_key == "fire")
        .unwrap()
        .delivery
        .id
        .clone();
    assert_eq!(keys(first), ["fire", "fire-other"]);
    let retry = Attempt::Failed {
        status_code: Some(503),
        error: "503".into(),
        retry_at: Some(mins(4)),
    };
    tx!(s, record_attempt(&firing_id, "w", &retry, mins(2))).unwrap();
    // (The other channel's firing, whose lease lapsed, goes again: it has nothing before it.)
    assert_eq!(
        keys(tx!(s, claim_deliveries(mins(3), mins(5), "w", 10, &[])).unwrap()),
        ["fire-other"]
    );
    // Once the firing is delivered, the resolution goes.
    assert_eq!(
        keys(tx!(s, claim_deliveries(mins(4), mins(5), "w", 10, &[])).unwrap()),
        ["fire"]
    );
    let ok = Attempt::Delivered {
        status_code: Some(200),
    };
    tx!(s, record_attempt(&firing_id, "w", &ok, mins(4))).unwrap();
    assert_eq!(
        keys(tx!(s, claim_deliveries(mins(4), mins(5), "w", 10, &[])).unwrap()),
        ["resolve"]
    );
}

async fn busy_channels_wait_reminders_need_a_firing_alert_and_active_alerts_keep_their_history(
    s: Store,
) {
    tx!(s, create_system(system("db", &[]), now())).unwrap();
    let c = tx!(s, create_channel(&webhook("hook"), now())).unwrap();
    let alert = NewAlert {
        id: uuid::Uuid::new_v4().to_string(),
        fingerprint: "f".into(),
        subject: AlertSubject {
            subject_type: SubjectType::System,
            id: "db".into(),
        },
        system_ids: vec!["db".into()],
        objective_id: None,
        kind: AlertKind::Health,
        severity: AlertSeverity::Ticket,
        state: AlertState::Firing,
        inhibited_by: None,
        silenced_by: None,
        summary: "db is down".into(),
    };
    let fired = tx!(s, fire_alert(&alert, now())).unwrap().unwrap();
    tx!(
        s,
        enqueue_delivery(&delivery(&fired.id, &c.id, "fire"), now())
    )
    .unwrap();
    // A channel at its in-flight limit is skipped.
    assert!(tx!(
        s,
        claim_deliveries(now(), mins(1), "w", 10, std::slice::from_ref(&c.id))
    )
    .unwrap()
    .is_empty());
    // A claimed row handed back is claimable at once.
    let held = tx!(s, claim_deliveries(now(), mins(1), "h", 10, &[])).unwrap();
    let ids = vec![held[0].delivery.id.clone()];
    assert_eq!(tx!(s, release_claims("other", &ids)).unwrap(), 0);
    assert_eq!(tx!(s, release_claims("h", &ids)).unwrap(), 1);
    let claimed = tx!(s, claim_deliveries(now(), mins(1), "w", 10, &[])).unwrap();
    let ok = Attempt::Delivered {
        status_code: Some(200),
    };
    tx!(s, record_attempt(&claimed[0].delivery.id, "w", &ok, now())).unwrap();
    // A reminder goes only while the alert fires at the revision it was computed from.
    let mut reminder = delivery(&fired.id, &c.id, "again");
    reminder.event = NotifyEvent::Repeat;
    assert!(
        tx!(s, enqueue_reminder(&reminder, fired.revision + 1, mins(1)))
            .unwrap()
            .is_none()
    );
    assert!(tx!(s, enqueue_reminder(&reminder, fired.revision, mins(1)))
        .unwrap()
        .is_some());
    // The delivered firing of an active alert outlives the retention: it names who hears the
    // resolution.
    assert_eq!(tx!(s, prune_deliveries(mins(60))).unwrap(), 0);
    let resolve = AlertMove {
        state: AlertState::Resolved,
        inhibited_by: None,
        silenced_by: None,
        condition_false_since: Some(mins(2)),
    };
    tx!(s, move_alert(&fired, &resolve, mins(2)))
        .unwrap()
        .unwrap();
    assert_eq!(s.alerts_ended_since(mins(2)).await.unwrap().len(), 1);
    assert!(s.alerts_ended_since(mins(3)).await.unwrap().is_empty());
    assert_eq!(
        tx!(s, prune_deliveries(mins(60))).unwrap(),
        1,
        "the delivered firing"
    );
}
