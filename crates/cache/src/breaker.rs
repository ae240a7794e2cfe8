//! Timeouts and a circuit breaker around a remote provider (G6): a slow or failing cache must
//! cost a read no more than one timeout, and an outage must soon cost nothing at all.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::provider::ProviderError;

/// Why a provider call did not produce an answer.
#[derive(Debug)]
pub(crate) enum Unavailable {
    Failed(ProviderError),
    TimedOut,
    BreakerOpen,
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unavailable::Failed(e) => write!(f, "provider error: {e}"),
            Unavailable::TimedOut => f.write_str("provider call timed out"),
            Unavailable::BreakerOpen => f.write_str("circuit breaker open"),
        }
    }
}

/// The breaker's externally visible state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are skipped until the cool-down ends.
    Open,
    /// One probe call is allowed through to test the provider.
    HalfOpen,
}

#[derive(Clone, Copy)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// A probe is in flight; if its caller vanished without an answer, another probe is
    /// allowed at `reprobe_at` rather than leaving the breaker stuck half-open.
    HalfOpen {
        reprobe_at: Instant,
    },
}

/// Keys a batch read may move per timeout: a batch of 1,000 keys (a bulk-status of 1,000
/// systems) gets five timeouts.
pub(crate) const BATCH_KEYS_PER_TIMEOUT: usize = 250;

/// Opens after `threshold` consecutive failures, stays open for `cooldown`, then lets one probe
/// through: success closes it, failure re-opens it.
pub(crate) struct Breaker {
    state: Mutex<State>,
    threshold: u32,
    cooldown: Duration,
    timeout: Duration,
    open_gauge: metrics::Gauge,
}

impl Breaker {
    pub(crate) fn new(
        threshold: u32,
        cooldown: Duration,
        timeout: Duration,
        provider: &str,
    ) -> Self {
        let open_gauge =
            metrics::gauge!("slod_cache_breaker_open", "provider" => provider.to_owned());
        open_gauge.set(0.0);
        Breaker {
            state: Mutex::new(State::Closed { failures: 0 }),
            threshold: threshold.max(1),
            cooldown,
            timeout,
            open_gauge,
        }
    }

    pub(crate) fn state(&self) -> BreakerState {
        match *self.lock() {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn allow(&self) -> bool {
        let mut state = self.lock();
        let now = Instant::now();
        match *state {
            State::Closed { .. } => true,
            State::Open { until } | State::HalfOpen { reprobe_at: until } if now >= until => {
                *state = State::HalfOpen {
                    reprobe_at: now + self.cooldown,
                };
                true
            }
            State::Open { .. } | State::HalfOpen { .. } => false,
        }
    }

    fn record(&self, ok: bool) {
        let mut state = self.lock();
        *state = match (*state, ok) {
            (_, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) if failures + 1 < self.threshold => State::Closed {
                failures: failures + 1,
            },
            (_, false) => State::Open {
                until: Instant::now() + self.cooldown,
            },
        };
        self.open_gauge
            .set(if matches!(*state, State::Closed { .. }) {
                0.0
            } else {
                1.0
            });
    }

    /// Runs one provider call under the timeout, unless the breaker is open.
    pub(crate) async fn call<R>(
        &self,
        call: impl Future<Output = Result<R, ProviderError>>,
    ) -> Result<R, Unavailable> {
        self.call_within(self.timeout, call).await
    }

    /// Runs one call of a batch of `items` keys: the timeout grows with the batch (one more
    /// timeout per [`BATCH_KEYS_PER_TIMEOUT`] keys), since a batch moves that many values and a
    /// fixed timeout would turn every large warm read into a miss. A Redis that does not answer
    /// still costs a bounded wait.
    pub(crate) async fn call_batch<R>(
        &self,
        items: usize,
        call: impl Future<Output = Result<R, ProviderError>>,
    ) -> Result<R, Unavailable> {
        let extra = u32::try_from(items / BATCH_KEYS_PER_TIMEOUT).unwrap_or(u32::MAX);
        self.call_within(self.timeout.saturating_mul(extra.saturating_add(1)), call)
            .await
    }

    async fn call_within<R>(
        &self,
        timeout: Duration,
        call: impl Future<Output = Result<R, ProviderError>>,
    ) -> Result<R, Unavailable> {
        if !self.allow() {
            return Err(Unavailable::BreakerOpen);
        }
        let outcome = match tokio::time::timeout(timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(Unavailable::Failed(e)),
            Err(_) => Err(Unavailable::TimedOut),
        };
        self.record(outcome.is_ok());
        outcome
    }
}
