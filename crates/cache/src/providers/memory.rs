//! The in-process provider: a bounded moka cache plus the generation guard.
//!
//! How the guard works in one process: a monotonic `clock` orders everything. A miss issues a
//! token `t = clock`; an invalidation stamps a *mark* `m = ++clock` on the key (only while some
//! load holds a lease on it) or on the family. A token or a stored value is stale when a mark
//! newer than it covers its key. The value of an invalidated key is removed at once, so only
//! family marks are consulted on the hit path, and only when some family was invalidated after
//! the value was loaded (one atomic load decides that).
//!
//! Bookkeeping is bounded (G8): a key's lease record exists only while a load holds a token for
//! it; a family mark is dropped once every value it could hide has expired (one maximum TTL plus a
//! grace period), raising a `floor` below which any late write-back is refused.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::sync::Cache;
use moka::Expiry;

use crate::key::{Family, Key, KeyRef};
use crate::provider::{
    CacheProvider, Payload, PayloadFormat, ProviderError, Read, Token, WriteOutcome,
};

/// How long a family mark outlives the longest TTL written, before it is dropped.
const FAMILY_MARK_GRACE: Duration = Duration::from_secs(1);

/// Size limits of the memory provider. Both hold at once.
#[derive(Clone, Copy, Debug)]
pub struct MemoryLimits {
    /// At most this many entries.
    pub max_entries: u64,
    /// At most about this many bytes of keys and (encoded-size estimates of) values.
    pub max_bytes: u64,
}

impl Default for MemoryLimits {
    fn default() -> Self {
        MemoryLimits {
            max_entries: 100_000,
            max_bytes: 256 * 1024 * 1024,
        }
    }
}

#[derive(Clone)]
struct Entry {
    payload: Payload,
    /// The clock value of the token it was loaded under.
    stamp: u64,
    ttl: Duration,
    weight: u32,
}

struct EntryExpiry;

