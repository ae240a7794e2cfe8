//! The delivery worker, on every replica: claims due deliveries under a lease, sends each on a
//! task of its own (at most [`IN_FLIGHT`] at once, at most [`PER_CHANNEL`] to one channel, so
//! a slow channel cannot take every slot), and records each attempt. Claims keep replicas
//! from sending the same row; a replica that dies mid-send lets its lease lapse and the row
//! goes out again, with the same idempotency key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::notifications::Notifications;
use crate::state::AppState;

/// Most sends in flight per replica.
pub const IN_FLIGHT: usize = 16;
/// Most sends in flight to one channel per replica. A channel at the limit is not claimed
/// from; rows of it claimed in the same batch beyond the limit are handed back at once.
pub const PER_CHANNEL: usize = 4;
/// How often the outbox is looked at when it was empty.
const POLL: Duration = Duration::from_millis(500);
/// How long a claim holds: six times a send's timeout, so a live worker records in time.
const LEASE: Duration = Duration::from_secs(60);

/// Sends in flight per channel.
type Busy = Arc<Mutex<HashMap<String, usize>>>;

/// Drains the outbox forever. A failed claim or record is logged; the next poll goes on.
pub async fn deliver_forever(state: AppState) {
    let notifications: Notifications = axum::extract::FromRef::from_ref(&state);
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let busy: Busy = Arc::default();
    loop {
        let free = permits.available_permits();
        let full: Vec<String> = busy
            .lock()
            .expect("never poisoned")
            .iter()
            .filter(|(_, n)| **n >= PER_CHANNEL)
            .map(|(channel, _)| channel.clone())
            .collect();
        let (claim, claimed) = if free == 0 {
            (String::new(), Vec::new())
        } else {
            notifications
                .claim(free, LEASE, &full)
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "claiming deliveries failed");
                    (String::new(), Vec::new())
                })
        };
        if claimed.is_empty() {
            tokio::time::sleep(POLL).await;
            continue;
        }
        let mut no_slot = Vec::new();
        for one in claimed {
            let channel = one.delivery.channel_id.clone();
            if !take_slot(&busy, &channel) {
                no_slot.push(one.delivery.id);
                continue;
            }
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return;
            };
            let (notifications, claim, busy) = (notifications.clone(), claim.clone(), busy.clone());
            tokio::spawn(async move {
                let id = one.delivery.id.clone();
                if let Err(e) = notifications.deliver(one, &claim).await {
                    tracing::warn!(delivery = %id, error = %e, "recording a delivery failed");
                }
                give_slot(&busy, &channel);
                drop(permit);
            });
        }
        if let Err(e) = notifications.release(&claim, &no_slot).await {
            tracing::warn!(error = %e, "handing back deliveries failed; their lease lapses");
        }
    }
}

/// Takes one of `channel`'s slots; `false` when it has none left.
fn take_slot(busy: &Busy, channel: &str) -> bool {
    let mut busy = busy.lock().expect("never poisoned");
    let n = busy.entry(channel.to_owned()).or_default();
    if *n >= PER_CHANNEL {
        return false;
    }
    *n += 1;
    true
}

fn give_slot(busy: &Busy, channel: &str) {
    let mut busy = busy.lock().expect("never poisoned");
    if let Some(n) = busy.get_mut(channel) {
        *n -= 1;
        if *n == 0 {
            busy.remove(channel);
        }
    }
}
