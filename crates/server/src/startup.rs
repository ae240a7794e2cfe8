//! Startup: the state, the router, serving with graceful shutdown, and the background tasks
//! (jobs, probes, alert evaluation).

use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use slod_cache::{CacheConfig, CacheManager};
use slod_store::{Store, StoreOptions};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::signals::Signals;
use crate::state::{AppState, Core, Handles};
use crate::telemetry;
use crate::views::Views;

/// A built service, ready to serve.
pub struct App {
    pub state: AppState,
    pub router: Router,
}

/// Opens the database (migrating it), builds the cache, the read models and the router.
pub async fn build(config: Config) -> anyhow::Result<App> {
    let metrics = telemetry::metrics();
    let options = StoreOptions {
        pg_schema: config.database_schema.clone(),
        max_connections: None,
    };
    let acquire_timeout = Duration::from_millis(config.database_timeout_ms);
    let store = Store::open_with_acquire_timeout(&config.database_url, options, acquire_timeout)
        .await
        .with_context(|| format!("opening the database {}", redact(&config.database_url)))?;
    store.migrate().await.context("migrating the database")?;
    let cache = CacheManager::new(&CacheConfig {
        provider: config.cache.clone(),
        namespace: config.cache_namespace.clone(),
        ..CacheConfig::default()
    })
    .context("building the cache")?;
    let ttl = config.cache_ttl_seconds.map(Duration::from_secs);
    let views = Views::new(&cache, store.clone(), ttl).context("building the read models")?;
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
    let state = AppState::new(Handles {
        config: Arc::new(config),
        core: Core::new(store.clone(), views.clone(), signals.clone()),
        store,
        cache,
        views,
        signals,
        metrics,
        outbound: crate::notifications::send::client(),
    });
    Ok(App {
        router: crate::router::router(state.clone()),
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

/// How long a shutdown waits for requests in flight before it drops them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves until `shutdown` resolves, then stops accepting, ends every event stream, lets
/// requests in flight finish (for at most [`SHUTDOWN_GRACE`]), sends this replica's last
/// signals to the others (for at most 2 s) and closes the database.
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
        config
            .alerts
            .then(|| tokio::spawn(crate::jobs::evaluate_forever(app.state.clone()))),
        config
            .deliveries
            .then(|| tokio::spawn(crate::jobs::deliver_forever(app.state.clone()))),
    ]
    .into_iter()
    .flatten()
    .collect();
    let signals = app.state.signals.clone();
    let (draining, drain_started) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        shutdown.await;
        // Event streams never end by themselves: end them, or the drain waits for clients.
        signals.close_streams();
        let _ = draining.send(());
    };
    let serving = axum::serve(listener, app.router)
        .with_graceful_shutdown(shutdown)
        .into_future();
    let deadline = async move {
        if drain_started.await.is_ok() {
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    let served = tokio::select! {
        served = serving => served.context("serving HTTP"),
        () = deadline => {
            tracing::warn!(grace = ?SHUTDOWN_GRACE, "requests still in flight after the shutdown grace: dropping them");
            Ok(())
        }
    };
    for task in background {
        task.abort();
    }
    // Signals of the last requests still reach the other replicas.
    app.state.signals.flush(Duration::from_secs(2)).await;
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
