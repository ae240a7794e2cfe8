//! `CachedScope`: read-through, single-flight, per-entity bulk reads and race-safe invalidation
//! for one namespace of keys.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::{join_all, FutureExt};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::breaker::Unavailable;
use crate::envelope;
use crate::flights::{ReleaseOnDrop, SharedLoad, Slot};
use crate::key::{validate_key, with_key_ref, Family, Key, KeyRef};
use crate::manager::Core;
use crate::provider::{Payload, PayloadFormat, Read, Token, WriteOutcome};
use crate::telemetry::ScopeMetrics;
use crate::CacheError;

/// What can be cached: owned, cloneable, serializable (for providers that store bytes).
pub trait CacheValue: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {}
impl<T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static> CacheValue for T {}

/// What a loader may fail with: shared with every waiter of the load (hence `Clone`), and able
/// to carry the cache's own errors (bad key, incomplete batch, panicked loader).
pub trait LoadError: From<CacheError> + Clone + Send + Sync + 'static {}
impl<E: From<CacheError> + Clone + Send + Sync + 'static> LoadError for E {}

/// A namespace of cache keys (`<scope>:<key>`) with a default TTL. Cheap to clone.
#[derive(Clone)]
pub struct CachedScope {
    inner: Arc<ScopeInner>,
}

struct ScopeInner {
    core: Arc<Core>,
    name: String,
    default_ttl: Duration,
    /// The longest TTL used in this scope, in ms: how long a failed invalidation is bypassed.
    longest_ttl_ms: AtomicU64,
    metrics: ScopeMetrics,
}

/// The outcome of looking a key up: a value, or a miss with the token (if any) to write back.
enum Lookup<T> {
    Hit(T),
    Miss(Option<Token>),
}

impl CachedScope {
    pub(crate) fn new(core: Arc<Core>, name: &str, default_ttl: Duration) -> Self {
        CachedScope {
            inner: Arc::new(ScopeInner {
                core,
                name: name.to_owned(),
                default_ttl,
                longest_ttl_ms: AtomicU64::new(default_ttl.as_millis() as u64),
                metrics: ScopeMetrics::new(name),
            }),
        }
    }

