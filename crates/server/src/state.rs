//! The shared handles every part of the service reaches: a leaf that imports no handler and no
//! domain. Handlers take only the part they need, as an axum `FromRef` substate (each domain's
//! service builds itself from these handles).

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use slod_cache::CacheManager;
use slod_store::Store;

use crate::config::Config;
use crate::signals::Signals;
use crate::views::Views;

/// What the service runs on. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub cache: CacheManager,
    /// The cached read models.
    pub views: Views,
    /// Live signals to open dashboards, here and on the other replicas.
    pub signals: Signals,
    pub metrics: PrometheusHandle,
    /// The HTTP client notifications go out through: redirects not followed, every request
    /// timed out. One per process, so connections are reused.
    pub outbound: reqwest::Client,
}

/// What every service is made of: the store to write through, the read models to invalidate
/// and read, and the signal hub its units of work emit to. Cheap to clone.
#[derive(Clone)]
pub struct Core {
    pub store: Store,
    pub views: Views,
    pub signals: Signals,
}

impl axum::extract::FromRef<AppState> for Core {
    fn from_ref(state: &AppState) -> Core {
        Core::of(state)
    }
}

impl Core {
    /// The core of `state`.
    pub fn of(state: &AppState) -> Core {
        Core {
            store: state.store.clone(),
            views: state.views.clone(),
            signals: state.signals.clone(),
        }
    }

    /// Begins a unit of work of `kind`.
    pub async fn begin(
        &self,
        kind: crate::work::Mutation,
    ) -> crate::error::ServiceResult<crate::work::Work> {
        crate::work::Work::begin(&self.store, &self.signals, kind).await
    }
}

impl axum::extract::FromRef<AppState> for Signals {
    fn from_ref(state: &AppState) -> Signals {
        state.signals.clone()
    }
}
