//! The systems and their dependency graph, cached whole (scope `topology`, 25 s) and dropped
//! whole on any change of a system: systems change rarely and every list shows them.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use slod_cache::{CacheError, CacheManager, CachedScope};
use slod_store::{Store, System};

use super::{timed, Invalidation, Ttls};
use crate::error::ServiceResult;
use crate::ids::SystemId;
use crate::paging::{encode_cursor, Paging};

const TTL: Duration = Duration::from_secs(25);

/// The graph of `dependsOn` edges: system -> its upstream systems.
pub type Graph = HashMap<String, Vec<String>>;

/// The cached topology. Cheap to clone.
#[derive(Clone)]
pub struct Topology {
    scope: CachedScope,
    store: Store,
    ttl: Duration,
}

/// A page of systems.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SystemList {
    pub systems: Vec<System>,
    pub next_cursor: Option<String>,
}

impl Topology {
    pub(crate) fn new(cache: &CacheManager, store: Store, ttls: Ttls) -> Result<Self, CacheError> {
        Ok(Topology {
            scope: cache.scope("topology", TTL)?,
            store,
            ttl: ttls.or(TTL),
        })
    }

    /// The dependency graph.
    pub async fn graph(&self) -> ServiceResult<Graph> {
        let store = self.store.clone();
        self.scope
            .wrap_with_ttl("topology:graph", self.ttl, move || async move {
                Ok(timed("topology", store.dependency_graph()).await?)
            })
            .await
    }

    /// A page of systems, ordered by id.
    pub async fn systems(&self, paging: &Paging) -> ServiceResult<SystemList> {
        let store = self.store.clone();
        let key = format!("topology:systems:{}", paging.key());
        let paging = paging.clone();
        self.scope
            .wrap_with_ttl(&key, self.ttl, move || async move {
                let page = timed(
                    "topology",
                    store.list_systems(paging.limit, paging.after.as_deref()),
                )
                .await?;
                Ok(SystemList {
                    systems: page.items,
                    next_cursor: encode_cursor(page.next_cursor),
                })
            })
            .await
    }

    /// One system, or `None`.
    pub async fn system(&self, id: &SystemId) -> ServiceResult<Option<System>> {
        let store = self.store.clone();
        let owned = id.clone();
        self.scope
            .wrap_with_ttl(
                &format!("topology:system:{id}"),
                self.ttl,
                move || async move { Ok(timed("topology", store.get_system(owned.as_str())).await?) },
            )
            .await
    }

    /// After any system was created, changed or deleted: the whole topology.
    pub fn changed(&self) -> Invalidation {
        Invalidation::family(&self.scope, "topology:")
    }
}

/// The systems that depend on `system`, transitively (not including it).
pub fn downstream(graph: &Graph, system: &str) -> Vec<String> {
    let mut reverse: HashMap<&str, Vec<&str>> = HashMap::new();
    for (from, ups) in graph {
        for up in ups {
            reverse.entry(up.as_str()).or_default().push(from.as_str());
        }
    }
    let mut seen: HashSet<&str> = HashSet::from([system]);
    let mut queue = VecDeque::from([system]);
    let mut out = Vec::new();
    while let Some(id) = queue.pop_front() {
        for &next in reverse.get(id).into_iter().flatten() {
            if seen.insert(next) {
                out.push(next.to_owned());
                queue.push_back(next);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downstream_is_transitive() {
        let graph: Graph = HashMap::from([
            ("web".into(), vec!["api".into()]),
            ("api".into(), vec!["db".into()]),
            ("batch".into(), vec!["db".into()]),
        ]);
        let mut d = downstream(&graph, "db");
        d.sort();
        assert_eq!(d, ["api", "batch", "web"]);
        assert!(downstream(&graph, "web").is_empty());
    }
}