    /// The scope's name, the prefix of all its keys.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Reads `key` through the cache with the scope's default TTL. See [`wrap_with_ttl`].
    ///
    /// [`wrap_with_ttl`]: CachedScope::wrap_with_ttl
    pub async fn wrap<T, E, F, Fut>(&self, key: &str, loader: F) -> Result<T, E>
    where
        T: CacheValue,
        E: LoadError,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        self.wrap_with_ttl(key, self.inner.default_ttl, loader)
            .await
    }

    /// Returns the cached value of `key`, or runs `loader` once for all concurrent callers,
    /// stores its value for `ttl` (unless an invalidation happened meanwhile) and returns it.
    ///
    /// A cached `None` is a hit (G1). Provider errors and timeouts fall through to the loader
    /// (G6); loader errors reach every waiter and are never cached (G2). The load runs as its own
    /// task, so dropping this future cancels neither the load nor the other waiters (G11).
    pub async fn wrap_with_ttl<T, E, F, Fut>(
        &self,
        key: &str,
        ttl: Duration,
        loader: F,
    ) -> Result<T, E>
    where
        T: CacheValue,
        E: LoadError,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        validate_key(key)?;
        let name = &self.inner.name;
        // In-process providers answer without allocating or awaiting; others need a round trip.
        let lookup = match with_key_ref(name, key, |key| self.lookup_now(key)) {
            Some(lookup) => lookup,
            None => self.lookup(&Key::assemble(name, key)).await,
        };
        let token = match lookup {
            Lookup::Hit(value) => return Ok(value),
            Lookup::Miss(token) => token,
        };
        let key = Key::assemble(name, key);
        self.note_ttl(ttl);
        let load = {
            let mut slots = self.inner.core.flights.lock();
            match self.joinable::<T, E>(slots.get(key.as_str()), &key, token.as_ref()) {
                Some(load) => load,
                None => {
                    let id = self.inner.core.flights.next_id();
                    let token = token.map(Arc::new);
                    let load = self.start_load(key.clone(), id, token.clone(), ttl, loader);
                    let slot = Slot {
                        id,
                        token,
                        load: Box::new(load.clone()),
                    };
                    slots.insert(key.as_str().to_owned(), slot);
                    load
                }
            }
        };
        load.await
    }

    /// Reads many entities, each under its own key, in input order (G5).
    ///
    /// Hits come from the cache, keys already loading join those loads, duplicates are loaded
    /// once, and every remaining miss is loaded in ONE call of `loader`, which must return a value
    /// for every id it was given (an incomplete answer is [`CacheError::IncompleteBatch`]).
    pub async fn wrap_many<I, T, E, K, F, Fut>(
        &self,
        ids: &[I],
        key_of: K,
        loader: F,
    ) -> Result<Vec<T>, E>
    where
        I: Eq + Hash + Clone + Send + Sync + 'static,
        T: CacheValue,
        E: LoadError,
        K: Fn(&I) -> String,
        F: FnOnce(Vec<I>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<HashMap<I, T>, E>> + Send + 'static,
    {
        let mut position: HashMap<&I, usize> = HashMap::with_capacity(ids.len());
        let mut unique: Vec<&I> = Vec::with_capacity(ids.len());
        for id in ids {
            position.entry(id).or_insert_with(|| {
                unique.push(id);
                unique.len() - 1
            });
        }
        let keys = unique
            .iter()
            .map(|id| Key::new(&self.inner.name, &key_of(id)))
            .collect::<Result<Vec<_>, _>>()?;
        let lookups = self.lookup_many::<T>(&keys).await;
        let ttl = self.inner.default_ttl;

        let mut values: Vec<Option<T>> = vec![None; unique.len()];
        let mut pending: Vec<(usize, SharedLoad<T, E>)> = Vec::new();
        {
            let flights = &self.inner.core.flights;
            let mut slots = flights.lock();
            let mut batch: Vec<(usize, Option<Arc<Token>>)> = Vec::new();
            for (i, lookup) in lookups.into_iter().enumerate() {
                match lookup {
                    Lookup::Hit(value) => values[i] = Some(value),
                    Lookup::Miss(token) => {
                        let key = &keys[i];
                        match self.joinable::<T, E>(slots.get(key.as_str()), key, token.as_ref()) {
                            Some(load) => pending.push((i, load)),
                            None => batch.push((i, token.map(Arc::new))),
                        }
                    }
                }
            }
            if !batch.is_empty() {
                let members: Vec<BatchMember<I>> = batch
                    .into_iter()
                    .map(|(i, token)| BatchMember {
                        index: i,
                        id: unique[i].clone(),
                        key: keys[i].clone(),
                        slot_id: flights.next_id(),
                        token,
                    })
                    .collect();
                let batch_load = self.start_batch_load(&members, ttl, loader);
                for member in members {
                    let id = member.id;
                    let load = batch_load
                        .clone()
                        .map(move |result| result.map(|found| found[&id].clone()))
                        .boxed()
                        .shared();
                    let slot = Slot {
                        id: member.slot_id,
                        token: member.token,
                        load: Box::new(load.clone()),
                    };
                    slots.insert(member.key.as_str().to_owned(), slot);
                    pending.push((member.index, load));
                }
            }
        }
        let (indexes, loads): (Vec<usize>, Vec<_>) = pending.into_iter().unzip();
        for (i, result) in indexes.into_iter().zip(join_all(loads).await) {
            values[i] = Some(result?);
        }
        Ok(ids
            .iter()
            .map(|id| {
                values[position[id]]
                    .clone()
                    .expect("every unique id was resolved")
            })
            .collect())
    }

    /// Invalidates `key`: when this returns `Ok`, no read on any process sharing the provider
    /// returns a value loaded before the call, and no earlier load can write back (G3).
    ///
    /// On error the key is bypassed by this process for one TTL (G7).
    pub async fn invalidate(&self, key: &str) -> Result<(), CacheError> {
        let key = Key::new(&self.inner.name, key)?;
        let core = &self.inner.core;
        let outcome = core.call(core.provider.invalidate(&key)).await;
        core.flights.detach(&key);
        if let Some(near) = &core.near {
            near.forget(key.as_str());
        }
        self.after_invalidation(key.as_str(), outcome)
    }

    /// Invalidates every key of `family` (a prefix ending in `:`) in O(1) of the number of keys
    /// (G4), with the same guarantees as [`invalidate`](CachedScope::invalidate).
    pub async fn invalidate_prefix(&self, family: &str) -> Result<(), CacheError> {
        let family = Family::new(&self.inner.name, family)?;
        let core = &self.inner.core;
        let outcome = core.call(core.provider.invalidate_family(&family)).await;
        core.flights.detach_family(&family);
        self.after_invalidation(family.as_str(), outcome)
    }

    fn after_invalidation(
        &self,
        target: &str,
        outcome: Result<(), Unavailable>,
    ) -> Result<(), CacheError> {
        let Err(reason) = outcome else { return Ok(()) };
        self.count_unavailable(&reason);
        self.inner.metrics.invalidation_failures.increment(1);
        let ttl = Duration::from_millis(self.inner.longest_ttl_ms.load(Ordering::Relaxed));
        self.inner.core.bypass.add(target, ttl);
        Err(CacheError::InvalidationFailed(format!(
            "{target}: {reason}"
        )))
    }

    fn note_ttl(&self, ttl: Duration) {
        self.inner
            .longest_ttl_ms
            .fetch_max(ttl.as_millis() as u64, Ordering::Relaxed);
    }

    fn count_unavailable(&self, reason: &Unavailable) {
        let m = &self.inner.metrics;
        match reason {
            Unavailable::Failed(_) => m.provider_errors.increment(1),
            Unavailable::TimedOut => m.provider_timeouts.increment(1),
            Unavailable::BreakerOpen => m.breaker_skips.increment(1),
        }
    }

    /// Turns a provider read into a lookup, counting hits and misses.
    fn settle<T: CacheValue>(&self, key: KeyRef<'_>, read: Result<Read, Unavailable>) -> Lookup<T> {
        let m = &self.inner.metrics;
        match read {
            Ok(Read::Hit(payload) | Read::Versioned { payload, .. }) => {
                match decode::<T>(payload) {
                    Some(value) => {
                        m.hits.increment(1);
                        Lookup::Hit(value)
                    }
                    None => {
                        // Written by another build or as another type: drop it, load afresh, and do
                        // not write back under a token we do not have.
                        m.decode_failures.increment(1);
                        let core = Arc::clone(&self.inner.core);
                        let key = key.to_key();
                        tokio::spawn(
                            async move { core.call(core.provider.invalidate(&key)).await },
                        );
                        m.misses.increment(1);
                        Lookup::Miss(None)
                    }
                }
            }
            Ok(Read::Miss(token)) => {
                m.misses.increment(1);
                Lookup::Miss(Some(token))
            }
            Err(reason) => {
                self.count_unavailable(&reason);
                m.misses.increment(1);
                Lookup::Miss(None)
            }
        }
    }

    /// A lookup that needs no await: bypassed keys, and providers that answer in-process.
    fn lookup_now<T: CacheValue>(&self, key: KeyRef<'_>) -> Option<Lookup<T>> {
        let core = &self.inner.core;
        if core.bypass.covers(key) {
            self.inner.metrics.bypassed.increment(1);
            return Some(Lookup::Miss(None));
        }
        core.provider
            .read_now(key)
            .map(|read| self.settle(key, Ok(read)))
    }

    async fn lookup<T: CacheValue>(&self, key: &Key) -> Lookup<T> {
        if let Some(lookup) = self.lookup_now(key.as_ref()) {
            return lookup;
        }
        let core = &self.inner.core;
        if core.near.is_some() {
            let mut one = self.lookup_many(std::slice::from_ref(key)).await;
            return one.pop().expect("one key, one lookup");
        }
        let read = core.call(core.provider.read(key)).await;
        self.settle(key.as_ref(), read)
    }

    /// Serves the `remote` keys whose near copy is still the provider's current value: one
    /// round trip for their versions, no value moved or decoded. Resolved keys leave `remote`; a key whose copy
    /// is stale is read in full. When the provider cannot answer, the copies are not served:
    /// the keys are misses that load without writing back, as any read of an unreachable
    /// provider (G6).
    async fn lookup_near<T: CacheValue>(
        &self,
        near: &crate::near::Near,
        keys: &[Key],
        remote: &mut Vec<usize>,
        out: &mut [Option<Lookup<T>>],
    ) {
        let held: Vec<(usize, Arc<crate::near::NearEntry>)> = remote
            .iter()
            .filter_map(|&i| near.get(keys[i].as_str()).map(|entry| (i, entry)))
            .collect();
        if held.is_empty() {
            return;
        }
        let core = &self.inner.core;
        let asked: Vec<Key> = held.iter().map(|(i, _)| keys[*i].clone()).collect();
        let answer = core
            .call_batch(asked.len(), async {
                core.provider
                    .versions(&asked)
                    .await
                    .unwrap_or_else(|| Err(crate::ProviderError("no versions".into())))
            })
            .await;
        let m = &self.inner.metrics;
        match answer {
            Ok(current) if current.len() == held.len() => {
                for ((i, entry), version) in held.iter().zip(current) {
                    let value = (version == Some(entry.version))
                        .then(|| entry.value.downcast_ref::<T>())
                        .flatten();
                    match value {
                        Some(value) => {
                            m.hits.increment(1);
                            m.near_hits.increment(1);
                            out[*i] = Some(Lookup::Hit(value.clone()));
                        }
                        None => near.forget(keys[*i].as_str()),
                    }
                }
            }
            outcome => {
                if let Err(reason) = &outcome {
                    self.count_unavailable(reason);
                }
                for (i, _) in &held {
                    m.misses.increment(1);
                    out[*i] = Some(Lookup::Miss(None));
                }
            }
        }
        remote.retain(|&i| out[i].is_none());
    }

    async fn lookup_many<T: CacheValue>(&self, keys: &[Key]) -> Vec<Lookup<T>> {
        let core = &self.inner.core;
        let mut out: Vec<Option<Lookup<T>>> = Vec::with_capacity(keys.len());
        let mut remote: Vec<usize> = Vec::new();
        for key in keys {
            let now = self.lookup_now(key.as_ref());
            if now.is_none() {
                remote.push(out.len());
            }
            out.push(now);
        }
        if let Some(near) = &core.near {
            self.lookup_near(near, keys, &mut remote, &mut out).await;
        }
        if !remote.is_empty() {
            let batch: Vec<Key> = remote.iter().map(|&i| keys[i].clone()).collect();
            match core
                .call_batch(batch.len(), core.provider.read_many(&batch))
                .await
            {
                Ok(reads) if reads.len() == batch.len() => {
                    for (&i, read) in remote.iter().zip(reads) {
                        let near_copy = match (&core.near, &read) {
                            (
                                Some(near),
                                Read::Versioned {
                                    version, ttl_left, ..
                                },
                            ) => Some((near, *version, *ttl_left)),
                            _ => None,
                        };
                        let lookup = self.settle(keys[i].as_ref(), Ok(read));
                        if let (Some((near, version, ttl_left)), Lookup::Hit(value)) =
                            (near_copy, &lookup)
                        {
                            near.put(keys[i].as_str(), version, value, ttl_left);
                        }
                        out[i] = Some(lookup);
                    }
                }
                Ok(_) => {
                    let broken = || {
                        Unavailable::Failed(crate::ProviderError(
                            "read_many answered a wrong count".into(),
                        ))
                    };
                    for &i in &remote {
                        out[i] = Some(self.settle(keys[i].as_ref(), Err(broken())));
                    }
                }
                Err(reason) => {
                    self.count_unavailable(&reason);
                    for &i in &remote {
                        self.inner.metrics.misses.increment(1);
                        out[i] = Some(Lookup::Miss(None));
                    }
                }
            }
        }
        out.into_iter()
            .map(|l| l.expect("every key was looked up"))
            .collect()
    }

    /// The load in `slot`, if a reader holding `reader` may join it: same value type, and no
    /// invalidation of the key since the load began.
    fn joinable<T: CacheValue, E: LoadError>(
        &self,
        slot: Option<&Slot>,
        key: &Key,
        reader: Option<&Token>,
    ) -> Option<SharedLoad<T, E>> {
        let slot = slot?;
        let current = match (slot.token.as_deref(), reader) {
            (None, None) => true,
            (Some(flight), Some(reader)) => self
                .inner
                .core
                .provider
                .same_generation(key, flight, reader),
            _ => false,
        };
        let load = slot
            .load
            .downcast_ref::<SharedLoad<T, E>>()
            .filter(|_| current)?;
        self.inner.metrics.joins.increment(1);
        Some(load.clone())
    }

    /// Spawns the load of one key. Must be called with the flight table locked, so the slot is
    /// inserted before the load can finish and release it.
    fn start_load<T, E, F, Fut>(
        &self,
        key: Key,
        id: u64,
        token: Option<Arc<Token>>,
        ttl: Duration,
        loader: F,
    ) -> SharedLoad<T, E>
    where
        T: CacheValue,
        E: LoadError,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let scope = self.clone();
        let release = ReleaseOnDrop {
            flights: Arc::clone(&self.inner.core.flights),
            slots: vec![(key.as_str().to_owned(), id)],
        };
        let (deliver, delivered) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            // Held until the result is ready, and through a panic (unwinding drops it).
            let release = release;
            scope.inner.metrics.loads.increment(1);
            let result = loader().await;
            if result.is_err() {
                scope.inner.metrics.load_errors.increment(1);
            }
            // Store first, then answer: when `wrap` returns, the value is readable (G1).
            if let (Ok(value), Some(token)) = (&result, token) {
                scope.write_back(&key, &token, value, ttl).await;
            }
            // The slot goes before the result does: a reader woken by this result that reads
            // again must start a new load (or hit what was written back), never join this
            // finished one and be handed its error.
            drop(release);
            let _ = deliver.send(result);
        });
        shared_outcome(delivered)
    }

    /// Spawns one batch load for `members`; resolves to every member's value, or one error.
    fn start_batch_load<I, T, E, F, Fut>(
        &self,
        members: &[BatchMember<I>],
        ttl: Duration,
        loader: F,
    ) -> SharedLoad<Arc<HashMap<I, T>>, E>
    where
        I: Eq + Hash + Clone + Send + Sync + 'static,
        T: CacheValue,
        E: LoadError,
        F: FnOnce(Vec<I>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<HashMap<I, T>, E>> + Send + 'static,
    {
        let scope = self.clone();
        let release = ReleaseOnDrop {
            flights: Arc::clone(&self.inner.core.flights),
            slots: members
                .iter()
                .map(|m| (m.key.as_str().to_owned(), m.slot_id))
                .collect(),
        };
        let writes: Vec<(I, Key, Option<Arc<Token>>)> = members
            .iter()
            .map(|m| (m.id.clone(), m.key.clone(), m.token.clone()))
            .collect();
        let (deliver, delivered) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            // Held until the result is ready, and through a panic (unwinding drops it).
            let release = release;
            let metrics = &scope.inner.metrics;
            metrics.loads.increment(1);
            let requested: Vec<I> = writes.iter().map(|(id, _, _)| id.clone()).collect();
            let result = loader(requested).await.and_then(|found| {
                let missing = writes
                    .iter()
                    .filter(|(id, _, _)| !found.contains_key(id))
                    .count();
                if missing > 0 {
                    return Err(E::from(CacheError::IncompleteBatch {
                        missing,
                        requested: writes.len(),
                    }));
                }
                Ok(Arc::new(found))
            });
            if result.is_err() {
                metrics.load_errors.increment(1);
            }
            if let Ok(found) = &result {
                for (id, key, token) in &writes {
                    if let Some(token) = token {
                        scope.write_back(key, token, &found[id], ttl).await;
                    }
                }
            }
            // The slot goes before the result does: a reader woken by this result that reads
            // again must start a new load (or hit what was written back), never join this
            // finished one and be handed its error.
            drop(release);
            let _ = deliver.send(result);
        });
        shared_outcome(delivered)
    }

    async fn write_back<T: CacheValue>(&self, key: &Key, token: &Token, value: &T, ttl: Duration) {
        let core = &self.inner.core;
        if core.bypass.covers(key.as_ref()) {
            return;
        }
        let Some(payload) = encode(core.provider.payload_format(), value) else {
            return;
        };
        match core
            .call(core.provider.write(key, token, payload, ttl))
            .await
        {
            Ok(WriteOutcome::Refused) => self.inner.metrics.writes_refused.increment(1),
            Ok(WriteOutcome::StoredAs(version)) => {
                if let Some(near) = &core.near {
                    near.put(key.as_str(), version, value, ttl);
                }
            }
            Ok(WriteOutcome::Stored | WriteOutcome::Discarded) => {}
            Err(reason) => self.count_unavailable(&reason),
        }
    }
}

