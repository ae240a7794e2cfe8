//! The delivery worker, on every replica: claims due deliveries under a lease, sends each on a
//! task of its own (at most [`IN_FLIGHT`] at once), and records each attempt. Claims keep
//! replicas from sending the same row; a replica that dies mid-send lets its lease lapse and
//! the row goes out again, with the same idempotency key.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::notifications::Notifications;
use crate::state::AppState;

/// Most sends in flight per replica.
pub const IN_FLIGHT: usize = 16;
/// How often the outbox is looked at when it was empty.
const POLL: Duration = Duration::from_millis(500);
/// How long a claim holds: well over a send's timeout, so a live worker records in time.
const LEASE: Duration = Duration::from_secs(60);

/// Drains the outbox forever. A failed claim or record is logged; the next poll goes on.
pub async fn deliver_forever(state: AppState) {
    let notifications: Notifications = axum::extract::FromRef::from_ref(&state);
    let claim = uuid::Uuid::new_v4().to_string();
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    loop {
        let free = permits.available_permits();
        let claimed = if free == 0 {
            Vec::new()
        } else {
            match notifications.claim(&claim, free, LEASE).await {
                Ok(claimed) => claimed,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming deliveries failed");
                    Vec::new()
                }
            }
        };
        if claimed.is_empty() {
            tokio::time::sleep(POLL).await;
            continue;
        }
        for one in claimed {
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return;
            };
            let notifications = notifications.clone();
            let claim = claim.clone();
            tokio::spawn(async move {
                let id = one.delivery.id.clone();
                if let Err(e) = notifications.deliver(one, &claim).await {
                    tracing::warn!(delivery = %id, error = %e, "recording a delivery failed");
                }
                drop(permit);
            });
        }
    }
}
