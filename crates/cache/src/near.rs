//! The near cache: decoded values of a remote provider kept in process, each with the version
//! the provider stored it as, and served only after the provider confirms that this version
//! is still its current value of the key.
//!
//! A warm read of a remote provider otherwise moves every value's bytes and decodes them on
//! every request (a bulk-status of 1,000 systems: 3.3 MB and 3,000 statuses). With the near
//! cache a warm read asks the provider for the keys' generation counters only (one small
//! round trip) and hands out the values it already holds. Every read still goes to the
//! provider, so nothing is served that an invalidation on any replica made stale (G3): an
//! invalidation makes the stored value no longer current, and another replica's newer write
//! has another version, so every replica reads what the provider holds (G12). When
//! the provider cannot answer, near values are not served either (the read fails open to the
//! loader, G6), since their freshness cannot be confirmed.

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Most entries kept in process (least recently used go first).
pub(crate) const NEAR_ENTRIES: u64 = 20_000;

/// A decoded value and the version the provider stored it as.
pub(crate) struct NearEntry {
    pub(crate) version: u64,
    pub(crate) value: Arc<dyn Any + Send + Sync>,
    /// When the provider's copy expires: the near copy never outlives it.
    expires: Instant,
}

/// The decoded values of one cache manager's remote provider, by full key.
pub(crate) struct Near {
    entries: moka::sync::Cache<String, Arc<NearEntry>>,
}

impl Near {
    pub(crate) fn new(capacity: u64) -> Self {
        Near {
            entries: moka::sync::Cache::builder().max_capacity(capacity).build(),
        }
    }

    /// The entry of `key`, if one is held and not expired.
    pub(crate) fn get(&self, key: &str) -> Option<Arc<NearEntry>> {
        let entry = self.entries.get(key)?;
        if entry.expires <= Instant::now() {
            self.entries.invalidate(key);
            return None;
        }
        Some(entry)
    }

    /// Keeps `value`, stored as `version`, for `ttl` at most.
    pub(crate) fn put<T: Clone + Send + Sync + 'static>(
        &self,
        key: &str,
        version: u64,
        value: &T,
        ttl: Duration,
    ) {
        let entry = NearEntry {
            version,
            value: Arc::new(value.clone()),
            expires: Instant::now() + ttl,
        };
        self.entries.insert(key.to_owned(), Arc::new(entry));
    }

    pub(crate) fn forget(&self, key: &str) {
        self.entries.invalidate(key);
    }
}
