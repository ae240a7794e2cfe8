//! The unit of work: the one place the mutation rule is carried out.
//!
//! Every change to data, whoever makes it (an API call, a probe, a job, the CLI, the demo),
//! begins a [`Work`], writes through its store transaction, and records its effects: the
//! cache [`Invalidation`]s its change needs and the [`Signal`]s that announce it. Then
//! [`Work::commit`] does, in this order and nowhere else:
//!
//! 1. commit the transaction (once: one unit of work is one transaction);
//! 2. await every invalidation (deduplicated);
//! 3. emit every signal; signals that carry derived data (an objective's new status) are
//!    computed only now, after the invalidation, so they read the new data.
//!
//! A client that refetches when it hears a signal therefore never reads what the change
//! replaced, on any replica (cache.md, "The rule every caller follows"). Dropping a `Work`
//! without committing rolls back and announces nothing.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;

use slod_store::{Store, Tx};

use crate::error::ServiceResult;
use crate::signals::{Signal, Signals};
use crate::views::Invalidation;

macro_rules! mutations {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// Every kind of mutation, one per service method that changes data. The freshness
        /// test matches on it exhaustively, so a new mutation cannot land without a test that
        /// its reads are fresh right after it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Mutation {
            $($(#[$doc])* $name),*
        }

        impl Mutation {
            /// Every mutation, in declaration order.
            pub const ALL: &'static [Mutation] = &[$(Mutation::$name),*];

            /// The name the metrics label it with.
            pub fn name(self) -> &'static str {
                match self {
                    $(Mutation::$name => stringify!($name)),*
                }
            }
        }
    };
}

mutations!(
    CreateSystem,
    UpdateSystem,
    DeleteSystem,
    CreateCheck,
    UpdateCheck,
    DeleteCheck,
    /// Pushed results and slod's own probe results.
    RecordResults,
    CreateObjective,
    UpdateObjective,
    DeleteObjective,
    OpenIncident,
    ResolveIncident,
    CreateMaintenance,
    CancelMaintenance,
    /// The daily bookkeeping of one day: snapshots, streaks, achievements, milestones.
    RecordDay,
    /// Deleting results older than the retention.
    PruneResults,
    /// The weekly digest: its run recorded as finished, and `slo.digest` announced.
    SendDigest,
    CreateToken,
    RevokeToken,
    /// An alert evaluation recorded a new alert.
    FireAlert,
    /// An alert evaluation moved an active alert (its state, what inhibits or mutes it, a
    /// lapsed condition, its resolution).
    MoveAlert,
    CreateSilence,
    EndSilence,
    CreateChannel,
    UpdateChannel,
    DeleteChannel,
    CreatePolicy,
    UpdatePolicy,
    DeletePolicy,
    /// A delivery worker claimed due deliveries under its lease, or handed back ones it had
    /// no slot for.
    ClaimDeliveries,
    /// A delivery attempt was recorded (delivered, retried later, or dead).
    RecordDelivery,
    /// Reminders of alerts still firing after their policies' repeat interval.
    RemindAlerts,
);

type Later = Pin<Box<dyn Future<Output = Vec<Signal>> + Send>>;

enum Pending {
    Now(Signal),
    Later(Later),
}

/// One unit of work in progress. See the module doc for the rule it carries out.
pub struct Work {
    kind: Mutation,
    began: std::time::Instant,
    tx: Tx,
    invalidations: Vec<Invalidation>,
    signals: Vec<Pending>,
    hub: Signals,
}

impl Work {
    /// Begins a unit of work of `kind` on `store`, whose signals go to `hub`.
    pub async fn begin(store: &Store, hub: &Signals, kind: Mutation) -> ServiceResult<Work> {
        Ok(Work {
            kind,
            began: std::time::Instant::now(),
            tx: store.begin().await?,
            invalidations: Vec::new(),
            signals: Vec::new(),
            hub: hub.clone(),
        })
    }

    /// The transaction every write of this unit goes through.
    pub fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// Drops `invalidations` after the commit.
    pub fn invalidate(&mut self, invalidations: impl IntoIterator<Item = Invalidation>) {
        self.invalidations.extend(invalidations);
    }

    /// Emits `signal` after the commit and the invalidations.
    pub fn signal(&mut self, signal: Signal) {
        self.signals.push(Pending::Now(signal));
    }

    /// Emits the signals `later` yields, computing them only after the commit and the
    /// invalidations (for signals that carry data derived from the new state).
    pub fn signal_later(&mut self, later: impl Future<Output = Vec<Signal>> + Send + 'static) {
        self.signals.push(Pending::Later(Box::pin(later)));
    }

    /// Commits, then awaits every invalidation, then emits every signal.
    pub async fn commit(self) -> ServiceResult<()> {
        let Work {
            kind,
            began,
            tx,
            invalidations,
            signals,
            hub,
        } = self;
        tx.commit().await?;
        metrics::histogram!("slod_store_transaction_duration_seconds", "mutation" => kind.name())
            .record(began.elapsed().as_secs_f64());
        metrics::counter!("slod_mutations_total", "kind" => kind.name()).increment(1);
        let mut seen = HashSet::new();
        for invalidation in invalidations {
            if seen.insert(invalidation.describe()) {
                invalidation.apply().await;
            }
        }
        for pending in signals {
            match pending {
                Pending::Now(signal) => hub.emit(signal),
                Pending::Later(later) => {
                    for signal in later.await {
                        hub.emit(signal);
                    }
                }
            }
        }
        Ok(())
    }
}
