//! The read side: every cached read model the API serves, each owning its cache scope, its
//! keys, its loaders and the invalidations a change of its data needs.
//!
//! Read models depend on each other (statuses read the topology) and a write in one domain
//! invalidates another's reads (a check's result moves objective statuses), so they sit below
//! the domains that write, in one layer: `domain service -> work + views -> store + engine +
//! cache`. A write never calls into a view's cache directly; it asks a view for the
//! [`Invalidation`]s it needs and hands them to its unit of work, which applies them after
//! the commit.
//!
//! | model | scope | keys (TTL) |
//! |---|---|---|
//! | [`Topology`] | `topology` | `topology:graph`, `topology:layers`, `topology:systems:<limit>:<cursor>`, `topology:system:<id>` (25 s) |
//! | [`HealthView`] | `health` | `health:<systemId>`, `rollup` (15 s) |
//! | [`Statuses`] | `statuses` | `objectives:<systemId>`, `owner:<objectiveId>` (300 s), `history:<systemId>:<objectiveId>:<points>`, `list:objectives:<limit>:<cursor>` (15 s) |
//! | [`Records`] | `incidents`, `maintenance`, `alerts`, `silences` | `<kind>:<id>` (30 s), `system:<systemId>`, `list:<hash>`, `active` (15 s) |

mod derivation;
mod health;
mod records;
mod statuses;
mod topology;

use std::time::Duration;

use slod_cache::{CacheError, CacheManager, CachedScope};
use slod_store::Store;

pub use derivation::DerivationInputs;
pub use health::HealthView;
pub use records::{IncidentList, MaintenanceList, RecordPage, Records, SystemIncidents};
pub use statuses::{
    compute_statuses, item_json_bytes, json_bytes, status_signal, ObjectiveList, ObjectiveStatus,
    ObjectivesOfSystem, Statuses, SystemObjectives,
};
pub use topology::{downstream, upstream_first, Graph, Layers, SystemList, Topology};

/// Every read model. Cheap to clone.
#[derive(Clone)]
pub struct Views {
    pub topology: Topology,
    pub health: HealthView,
    pub statuses: Statuses,
    pub incidents: Records<slod_store::Incident>,
    pub maintenance: Records<slod_store::Maintenance>,
    pub alerts: Records<slod_store::Alert>,
    pub silences: Records<slod_store::Silence>,
}

impl Views {
    /// Builds every read model on `cache`. `ttl`, when set, replaces every default TTL (a
    /// freshness ceiling for changes nobody invalidated, never the invalidation itself).
    pub fn new(
        cache: &CacheManager,
        store: Store,
        ttl: Option<Duration>,
    ) -> Result<Self, CacheError> {
        let ttls = Ttls(ttl);
        Ok(Views {
            topology: Topology::new(cache, store.clone(), ttls)?,
            health: HealthView::new(cache, store.clone(), ttls)?,
            statuses: Statuses::new(cache, store.clone(), ttls)?,
            incidents: Records::new(cache, store.clone(), ttls)?,
            maintenance: Records::new(cache, store.clone(), ttls)?,
            alerts: Records::new(cache, store.clone(), ttls)?,
            silences: Records::new(cache, store, ttls)?,
        })
    }
}

/// Runs `load`, a read model's reads of the store, recording how long it took.
pub(crate) async fn timed<T>(read: &'static str, load: impl std::future::Future<Output = T>) -> T {
    let started = std::time::Instant::now();
    let out = load.await;
    metrics::histogram!("slod_store_read_duration_seconds", "read" => read)
        .record(started.elapsed().as_secs_f64());
    out
}

/// The TTLs of the read models: their defaults, or one override for all.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ttls(Option<Duration>);

impl Ttls {
    /// `default`, unless every TTL is overridden.
    pub(crate) fn or(self, default: Duration) -> Duration {
        self.0.unwrap_or(default)
    }
}

/// One cache key or family to drop after a commit. Built by the view that owns it; applied
/// by the unit of work (`crate::work`).
#[derive(Clone)]
pub struct Invalidation {
    scope: CachedScope,
    target: Target,
}

#[derive(Clone, PartialEq, Eq)]
enum Target {
    Key(String),
    Family(String),
}

impl Invalidation {
    pub(crate) fn key(scope: &CachedScope, key: String) -> Self {
        Invalidation {
            scope: scope.clone(),
            target: Target::Key(key),
        }
    }

    pub(crate) fn family(scope: &CachedScope, family: &str) -> Self {
        Invalidation {
            scope: scope.clone(),
            target: Target::Family(family.to_owned()),
        }
    }

    /// `<scope>:<key>` or `<scope>:<family>*`: what it drops, for logs and deduplication.
    pub fn describe(&self) -> String {
        match &self.target {
            Target::Key(key) => format!("{}:{key}", self.scope.name()),
            Target::Family(family) => format!("{}:{family}*", self.scope.name()),
        }
    }

    /// Drops the key or family. A failure is logged: the cache then bypasses what it failed
    /// to invalidate for one TTL in this process (slod-cache G7), so it is never served.
    pub async fn apply(&self) {
        let done = match &self.target {
            Target::Key(key) => self.scope.invalidate(key).await,
            Target::Family(family) => self.scope.invalidate_prefix(family).await,
        };
        if let Err(e) = done {
            tracing::warn!(what = %self.describe(), error = %e, "cache invalidation failed; bypassing it for one TTL");
        }
    }
}
