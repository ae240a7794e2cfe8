//! The weekly digest (Monday 09:00 UTC; engine.md, "Weekly digest"): totals, tiers, the best
//! and the worst objectives, logged and announced as `slo.digest`.

use std::collections::HashMap;

use jiff::civil::Date;
use jiff::Timestamp;
use slod_store::StoreError;

use super::daily::all_objectives;
use super::lease::{claim, Outcome};
use crate::error::ServiceResult;
use crate::signals::Signal;
use crate::state::{AppState, Core};
use crate::views::compute_statuses;
use crate::work::Mutation;

/// Every system's name by id, a page (of up to 1,000) per query.
async fn system_names(state: &AppState) -> Result<HashMap<String, String>, StoreError> {
    let mut out = HashMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = state
            .store
            .list_systems(slod_store::MAX_PAGE, cursor.as_deref())
            .await?;
        out.extend(page.items.into_iter().map(|s| (s.id, s.name)));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}

/// Runs the weekly digest for the week starting `monday` unless another replica claimed it
/// (with `force`, even so). The run is finished and the digest announced in one unit of work.
pub async fn run_digest(
    state: &AppState,
    monday: Date,
    now: Timestamp,
    force: bool,
) -> ServiceResult<(Outcome, Option<slod_engine::digest::Digest>)> {
    let Some(lease) = claim(state, "digest", monday.to_string(), now, force).await? else {
        return Ok((Outcome::Claimed, None));
    };
    let objectives = all_objectives(state).await?;
    let mut systems: Vec<String> = objectives.iter().map(|o| o.system_id.clone()).collect();
    systems.sort_unstable();
    systems.dedup();
    let statuses = compute_statuses(&state.store, &systems, now).await?;
    let names = system_names(state).await?;
    let mut entries = Vec::with_capacity(objectives.len());
    for system in &systems {
        let name = names.get(system).cloned().unwrap_or_else(|| system.clone());
        for item in statuses.get(system).into_iter().flat_map(|all| all.iter()) {
            entries.push(slod_engine::digest::entry(
                &item.status,
                item.objective.name.clone(),
                name.clone(),
            ));
        }
    }
    let digest = slod_engine::digest::digest(entries, now);
    tracing::info!(week = %lease.period, digest = %serde_json::to_string(&digest).unwrap_or_default(), "weekly digest");
    let mut work = Core::of(state).begin(Mutation::SendDigest).await?;
    work.tx()
        .finish_job(
            lease.job,
            &lease.period,
            &lease.owner,
            Timestamp::now().max(now),
        )
        .await?;
    work.signal(Signal::Digest(Box::new(digest.clone())));
    work.commit().await?;
    metrics::counter!("slod_job_runs_total", "job" => "digest", "outcome" => "ran").increment(1);
    metrics::gauge!("slod_job_last_success_timestamp_seconds", "job" => "digest")
        .set(jiff::Timestamp::now().as_second() as f64);
    Ok((Outcome::Ran, Some(digest)))
}
