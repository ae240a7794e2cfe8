//! Alert evaluation, once per cluster: every replica tries to hold the standing lease
//! `alerts` each interval, and the one holding it evaluates. A replica that dies lets the lease
//! expire (three intervals, at least a minute) and another takes over.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::alerts::Alerts;
use crate::state::AppState;

/// The lease's name.
const LEASE: &str = "alerts";

/// How long a held lease lasts without renewal.
fn lease_length(interval: Duration) -> SignedDuration {
    SignedDuration::try_from(interval.saturating_mul(3).max(Duration::from_secs(60)))
        .unwrap_or(SignedDuration::from_mins(1))
}

/// Evaluates every `SLOD_ALERTS_INTERVAL` seconds while this replica holds the lease, forever.
/// A failed evaluation is logged; the next interval tries again.
pub async fn evaluate_forever(state: AppState) {
    let interval = Duration::from_secs(state.config.alerts_interval);
    let alerts = Alerts::of(&state);
    let owner = uuid::Uuid::new_v4().to_string();
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = Timestamp::now();
        let until = now.checked_add(lease_length(interval)).unwrap_or(now);
        match state.store.hold_lease(LEASE, &owner, now, until).await {
            Ok(true) => match alerts.evaluate(now).await {
                Ok(done) => tracing::debug!(?done, "alerts evaluated"),
                Err(e) => {
                    tracing::warn!(error = %e, "alert evaluation failed; retrying next interval")
                }
            },
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "taking the alerts lease failed"),
        }
    }
}
