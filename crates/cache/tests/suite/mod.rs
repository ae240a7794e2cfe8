//! The guarantees of `cache.md` (G1-G12) as backend-independent tests. Each backend's test file
//! instantiates every function here with `guarantee_suite!`, so in-process and remote providers
//! are held to the same contract.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::{join_all, BoxFuture, FutureExt};
use slod_cache::{CacheError, CacheManager, CachedScope};
use tokio::sync::oneshot;

use crate::support::{Counter, TestError};

pub const TTL: Duration = Duration::from_secs(30);

/// Where the cache lives. `replica()` returns a manager as another process would have it: its
/// own single-flight table and breaker over the same storage when the backend is shared
/// (Redis), or the one in-process manager when it is not.
pub trait Backend: Send + Sync {
    fn replica(&self) -> CacheManager;
}

/// Instantiates every guarantee test for one backend. `$make` is an async expression yielding
/// `Option<impl Backend>`; `None` means the backend is not available and the test was skipped.
#[macro_export]
macro_rules! guarantee_suite {
    ($make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let Some(backend) = $make.await else { return };
                $crate::suite::$name(&backend).await;
            }
        )*
    };
}

fn scope(manager: &CacheManager) -> CachedScope {
    manager.scope("suite", TTL).unwrap()
}

/// A loader that counts its calls and returns `value`.
pub fn loader<T: Send + 'static>(
    calls: &Counter,
    value: T,
) -> impl FnOnce() -> BoxFuture<'static, Result<T, TestError>> + Send + 'static {
    let calls = calls.clone();
    move || {
        calls.bump();
        async move { Ok(value) }.boxed()
    }
}

/// A loader that signals when it starts and returns `value` only when its gate is opened.
pub struct Gate {
    pub started: oneshot::Receiver<()>,
    pub open: oneshot::Sender<()>,
}

pub fn gated<T: Send + 'static>(
    calls: &Counter,
    value: Result<T, TestError>,
) -> (
    impl FnOnce() -> BoxFuture<'static, Result<T, TestError>> + Send + 'static,
    Gate,
) {
    let (started_tx, started) = oneshot::channel();
    let (open, open_rx) = oneshot::channel::<()>();
    let calls = calls.clone();
    let load = move || {
        calls.bump();
        async move {
            let _ = started_tx.send(());
            let _ = open_rx.await;
            value
        }
        .boxed()
    };
    (load, Gate { started, open })
}

async fn read(scope: &CachedScope, key: &str, calls: &Counter, fallback: &str) -> String {
    scope
        .wrap(key, loader(calls, fallback.to_owned()))
        .await
        .unwrap()
}

pub async fn g1_hit_returns_cached_value_without_loading(b: &dyn Backend) {
    let scope = scope(&b.replica());
    let calls = Counter::default();
    assert_eq!(read(&scope, "k", &calls, "first").await, "first");
    assert_eq!(read(&scope, "k", &calls, "second").await, "first");
    assert_eq!(calls.get(), 1);
    // Another replica sees the same entry when the storage is shared.
    let other = scope_of(b);
    let _ = read(&other, "k", &calls, "other").await;
}

fn scope_of(b: &dyn Backend) -> CachedScope {
    scope(&b.replica())
}

pub async fn g1_cached_none_is_a_hit(b: &dyn Backend) {
    let scope = scope(&b.replica());
    let calls = Counter::default();
    let first: Option<u32> = scope.wrap("absent", loader(&calls, None)).await.unwrap();
    let second: Option<u32> = scope.wrap("absent", loader(&calls, Some(1))).await.unwrap();
    assert_eq!((first, second, calls.get()), (None, None, 1));
}

pub async fn g2_thousand_concurrent_misses_run_one_loader(b: &dyn Backend) {
    let scope = scope(&b.replica());
    let calls = Counter::default();
    let tasks = (0..1000).map(|i| {
        let scope = scope.clone();
        let calls = calls.clone();
        tokio::spawn(async move {
            scope
                .wrap("hot", move || {
                    calls.bump();
                    async move {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        Ok::<_, TestError>(format!("loaded-by-{i}"))
                    }
                })
                .await
        })
    });
    let results: Vec<String> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    assert_eq!(
        calls.get(),
        1,
        "exactly one loader call for 1,000 concurrent misses"
    );
    assert!(
        results.iter().all(|r| r == &results[0]),
        "every waiter got the one result"
    );
}