impl Expiry<String, Entry> for EntryExpiry {
    fn expire_after_create(&self, _: &String, entry: &Entry, _: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_update(
        &self,
        _: &String,
        entry: &Entry,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

#[derive(Default)]
struct Lease {
    holders: usize,
    /// The newest invalidation of the key while it was leased (0: none).
    mark: u64,
}

struct FamilyMark {
    mark: u64,
    at: Instant,
}

/// State changed only under one lock, so that write-back checks and invalidations serialize.
#[derive(Default)]
struct Guarded {
    leases: HashMap<String, Lease>,
    longest_ttl: Duration,
}

struct Inner {
    values: Cache<String, Entry>,
    guarded: Mutex<Guarded>,
    /// Written only while `guarded` is held; read lock-free-ish on the hit path.
    family_marks: RwLock<HashMap<String, FamilyMark>>,
    newest_family_mark: AtomicU64,
    /// Tokens older than this are refused: a family mark that may have covered them was dropped.
    floor: AtomicU64,
    clock: AtomicU64,
    min_weight: u32,
}

/// The default provider: bounded by entries and bytes (TinyLFU admission, LRU eviction), with a
/// TTL per entry.
#[derive(Clone)]
pub struct MemoryProvider {
    inner: Arc<Inner>,
}

impl MemoryProvider {
    /// A provider bounded by `limits`.
    ///
    /// Both bounds are enforced with one weigher: each entry weighs at least
    /// `max_bytes / max_entries`, so a total weight of at most `max_bytes` implies at most
    /// `max_entries` entries.
    pub fn new(limits: MemoryLimits) -> Self {
        let min_weight = (limits.max_bytes / limits.max_entries.max(1)).clamp(1, u32::MAX as u64);
        let values = Cache::builder()
            .max_capacity(limits.max_bytes)
            .weigher(|_: &String, entry: &Entry| entry.weight)
            .expire_after(EntryExpiry)
            .build();
        MemoryProvider {
            inner: Arc::new(Inner {
                values,
                guarded: Mutex::default(),
                family_marks: RwLock::default(),
                newest_family_mark: AtomicU64::new(0),
                floor: AtomicU64::new(0),
                clock: AtomicU64::new(1),
                min_weight: min_weight as u32,
            }),
        }
    }

    /// Entries currently held (after pending evictions are applied).
    pub fn entry_count(&self) -> u64 {
        self.inner.values.run_pending_tasks();
        self.inner.values.entry_count()
    }
}

impl Default for MemoryProvider {
    fn default() -> Self {
        MemoryProvider::new(MemoryLimits::default())
    }
}

/// Releases a lease on a key when the token holding it is dropped.
struct LeaseGuard {
    inner: Arc<Inner>,
    key: String,
}

impl Drop for LeaseGuard {
    fn drop(&mut self) {
        let mut guarded = lock(&self.inner.guarded);
        if let Some(lease) = guarded.leases.get_mut(&self.key) {
            lease.holders -= 1;
            if lease.holders == 0 {
                guarded.leases.remove(&self.key);
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave these maps inconsistent in a way that
    // matters more than losing the cache, so poisoning is ignored.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Inner {
    /// Whether some invalidation newer than `stamp` covers `key` through one of its families.
    fn family_invalidated_since(&self, key: KeyRef<'_>, stamp: u64) -> bool {
        if stamp >= self.newest_family_mark.load(Ordering::Acquire) {
            return false;
        }
        if stamp < self.floor.load(Ordering::Acquire) {
            return true;
        }
        let marks = self.family_marks.read().unwrap_or_else(|e| e.into_inner());
        key.families()
            .any(|f| marks.get(f).is_some_and(|m| m.mark > stamp))
    }

    fn issue_token(self: &Arc<Self>, key: KeyRef<'_>) -> Token {
        let mut guarded = lock(&self.guarded);
        guarded
            .leases
            .entry(key.as_str().to_owned())
            .or_default()
            .holders += 1;
        let now = self.clock.load(Ordering::Acquire);
        drop(guarded);
        let lease = LeaseGuard {
            inner: Arc::clone(self),
            key: key.as_str().to_owned(),
        };
        Token::with_lease(vec![now], Box::new(lease))
    }

    fn read(self: &Arc<Self>, key: KeyRef<'_>) -> Read {
        if let Some(entry) = self.values.get(key.as_str()) {
            if !self.family_invalidated_since(key, entry.stamp) {
                return Read::Hit(entry.payload);
            }
        }
        Read::Miss(self.issue_token(key))
    }

    fn next_mark(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::AcqRel) + 1
    }
}

#[async_trait]
impl CacheProvider for MemoryProvider {
    fn kind(&self) -> &'static str {
        "memory"
    }

    fn payload_format(&self) -> PayloadFormat {
        PayloadFormat::Object
    }

    fn is_remote(&self) -> bool {
        false
    }

    fn read_now(&self, key: KeyRef<'_>) -> Option<Read> {
        Some(self.inner.read(key))
    }

    async fn read(&self, key: &Key) -> Result<Read, ProviderError> {
        Ok(self.inner.read(key.as_ref()))
    }

    async fn write(
        &self,
        key: &Key,
        token: &Token,
        payload: Payload,
        ttl: Duration,
    ) -> Result<WriteOutcome, ProviderError> {
        let [stamp] = token.generations() else {
            return Ok(WriteOutcome::Refused);
        };
        let stamp = *stamp;
        let inner = &self.inner;
        let mut guarded = lock(&inner.guarded);
        let key_mark = guarded.leases.get(key.as_str()).map_or(0, |l| l.mark);
        if key_mark > stamp || inner.family_invalidated_since(key.as_ref(), stamp) {
            return Ok(WriteOutcome::Refused);
        }
        guarded.longest_ttl = guarded.longest_ttl.max(ttl);
        let approx_bytes = match &payload {
            Payload::Object { approx_bytes, .. } => *approx_bytes,
            Payload::Bytes(bytes) => bytes.len(),
        };
        let weight = (approx_bytes + key.as_str().len()).min(u32::MAX as usize) as u32;
        let entry = Entry {
            payload,
            stamp,
            ttl,
            weight: weight.max(inner.min_weight),
        };
        inner.values.insert(key.as_str().to_owned(), entry);
        Ok(WriteOutcome::Stored)
    }

    async fn invalidate(&self, key: &Key) -> Result<(), ProviderError> {
        let inner = &self.inner;
        let mut guarded = lock(&inner.guarded);
        if let Some(lease) = guarded.leases.get_mut(key.as_str()) {
            lease.mark = inner.next_mark();
        }
        inner.values.invalidate(key.as_str());
        Ok(())
    }

    async fn invalidate_family(&self, family: &Family) -> Result<(), ProviderError> {
        let inner = &self.inner;
        let guarded = lock(&inner.guarded);
        let mark = inner.next_mark();
        let now = Instant::now();
        let keep_for = guarded.longest_ttl + FAMILY_MARK_GRACE;
        let mut marks = inner
            .family_marks
            .write()
            .unwrap_or_else(|e| e.into_inner());
        marks.insert(family.as_str().to_owned(), FamilyMark { mark, at: now });
        // Sweeping is O(families), never O(keys): drop marks that can no longer hide a value.
        marks.retain(|_, m| {
            let keep = now.duration_since(m.at) <= keep_for;
            if !keep {
                inner.floor.fetch_max(m.mark, Ordering::AcqRel);
            }
            keep
        });
        inner.newest_family_mark.store(mark, Ordering::Release);
        Ok(())
    }

    fn same_generation(&self, key: &Key, flight: &Token, _reader: &Token) -> bool {
        // Everything in one process is ordered by the clock: the flight is current exactly when
        // its write-back would still be accepted.
        let [stamp] = flight.generations() else {
            return false;
        };
        let guarded = lock(&self.inner.guarded);
        let key_mark = guarded.leases.get(key.as_str()).map_or(0, |l| l.mark);
        key_mark <= *stamp && !self.inner.family_invalidated_since(key.as_ref(), *stamp)
    }

    fn bookkeeping_len(&self) -> usize {
        let leases = lock(&self.inner.guarded).leases.len();
        leases
            + self
                .inner
                .family_marks
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .len()
    }
}
