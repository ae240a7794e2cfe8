//! The cross-domain rule: what follows when a system's timeline, health or upstreams moved.
//!
//! Checks (results, probes, a check added, changed or removed), incidents with a health
//! override, and systems whose dependencies changed all end here, so the rule is written once:
//! invalidate the system's health view, the objectives of the system and of everything
//! downstream of it, and the objective lists; then signal `health.changed` (when the rolled-up
//! health changed), then the new status of each affected objective, once each
//! (engine.md, "The health timeline").

use slod_store::HealthMove;

use crate::error::ServiceResult;
use crate::signals::{HealthChanged, Signal};
use crate::views::{downstream, Views};
use crate::work::Work;

/// Records the effects of `moves` (systems whose health or timeline may have moved) on
/// `work`. A move that changed nothing still refreshes its system's health view, which shows
/// each check's latest result.
pub async fn health_moved(
    work: &mut Work,
    views: &Views,
    moves: &[HealthMove],
) -> ServiceResult<()> {
    for m in moves {
        work.invalidate([views.health.changed(&m.system_id)]);
    }
    let moved: Vec<&HealthMove> = moves.iter().filter(|m| m.moved()).collect();
    if moved.is_empty() {
        return Ok(());
    }
    let graph = work.tx().dependency_graph().await?;
    let mut affected: Vec<String> = Vec::new();
    for m in &moved {
        for id in std::iter::once(m.system_id.clone()).chain(downstream(&graph, &m.system_id)) {
            if !affected.contains(&id) {
                affected.push(id);
            }
        }
    }
    if moved.iter().any(|m| m.changed_health().is_some()) {
        work.invalidate([views.health.rollup_changed()]);
    }
    for m in &moved {
        if let Some(status) = m.changed_health() {
            work.signal(Signal::HealthChanged(HealthChanged {
                system_id: m.system_id.clone(),
                status,
            }));
        }
    }
    statuses_moved(work, views, affected);
    Ok(())
}

/// Records that the objectives of `systems` (already including everything downstream that
/// reads them) changed: their entries and the lists are dropped, then each objective's new
/// status is signalled.
pub fn statuses_moved(work: &mut Work, views: &Views, systems: Vec<String>) {
    work.invalidate(views.statuses.changed(&systems));
    let statuses = views.statuses.clone();
    work.signal_later(async move { statuses.signals_for(systems).await });
}

/// Records that `system`'s upstreams changed (or it was created or deleted): the topology,
/// its health view, and the objectives of the system and of everything downstream of it,
/// before the change (`downstream_before`) and after. Signals the statuses of `announce`
/// (the affected systems that still exist) after the invalidation.
pub async fn upstreams_moved(
    work: &mut Work,
    views: &Views,
    system: &str,
    downstream_before: &[String],
    system_still_exists: bool,
) -> ServiceResult<()> {
    work.invalidate([
        views.topology.changed(),
        views.health.changed(system),
        views.health.rollup_changed(),
    ]);
    let graph = work.tx().dependency_graph().await?;
    let mut affected = vec![system.to_owned()];
    for id in downstream(&graph, system)
        .into_iter()
        .chain(downstream_before.iter().cloned())
    {
        if !affected.contains(&id) {
            affected.push(id);
        }
    }
    work.invalidate(views.statuses.changed(&affected));
    let announce: Vec<String> = if system_still_exists {
        affected
    } else {
        affected.into_iter().skip(1).collect()
    };
    let statuses = views.statuses.clone();
    work.signal_later(async move { statuses.signals_for(announce).await });
    Ok(())
}
