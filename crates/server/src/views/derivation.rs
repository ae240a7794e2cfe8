//! What statuses and downtime lists are derived from, loaded in a fixed number of queries
//! whatever the number of objectives: their upstream closures, the timelines those read, and
//! the maintenance windows of the systems whose objectives exclude maintenance (engine.md,
//! "An objective's downtime, derived").

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use slod_engine::{
    upstream_closure, DownInterval, MaintenanceWindow, Objective, Timelines, Upstream,
};
use slod_store::{Store, TimelineSet};

use super::Graph;
use crate::error::ServiceResult;

/// Everything the statuses and downtime of some objectives are derived from.
pub struct DerivationInputs {
    closures: Vec<Vec<(String, u32)>>,
    set: TimelineSet,
    maintenance: HashMap<String, Vec<MaintenanceWindow>>,
}

impl DerivationInputs {
    /// Loads what `objectives` need at `now` (their windows, and 72 hours for the burn rates).
    pub async fn load(
        store: &Store,
        objectives: &[Objective],
        graph: &Graph,
        now: Timestamp,
    ) -> ServiceResult<Self> {
        let mut needed_systems: HashSet<String> = HashSet::new();
        let mut needed_checks: HashSet<String> = HashSet::new();
        let mut since = now
            .checked_sub(jiff::SignedDuration::from_hours(72))
            .unwrap_or(now);
        let mut closures = Vec::with_capacity(objectives.len());
        for o in objectives {
            let closure = upstream_closure(&o.system_id, graph, &o.excluded_dependency_ids);
            needed_systems.extend(closure.iter().map(|(id, _)| id.clone()));
            match &o.health_check_id {
                Some(check) => needed_checks.insert(check.clone()),
                None => needed_systems.insert(o.system_id.clone()),
            };
            let window = slod_engine::window::window_at(
                o.window_kind,
                o.window_days,
                o.time_zone.as_deref(),
                now,
            )?;
            since = since.min(Timestamp::from_millisecond(window.observed.start).unwrap_or(now));
            closures.push(closure);
        }
        let set = store
            .timelines(
                &needed_systems.into_iter().collect::<Vec<_>>(),
                &needed_checks.into_iter().collect::<Vec<_>>(),
                since,
            )
            .await?;
        let mut maintained: Vec<String> = objectives
            .iter()
            .filter(|o| o.exclude_maintenance_windows)
            .map(|o| o.system_id.clone())
            .collect();
        maintained.sort_unstable();
        maintained.dedup();
        let maintenance = if maintained.is_empty() {
            HashMap::new()
        } else {
            store.maintenance_windows(&maintained, since).await?
        };
        Ok(DerivationInputs {
            closures,
            set,
            maintenance,
        })
    }

    /// Runs `f` on the timelines of `objective`, the `i`-th of those it was loaded for.
    pub fn with_timelines<R>(
        &self,
        i: usize,
        objective: &Objective,
        f: impl FnOnce(&Timelines<'_>) -> R,
    ) -> R {
        let (own, upstreams) = objective_timelines(objective, &self.closures[i], &self.set);
        f(&Timelines {
            own,
            upstreams: &upstreams,
            maintenance: self
                .maintenance
                .get(&objective.system_id)
                .map_or(&[][..], Vec::as_slice),
        })
    }
}

/// The timelines `objective` reads out of `set`: its system's (or its check's) own, and one per
/// upstream of `closure`. Missing entries are empty timelines (nothing was down).
fn objective_timelines<'a>(
    objective: &Objective,
    closure: &'a [(String, u32)],
    set: &'a TimelineSet,
) -> (&'a [DownInterval], Vec<Upstream<'a>>) {
    let own = match &objective.health_check_id {
        Some(check) => set.checks.get(check),
        None => set.systems.get(&objective.system_id),
    };
    let upstreams = closure
        .iter()
        .map(|(id, depth)| Upstream {
            system_id: id,
            depth: *depth,
            intervals: set.systems.get(id).map_or(&[][..], Vec::as_slice),
        })
        .collect();
    (own.map_or(&[][..], Vec::as_slice), upstreams)
}
