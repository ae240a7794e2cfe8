//! The single-flight table: at most one load per key and generation in this process (G2).
//!
//! A slot holds the shared result of one load, the token it was started under and an id. Only
//! the load that owns a slot (same id) removes it, so an old load finishing can never remove a
//! newer load's slot (the original's defect 3). Invalidation detaches slots, so a read that
//! starts after an invalidation never joins a load that started before it.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::future::{BoxFuture, Shared};

use crate::key::{Family, Key};
use crate::provider::Token;

/// The result of one load, awaited by every reader that joined it.
pub(crate) type SharedLoad<T, E> = Shared<BoxFuture<'static, Result<T, E>>>;

pub(crate) struct Slot {
    pub(crate) id: u64,
    /// `None` when the load started without a provider token (cache bypassed or unavailable);
    /// such a load never writes back.
    pub(crate) token: Option<Arc<Token>>,
    /// A `SharedLoad<T, E>` for the caller's `T` and `E`.
    pub(crate) load: Box<dyn Any + Send + Sync>,
}

#[derive(Default)]
pub(crate) struct Flights {
    slots: Mutex<HashMap<String, Slot>>,
    next_id: AtomicU64,
}

impl Flights {
    pub(crate) fn lock(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Removes the slot of `key` only if it still belongs to load `id`.
    pub(crate) fn release(&self, key: &str, id: u64) {
        let mut slots = self.lock();
        if slots.get(key).is_some_and(|slot| slot.id == id) {
            slots.remove(key);
        }
    }

    /// Detaches the load of `key`: it runs on, but no later reader joins it.
    pub(crate) fn detach(&self, key: &Key) {
        self.lock().remove(key.as_str());
    }

    /// Detaches every load of the family. O(loads in flight), never O(cached keys).
    pub(crate) fn detach_family(&self, family: &Family) {
        self.lock()
            .retain(|key, _| !key.starts_with(family.as_str()));
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

/// Releases a load's slot when the load ends, however it ends (value, error or panic).
pub(crate) struct ReleaseOnDrop {
    pub(crate) flights: Arc<Flights>,
    pub(crate) slots: Vec<(String, u64)>,
}

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        for (key, id) in &self.slots {
            self.flights.release(key, *id);
        }
    }
}
