//! The systems and their dependency graph, cached whole (scope `topology`, 25 s) and dropped
//! whole on any change of a system: systems change rarely and every list shows them.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
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

/// Every system with the dependency graph, in the order alert evaluation walks them.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Layers {
    /// Every system id, sorted.
    pub systems: Vec<String>,
    /// Indexes into `systems`, every system after the systems it depends on.
    pub upstream_first: Vec<usize>,
    pub graph: Graph,
}

impl Layers {
    /// The index of `system` in `systems`.
    pub fn index_of(&self, system: &str) -> Option<usize> {
        self.systems
            .binary_search_by(|s| s.as_str().cmp(system))
            .ok()
    }
}

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

    /// The dependency graph, shared.
    pub async fn graph(&self) -> ServiceResult<Arc<Graph>> {
        let store = self.store.clone();
        self.scope
            .wrap_with_ttl("topology:graph", self.ttl, move || async move {
                Ok(Arc::new(timed("topology", store.dependency_graph()).await?))
            })
            .await
    }

    /// Every system, the graph, and the order upstream first, shared (`topology:layers`).
    pub async fn layers(&self) -> ServiceResult<Arc<Layers>> {
        let store = self.store.clone();
        self.scope
            .wrap_with_ttl("topology:layers", self.ttl, move || async move {
                let (systems, graph) = timed("topology", async {
                    Ok::<_, slod_store::StoreError>((
                        store.system_ids().await?,
                        store.dependency_graph().await?,
                    ))
                })
                .await?;
                let order = upstream_first(&graph, &systems);
                let index: HashMap<&str, usize> = systems
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.as_str(), i))
                    .collect();
                let upstream_first = order.iter().map(|s| index[s.as_str()]).collect();
                Ok(Arc::new(Layers {
                    systems,
                    upstream_first,
                    graph,
                }))
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

/// `systems` ordered so that every system comes after the systems it depends on (upstream
/// first), ties by id; dependencies outside `systems` are ignored. The store refuses cycles;
/// should one exist anyway, its systems come last, by id.
pub fn upstream_first(graph: &Graph, systems: &[String]) -> Vec<String> {
    let known: HashSet<&str> = systems.iter().map(String::as_str).collect();
    let mut waiting_on: HashMap<&str, usize> = HashMap::new();
    let mut dependents: HashMap<&str, Vec<&str>> = HashMap::new();
    for system in systems {
        let ups: HashSet<&str> = graph
            .get(system)
            .into_iter()
            .flatten()
            .map(String::as_str)
            .filter(|up| known.contains(up) && *up != system)
            .collect();
        waiting_on.insert(system, ups.len());
        for up in ups {
            dependents.entry(up).or_default().push(system);
        }
    }
    let mut ready: std::collections::BTreeSet<&str> = waiting_on
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(s, _)| *s)
        .collect();
    let mut out = Vec::with_capacity(systems.len());
    while let Some(next) = ready.pop_first() {
        out.push(next.to_owned());
        for &dependent in dependents.get(next).into_iter().flatten() {
            let n = waiting_on
                .get_mut(dependent)
                .expect("every dependent is known");
            *n -= 1;
            if *n == 0 {
                ready.insert(dependent);
            }
        }
    }
    if out.len() < waiting_on.len() {
        let placed: HashSet<String> = out.iter().cloned().collect();
        let mut rest: Vec<String> = waiting_on
            .keys()
            .filter(|s| !placed.contains(**s))
            .map(|s| (*s).to_owned())
            .collect();
        rest.sort_unstable();
        out.extend(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_first_puts_every_system_after_its_dependencies() {
        let graph: Graph = HashMap::from([
            ("web".into(), vec!["api".into(), "cdn".into()]),
            ("api".into(), vec!["db".into(), "gone".into()]),
            ("batch".into(), vec!["db".into()]),
        ]);
        let systems: Vec<String> = ["web", "api", "batch", "db", "cdn"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            upstream_first(&graph, &systems),
            ["cdn", "db", "api", "batch", "web"]
        );
    }

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