/// The shared future of a load: its result, or `LoaderPanicked` if the load task died first.
fn shared_outcome<T, E>(delivered: tokio::sync::oneshot::Receiver<Result<T, E>>) -> SharedLoad<T, E>
where
    T: Clone + Send + Sync + 'static,
    E: LoadError,
{
    delivered
        .map(|outcome| outcome.unwrap_or_else(|_| Err(E::from(CacheError::LoaderPanicked))))
        .boxed()
        .shared()
}

struct BatchMember<I> {
    index: usize,
    id: I,
    key: Key,
    slot_id: u64,
    token: Option<Arc<Token>>,
}

fn encode<T: CacheValue>(format: PayloadFormat, value: &T) -> Option<Payload> {
    match format {
        PayloadFormat::Object => Some(Payload::Object {
            value: Arc::new(value.clone()),
            approx_bytes: envelope::encoded_len(value),
        }),
        PayloadFormat::Bytes => envelope::encode(value)
            .ok()
            .map(|b| Payload::Bytes(b.into())),
    }
}

/// An owned copy of a cached value (G10): callers never share the cached instance.
fn decode<T: CacheValue>(payload: Payload) -> Option<T> {
    match payload {
        Payload::Object { value, .. } => value.downcast_ref::<T>().cloned(),
        Payload::Bytes(bytes) => envelope::decode(&bytes),
    }
}
