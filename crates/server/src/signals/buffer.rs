//! Signal ids and the buffer of recent signals that a reconnecting client resumes from.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use super::Signal;

/// The id of a delivered signal, `<ms>-<seq>`, ordered as the signals were delivered. With
/// Redis it is the signal's entry id in the cluster's stream, so every replica gives a signal
/// the same id and a client can resume on any replica; with one replica it is this process's
/// start time and a counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SignalId {
    pub ms: u64,
    pub seq: u64,
}

impl fmt::Display for SignalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl FromStr for SignalId {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let (ms, seq) = s.trim().split_once('-').ok_or(())?;
        Ok(SignalId {
            ms: ms.parse().map_err(|_| ())?,
            seq: seq.parse().map_err(|_| ())?,
        })
    }
}

/// A signal as delivered to this process's subscribers. A signal delivered while the
/// cluster's stream could not be reached has no id: it is not in any buffer, and the replica
/// announces `signals.resync` once the stream is back.
#[derive(Debug)]
pub struct Delivered {
    pub id: Option<SignalId>,
    pub signal: Signal,
}

/// The most recent signals with ids, oldest first, and the id just before the oldest one kept
/// (`base`), so that "everything after `base`" is known to be complete.
pub(super) struct Ring {
    base: SignalId,
    entries: VecDeque<Arc<Delivered>>,
    capacity: usize,
}

impl Ring {
    /// An empty buffer whose history is complete after `base`.
    pub(super) fn new(base: SignalId, capacity: usize) -> Self {
        Ring {
            base,
            entries: VecDeque::with_capacity(capacity.min(1024)),
            capacity,
        }
    }

    /// Starts over after `base` (when this process starts following the cluster's stream).
    pub(super) fn reset(&mut self, base: SignalId) {
        self.base = base;
        self.entries.clear();
    }

    /// Keeps `delivered` (which must have an id newer than every kept one), dropping the
    /// oldest when full.
    pub(super) fn push(&mut self, delivered: Arc<Delivered>) {
        if self.entries.len() == self.capacity {
            if let Some(oldest) = self.entries.pop_front() {
                self.base = oldest.id.unwrap_or(self.base);
            }
        }
        self.entries.push_back(delivered);
    }

    /// The newest id, or `base` when nothing is kept.
    pub(super) fn head(&self) -> SignalId {
        self.entries.back().and_then(|d| d.id).unwrap_or(self.base)
    }

    /// Every kept signal after `id`, or `None` when the buffer cannot tell what came after it
    /// (older than what is kept, or an id it never gave).
    pub(super) fn after(&self, id: SignalId) -> Option<Vec<Arc<Delivered>>> {
        if id == self.base {
            return Some(self.entries.iter().cloned().collect());
        }
        let at = self
            .entries
            .binary_search_by_key(&Some(id), |d| d.id)
            .ok()?;
        Some(self.entries.iter().skip(at + 1).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::Resync;

    fn id(seq: u64) -> SignalId {
        SignalId { ms: 7, seq }
    }

    fn delivered(seq: u64) -> Arc<Delivered> {
        Arc::new(Delivered {
            id: Some(id(seq)),
            signal: Signal::Resync(Resync {}),
        })
    }

    #[test]
    fn ids_print_and_parse_as_redis_stream_ids() {
        assert_eq!(id(3).to_string(), "7-3");
        assert_eq!(
            "1700000000000-12".parse::<SignalId>(),
            Ok(SignalId {
                ms: 1_700_000_000_000,
                seq: 12
            })
        );
        assert!("7".parse::<SignalId>().is_err() && "a-b".parse::<SignalId>().is_err());
        assert!(id(3) < id(4) && SignalId { ms: 6, seq: 9 } < id(0));
    }

    #[test]
    fn resumes_after_a_kept_id_or_the_base_and_not_before() {
        let mut ring = Ring::new(id(0), 3);
        for seq in 1..=5 {
            ring.push(delivered(seq));
        }
        // 1 and 2 were dropped: base is 2.
        assert_eq!(ring.head(), id(5));
        let after = |seq| {
            ring.after(id(seq))
                .map(|v| v.iter().map(|d| d.id.unwrap().seq).collect::<Vec<_>>())
        };
        assert_eq!(after(2), Some(vec![3, 4, 5]));
        assert_eq!(after(4), Some(vec![5]));
        assert_eq!(after(5), Some(vec![]));
        assert_eq!(after(1), None, "older than what is kept");
        assert_eq!(after(9), None, "never given");
    }
}
