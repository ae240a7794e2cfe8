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

/// What the service runs on. Cheap to clone: one reference count (axum clones the state, or
/// a part of it, for every request and every middleware; cloning each handle separately was
/// a tenth of a warm read's CPU).
#[derive(Clone)]
pub struct AppState(Arc<Handles>);

impl std::ops::Deref for AppState {
    type Target = Handles;

    fn deref(&self) -> &Handles {
        &self.0
    }
}

impl AppState {
    /// The state over `handles`.
    pub fn new(handles: Handles) -> Self {
        AppState(Arc::new(handles))
    }
}

/// The handles behind an [`AppState`].
pub struct Handles {
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
    /// The store, views and signals every service is built from.
    pub core: Core,
}

/// What every service is made of: the store to write through, the read models to invalidate
/// and read, and the signal hub its units of work emit to. Cheap to clone: one reference
/// count, since every request builds its service from one.
#[derive(Clone)]
pub struct Core(Arc<CoreParts>);

/// The handles behind a [`Core`].
pub struct CoreParts {
    pub store: Store,
    pub views: Views,
    pub signals: Signals,
}

impl std::ops::Deref for Core {
    type Target = CoreParts;

    fn deref(&self) -> &CoreParts {
        &self.0
    }
}

impl axum::extract::FromRef<AppState> for Core {
    fn from_ref(state: &AppState) -> Core {
        Core::of(state)
    }
}

impl Core {
    /// A core over these handles.
    pub fn new(store: Store, views: Views, signals: Signals) -> Core {
        Core(Arc::new(CoreParts {
            store,
            views,
            signals,
        }))
    }

    /// The core of `state`.
    pub fn of(state: &AppState) -> Core {
        state.core.clone()
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