pub async fn g2_loader_error_reaches_every_waiter_and_is_not_cached(b: &dyn Backend) {
    let scope = scope(&b.replica());
    let calls = Counter::default();
    let (load, gate) = gated::<String>(&calls, Err(TestError::Loader("boom".into())));
    let first = tokio::spawn({
        let scope = scope.clone();
        async move { scope.wrap("err", load).await }
    });
    gate.started.await.unwrap();
    let waiters: Vec<_> = (0..50)
        .map(|_| {
            let scope = scope.clone();
            let calls = calls.clone();
            tokio::spawn(async move { scope.wrap("err", loader(&calls, "never".to_owned())).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    gate.open.send(()).unwrap();
    assert_eq!(first.await.unwrap(), Err(TestError::Loader("boom".into())));
    for waiter in join_all(waiters).await {
        assert_eq!(waiter.unwrap(), Err(TestError::Loader("boom".into())));
    }
    assert_eq!(calls.get(), 1, "waiters joined the failing load");
    assert_eq!(
        read(&scope, "err", &calls, "recovered").await,
        "recovered",
        "errors are not cached"
    );
    assert_eq!(calls.get(), 2);
}

/// Load A in flight, invalidate, load B starts, A finishes: A's value is never readable, B is
/// not duplicated, and A's end does not release B's slot.
async fn invalidation_during_load(b: &dyn Backend, key: &str, invalidate_family: Option<&str>) {
    let scope = scope(&b.replica());
    let replica = scope_of(b);
    let calls = Counter::default();

    let (load_a, gate_a) = gated(&calls, Ok("old".to_owned()));
    let a = tokio::spawn({
        let scope = scope.clone();
        let key = key.to_owned();
        async move { scope.wrap(&key, load_a).await }
    });
    gate_a.started.await.unwrap();

    match invalidate_family {
        Some(family) => replica.invalidate_prefix(family).await.unwrap(),
        None => replica.invalidate(key).await.unwrap(),
    }

    let (load_b, gate_b) = gated(&calls, Ok("new".to_owned()));
    let b_task = tokio::spawn({
        let scope = scope.clone();
        let key = key.to_owned();
        async move { scope.wrap(&key, load_b).await }
    });
    tokio::time::timeout(Duration::from_secs(5), gate_b.started)
        .await
        .expect("a read after the invalidation must not join the older load")
        .unwrap();
    assert_eq!(calls.get(), 2);

    gate_a.open.send(()).unwrap();
    assert_eq!(
        a.await.unwrap().unwrap(),
        "old",
        "A's own caller started before the invalidation"
    );
    // Let A's write-back be attempted.
    tokio::time::sleep(Duration::from_millis(50)).await;

    let late = Counter::default();
    let joined = tokio::spawn({
        let scope = scope.clone();
        let late = late.clone();
        let key = key.to_owned();
        async move { read(&scope, &key, &late, "duplicate").await }
    });
    // The reader above must have joined B before the replica can store a value of the same
    // generation (which that reader could then hit instead of joining).
    tokio::time::sleep(Duration::from_millis(100)).await;
    // On a shared-storage backend the replica misses and loads; in one process it joins B.
    let from_replica = tokio::spawn({
        let replica = replica.clone();
        let key = key.to_owned();
        async move { read(&replica, &key, &Counter::default(), "replica-load").await }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;

    gate_b.open.send(()).unwrap();
    assert_ne!(
        from_replica.await.unwrap(),
        "old",
        "A's stale value must never be readable"
    );
    assert_eq!(b_task.await.unwrap().unwrap(), "new");
    assert_eq!(joined.await.unwrap(), "new", "a reader during B joins B");
    assert_eq!(late.get(), 0, "A finishing did not release B's slot");
    assert_eq!(
        read(&scope, key, &late, "after").await,
        "new",
        "B's value was stored"
    );
    assert_eq!(read(&replica, key, &late, "after").await, "new");
    assert_eq!(late.get(), 0);
}

pub async fn g3_invalidate_during_load_refuses_the_stale_write(b: &dyn Backend) {
    invalidation_during_load(b, "objective:1", None).await;
}

pub async fn g3_invalidate_prefix_during_load_guards_a_never_invalidated_key(b: &dyn Backend) {
    invalidation_during_load(b, "list:all", Some("list:")).await;
}

pub async fn g3_invalidated_value_is_not_served(b: &dyn Backend) {
    let scope = scope(&b.replica());
    let replica = scope_of(b);
    let calls = Counter::default();
    assert_eq!(read(&scope, "system:1:health", &calls, "v1").await, "v1");
    assert_eq!(read(&scope, "list:page", &calls, "v1").await, "v1");
    replica.invalidate("system:1:health").await.unwrap();
    replica.invalidate_prefix("list:").await.unwrap();
    assert_eq!(read(&scope, "system:1:health", &calls, "v2").await, "v2");
    assert_eq!(read(&scope, "list:page", &calls, "v2").await, "v2");
    // A family invalidation reaches nested families and leaves others alone.
    assert_eq!(read(&scope, "system:1:checks", &calls, "c1").await, "c1");
    assert_eq!(read(&scope, "system:2:checks", &calls, "c1").await, "c1");
    replica.invalidate_prefix("system:1:").await.unwrap();
    assert_eq!(read(&scope, "system:1:checks", &calls, "c2").await, "c2");
    assert_eq!(read(&scope, "system:2:checks", &calls, "c2").await, "c1");
}

/// The fastest of `runs` timings of `a` and of `b`, measured alternately so that whatever else
/// the machine is doing weighs on both alike.
async fn fastest_pair<A, AF, B, BF>(runs: usize, mut a: A, mut b: B) -> (Duration, Duration)
where
    A: FnMut() -> AF,
    AF: std::future::Future<Output = ()>,
    B: FnMut() -> BF,
    BF: std::future::Future<Output = ()>,
{
    let (mut best_a, mut best_b) = (Duration::MAX, Duration::MAX);
    for _ in 0..runs {
        let start = Instant::now();
        a().await;
        best_a = best_a.min(start.elapsed());
        let start = Instant::now();
        b().await;
        best_b = best_b.min(start.elapsed());
    }
    (best_a, best_b)
}

async fn fill(scope: &CachedScope, family: &str, n: u32) {
    let ids: Vec<u32> = (0..n).collect();
    for chunk in ids.chunks(5_000) {
        let family = family.to_owned();
        let _: Vec<u32> = scope
            .wrap_many(
                chunk,
                move |id| format!("{family}{id}"),
                |ids: Vec<u32>| async move {
                    Ok::<_, TestError>(ids.into_iter().map(|id| (id, id)).collect())
                },
            )
            .await
            .unwrap();
    }
}

pub async fn g4_prefix_invalidation_cost_does_not_grow_with_keys(b: &dyn Backend) {
    let scope = scope(&b.replica());
    fill(&scope, "big:", 100_000).await;
    fill(&scope, "small:", 10).await;
    let (big, small) = fastest_pair(
        100,
        || async { scope.invalidate_prefix("big:").await.unwrap() },
        || async { scope.invalidate_prefix("small:").await.unwrap() },
    )
    .await;
    let ratio = big.as_secs_f64() / small.as_secs_f64().max(1e-9);
    assert!(
        ratio < 2.0,
        "100,000 keys: {big:?}, 10 keys: {small:?}, ratio {ratio:.2}"
    );
    // And every key of the family is really gone.
    let calls = Counter::default();
    let sample: Vec<u32> = (0..100_000).step_by(97).collect();
    let reloaded: Vec<u32> = scope
        .wrap_many(&sample, |id| format!("big:{id}"), {
            let calls = calls.clone();
            move |ids: Vec<u32>| async move {
                calls.bump();
                Ok::<_, TestError>(ids.into_iter().map(|id| (id, id + 1)).collect())
            }
        })
        .await
        .unwrap();
    assert!(reloaded.iter().zip(&sample).all(|(r, s)| *r == s + 1));
    assert_eq!(calls.get(), 1);
}

fn item_loader(
    batches: &Arc<std::sync::Mutex<Vec<Vec<u32>>>>,
) -> impl FnOnce(Vec<u32>) -> BoxFuture<'static, Result<HashMap<u32, String>, TestError>> + Send + 'static
{
    let batches = Arc::clone(batches);
    move |mut ids: Vec<u32>| {
        ids.sort_unstable();
        batches.lock().unwrap().push(ids.clone());
        async move {
            Ok(ids
                .into_iter()
                .map(|id| (id, format!("item-{id}")))
                .collect())
        }
        .boxed()
    }
}

pub async fn g5_wrap_many_loads_only_missing_ids_in_one_batch(b: &dyn Backend) {
    let scope = scope(&b.replica());
    let key_of = |id: &u32| format!("item:{id}");
    let batches = Arc::new(std::sync::Mutex::new(Vec::new()));
    let warm: Vec<String> = scope
        .wrap_many(&[1, 2], key_of, item_loader(&batches))
        .await
        .unwrap();
    assert_eq!(warm, ["item-1", "item-2"]);

    // Id 3 is being loaded by a single-key read.
    let calls = Counter::default();
    let (load3, gate3) = gated(&calls, Ok("item-3".to_owned()));
    let single = tokio::spawn({
        let scope = scope.clone();
        async move { scope.wrap("item:3", load3).await }
    });
    gate3.started.await.unwrap();

    let many = tokio::spawn({
        let scope = scope.clone();
        let loader = item_loader(&batches);
        async move {
            scope
                .wrap_many(&[5, 1, 3, 4, 5, 2, 6], key_of, loader)
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(30)).await;
    gate3.open.send(()).unwrap();
    let values = many.await.unwrap().unwrap();
    assert_eq!(
        values,
        ["item-5", "item-1", "item-3", "item-4", "item-5", "item-2", "item-6"]
    );
    assert_eq!(single.await.unwrap().unwrap(), "item-3");
    assert_eq!(
        *batches.lock().unwrap(),
        [vec![1, 2], vec![4, 5, 6]],
        "one batch, only the misses"
    );
    assert_eq!(calls.get(), 1, "id 3 joined the load in flight");

    // Each entity was stored under its own key.
    let single_reads = Counter::default();
    assert_eq!(read(&scope, "item:6", &single_reads, "x").await, "item-6");
    assert_eq!(single_reads.get(), 0);
    let empty: Vec<String> = scope
        .wrap_many(&[], key_of, item_loader(&batches))
        .await
        .unwrap();
    assert!(empty.is_empty());
    assert_eq!(
        batches.lock().unwrap().len(),
        2,
        "nothing to load, no batch call"
    );
}

pub async fn g5_short_batch_result_is_an_error(b: &dyn Backend) {
    let scope = scope(&b.replica());
    let result: Result<Vec<String>, TestError> = scope
        .wrap_many(
            &[10, 11, 12],
            |id: &u32| format!("short:{id}"),
            |_ids: Vec<u32>| async { Ok(HashMap::from([(10, "ten".to_owned())])) },
        )
        .await;
    assert_eq!(
        result,
        Err(TestError::Cache(CacheError::IncompleteBatch {
            missing: 2,
            requested: 3
        }))
    );
    // Nothing from the broken batch was cached.
    let calls = Counter::default();
    assert_eq!(
        read(&scope, "short:10", &calls, "reloaded").await,
        "reloaded"
    );
}

pub async fn g8_invalidated_keys_leave_no_bookkeeping(b: &dyn Backend) {
    let manager = b.replica();
    let scope = scope(&manager);
    let calls = Counter::default();
    for i in 0..100_000u32 {
        let key = format!("churn:{i}");
        let _ = read(&scope, &key, &calls, "v").await;
        scope.invalidate(&key).await.unwrap();
    }
    // Invalidations that land while loads are in flight, too.
    let mut gates = Vec::new();
    let mut tasks = Vec::new();
    for i in 0..100u32 {
        let (load, gate) = gated(&calls, Ok("v".to_owned()));
        let scope2 = scope.clone();
        tasks.push(tokio::spawn(async move {
            scope2.wrap(&format!("busy:{i}"), load).await
        }));
        gates.push(gate);
    }
    for (i, gate) in gates.iter_mut().enumerate() {
        (&mut gate.started).await.unwrap();
        scope.invalidate(&format!("busy:{i}")).await.unwrap();
    }
    for gate in gates {
        gate.open.send(()).unwrap();
    }
    for task in join_all(tasks).await {
        task.unwrap().unwrap();
    }
    // The write-backs (refused) finish just after the waiters are answered.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = manager.bookkeeping();
        if left.in_flight == 0 && left.provider == 0 && left.bypassed == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "bookkeeping left behind: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub async fn g9_scopes_are_isolated_and_names_validated(b: &dyn Backend) {
    let manager = b.replica();
    let a = manager.scope("tenant-a", TTL).unwrap();
    let bb = manager.scope("tenant-b", TTL).unwrap();
    let calls = Counter::default();
    assert_eq!(read(&a, "list:x", &calls, "a").await, "a");
    assert_eq!(read(&bb, "list:x", &calls, "b").await, "b");
    a.invalidate_prefix("list:").await.unwrap();
    assert_eq!(
        read(&bb, "list:x", &calls, "b2").await,
        "b",
        "another scope's family is untouched"
    );
    assert_eq!(read(&a, "list:x", &calls, "a2").await, "a2");

    for bad in ["", "Upper", "a:b", "-x"] {
        assert!(
            matches!(manager.scope(bad, TTL), Err(CacheError::InvalidScope(_))),
            "{bad:?}"
        );
    }
    let bad_key: Result<String, TestError> = a.wrap("", loader(&calls, "x".into())).await;
    assert!(matches!(
        bad_key,
        Err(TestError::Cache(CacheError::InvalidKey(_)))
    ));
    assert!(matches!(
        a.invalidate("has space").await,
        Err(CacheError::InvalidKey(_))
    ));
    assert!(matches!(
        a.invalidate_prefix("nocolon").await,
        Err(CacheError::InvalidFamily(_))
    ));
    let bad_many: Result<Vec<String>, TestError> = a
        .wrap_many(
            &[1u32],
            |_| "tail:".to_owned(),
            |_| async { Ok(HashMap::new()) },
        )
        .await;
    assert!(matches!(
        bad_many,
        Err(TestError::Cache(CacheError::InvalidKey(_)))
    ));
}

pub async fn g10_value_of_another_shape_is_a_miss(b: &dyn Backend) {
    let scope = scope(&b.replica());
    let calls = Counter::default();
    let _: u32 = scope.wrap("shape", loader(&calls, 7u32)).await.unwrap();
    // Same key read as another type (as after an upgrade changed the value's shape).
    let as_text: String = scope
        .wrap("shape", loader(&calls, "text".to_owned()))
        .await
        .unwrap();
    assert_eq!(as_text, "text");
    assert_eq!(calls.get(), 2);
}

pub async fn g10_callers_get_owned_copies(b: &dyn Backend) {
    let scope = scope(&b.replica());
    let calls = Counter::default();
    let mut first: Vec<u32> = scope
        .wrap("owned", loader(&calls, vec![1, 2, 3]))
        .await
        .unwrap();
    first.push(99);
    first[0] = 0;
    let second: Vec<u32> = scope.wrap("owned", loader(&calls, vec![])).await.unwrap();
    assert_eq!(second, [1, 2, 3]);
    assert_eq!(calls.get(), 1);
}

pub async fn g11_dropped_leader_neither_cancels_nor_hangs_the_load(b: &dyn Backend) {
    let scope = scope(&b.replica());
    let calls = Counter::default();
    let (load, gate) = gated(&calls, Ok("shared".to_owned()));
    let leader = tokio::spawn({
        let scope = scope.clone();
        async move { scope.wrap("leader", load).await }
    });
    gate.started.await.unwrap();
    let followers: Vec<_> = (0..10)
        .map(|_| {
            let scope = scope.clone();
            let calls = calls.clone();
            tokio::spawn(async move { read(&scope, "leader", &calls, "duplicate").await })
        })
        .collect();
    // A waiter with its own short timeout gives up; the load goes on.
    let impatient: Result<Result<String, TestError>, _> = tokio::time::timeout(
        Duration::from_millis(10),
        scope.wrap("leader", loader(&calls, "impatient".to_owned())),
    )
    .await;
    assert!(impatient.is_err());
    tokio::time::sleep(Duration::from_millis(20)).await;
    leader.abort();
    assert!(leader.await.unwrap_err().is_cancelled());
    gate.open.send(()).unwrap();
    for follower in join_all(followers).await {
        assert_eq!(follower.unwrap(), "shared");
    }
    assert_eq!(calls.get(), 1);
    // The abandoned load still completed and wrote back.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(read(&scope, "leader", &calls, "again").await, "shared");
    assert_eq!(calls.get(), 1);
}

pub async fn g11_panicking_loader_fails_waiters_without_hanging(b: &dyn Backend) {
    let scope = scope(&b.replica());
    let result: Result<String, TestError> = scope
        .wrap("panics", || async {
            if true {
                panic!("loader bug");
            }
            Ok("never".to_owned())
        })
        .await;
    assert_eq!(result, Err(TestError::Cache(CacheError::LoaderPanicked)));
    let calls = Counter::default();
    assert_eq!(
        read(&scope, "panics", &calls, "ok").await,
        "ok",
        "the slot was released"
    );
}
