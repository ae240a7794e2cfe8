//! Leases: each run of a periodic job belongs to a period (a UTC day, a week's Monday) and is
//! claimed in the database before it starts, so with several replicas exactly one runs it; a
//! replica that dies mid-run lets its lease expire and another takes the run over.

use jiff::{SignedDuration, Timestamp};

use crate::error::ServiceResult;
use crate::state::AppState;

/// How long a claim holds before another replica may take the run over.
const LEASE: SignedDuration = SignedDuration::from_mins(15);

/// What a call to a job did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// This process ran it.
    Ran,
    /// Another replica claimed this period (or already finished it).
    Claimed,
}

/// A claimed run: who holds it, for which job and period.
pub struct Lease {
    pub job: &'static str,
    pub period: String,
    pub owner: String,
}

/// Claims `job`'s run for `period` at `now`; `None` when another replica holds or finished it
/// (unless `force`, an operator's re-run, which runs regardless).
pub async fn claim(
    state: &AppState,
    job: &'static str,
    period: String,
    now: Timestamp,
    force: bool,
) -> ServiceResult<Option<Lease>> {
    let owner = uuid::Uuid::new_v4().to_string();
    let lease_until = now.checked_add(LEASE).unwrap_or(now);
    let won = state
        .store
        .claim_job(job, &period, &owner, now, lease_until)
        .await?;
    if !won && !force {
        metrics::counter!("slod_job_runs_total", "job" => job, "outcome" => "claimed_elsewhere")
            .increment(1);
        return Ok(None);
    }
    Ok(Some(Lease { job, period, owner }))
}
