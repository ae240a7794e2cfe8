//! Startup: state, router, serving with graceful shutdown.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, patch, post, MethodRouter};
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use slod_cache::{CacheConfig, CacheManager};
use slod_store::{Scope, Store, StoreOptions};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::error::ApiError;
use crate::record_cache::RecordCache;
use crate::signals::Signals;
use crate::views::Views;
use crate::{
    auth, bookkeeping, checks, dashboard, incidents, maintenance, objectives, ops, signals,
    systems, telemetry,
};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub cache: CacheManager,
    pub config: Arc<Config>,
    pub metrics: PrometheusHandle,
    /// The cached read models of the dashboard.
    pub views: Views,
    /// Cached reads of incidents, per entity, per system and per list shape.
    pub incidents: RecordCache,
    /// Cached reads of maintenance windows, likewise.
    pub maintenance: RecordCache,
    /// Live signals to open dashboards.
    pub signals: Signals,
}

/// A built service, ready to serve.
pub struct App {
    pub state: AppState,
    pub router: Router,
}

/// Opens the database (migrating it), builds the cache and the router.
pub async fn build(config: Config) -> anyhow::Result<App> {
    let metrics = telemetry::metrics();
    let options = StoreOptions {
        pg_schema: config.database_schema.clone(),
        max_connections: None,
    };
    let store = Store::open_with(&config.database_url, options)
        .await
        .with_context(|| format!("opening the database {}", redact(&config.database_url)))?;
    store.migrate().await.context("migrating the database")?;
    let cache = CacheManager::new(&CacheConfig {
        provider: config.cache.clone(),
        namespace: config.cache_namespace.clone(),
        ..CacheConfig::default()
    })
    .context("building the cache")?;
    let views = Views::new(&cache, store.clone()).context("building the dashboard views")?;
    let incidents =
        RecordCache::new(&cache, "incidents", "incident").context("building the incident cache")?;
    let maintenance = RecordCache::new(&cache, "maintenance", "maintenance")
        .context("building the maintenance cache")?;
    // Replicas share a Redis cache; their signals meet there too. A memory cache cannot be
    // shared, so replicas on one database need SLOD_CACHE=redis://... (or none).
    let signals = if cache.provider_kind() == "redis" {
        Signals::clustered(&config.cache, &config.cache_namespace)
            .context("connecting signals to the other replicas")?
    } else {
        Signals::default()
    };
    if store.backend() == slod_store::Backend::Postgres && cache.provider_kind() == "memory" {
        tracing::warn!(
            "SLOD_CACHE=memory on PostgreSQL: fine for one replica; several replicas need \
             SLOD_CACHE=redis://... so that invalidations and signals reach every replica"
        );
    }
    let state = AppState {
        store,
        cache,
        config: Arc::new(config),
        metrics,
        views,
        incidents,
        maintenance,
        signals,
    };
    Ok(App {
        router: router(state.clone()),
        state,
    })
}

/// A URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***{}", &url[..scheme], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Every route, each with the scope it needs.
pub fn router(state: AppState) -> Router {
    let scoped = |scope: Scope| {
        let state = state.clone();
        move |route: MethodRouter<AppState>| {
            route.route_layer(from_fn_with_state((state.clone(), scope), auth::require))
        }
    };
    let (read, ingest, manage) = (
        scoped(Scope::Read),
        scoped(Scope::Ingest),
        scoped(Scope::Manage),
    );

    let api = Router::new()
        .route(
            "/systems",
            read(get(systems::list)).merge(manage(post(systems::create))),
        )
        .route(
            "/systems/{id}",
            read(get(systems::get)).merge(manage(patch(systems::update).delete(systems::delete))),
        )
        .route("/systems/{id}/health", read(get(systems::health)))
        .route(
            "/systems/{id}/checks",
            read(get(checks::list)).merge(manage(post(checks::create))),
        )
        .route(
            "/checks/{check_id}",
            manage(patch(checks::update).delete(checks::delete)),
        )
        .route(
            "/checks/{check_id}/results",
            read(get(checks::list_results)).merge(ingest(post(checks::post_results))),
        )
        .route(
            "/systems/{id}/objectives",
            read(get(objectives::for_system)),
        )
        .route(
            "/objectives",
            read(get(objectives::list)).merge(manage(post(objectives::create))),
        )
        .route(
            "/objectives/bulk-status",
            read(post(objectives::bulk_status)),
        )
        .route(
            "/objectives/{id}",
            read(get(objectives::get))
                .merge(manage(patch(objectives::update).delete(objectives::delete))),
        )
        .route("/objectives/{id}/downtime", read(get(objectives::downtime)))
        .route(
            "/maintenances",
            read(get(maintenance::list)).merge(manage(post(maintenance::create))),
        )
        .route("/maintenances/{id}", read(get(maintenance::get)))
        .route(
            "/maintenances/{id}/cancel",
            manage(post(maintenance::cancel)),
        )
        .route(
            "/systems/{id}/maintenances",
            read(get(maintenance::for_system)),
        )
        .route(
            "/incidents",
            read(get(incidents::list)).merge(manage(post(incidents::create))),
        )
        .route("/incidents/{id}", read(get(incidents::get)))
        .route("/incidents/{id}/resolve", manage(post(incidents::resolve)))
        .route("/systems/{id}/incidents", read(get(incidents::for_system)))
        .route(
            "/objectives/{id}/snapshots",
            read(get(bookkeeping::snapshots)),
        )
        .route("/streaks", read(get(bookkeeping::streaks)))
        .route(
            "/systems/{id}/achievements",
            read(get(bookkeeping::achievements)),
        )
        .route("/milestones", read(get(bookkeeping::milestones)))
        .route("/signals", read(get(signals::stream)));

    Router::new()
        .nest("/api/v1", api)
        .route("/", get(dashboard::page))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(from_fn(telemetry::track))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until `shutdown` resolves, then lets requests in flight finish.
pub async fn serve(
    app: App,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let config = &app.state.config;
    let background: Vec<_> = [
        config
            .jobs
            .then(|| tokio::spawn(crate::jobs::schedule(app.state.clone()))),
        config
            .probes
            .then(|| tokio::spawn(crate::probes::run(app.state.clone()))),
    ]
    .into_iter()
    .flatten()
    .collect();
    let served = axum::serve(listener, app.router)
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP");
    for task in background {
        task.abort();
    }
    // Signals of the last requests still reach the other replicas.
    app.state
        .signals
        .flush(std::time::Duration::from_secs(2))
        .await;
    app.state.store.close().await;
    served
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
