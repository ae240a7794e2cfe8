//! Operations endpoints: liveness, readiness, metrics.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;

use crate::state::AppState;

/// Liveness: the process answers.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Liveness {
    status: &'static str,
}

/// Readiness: the database must answer; the cache's state is reported, never fatal (reads
/// fall through to the database when it is down).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Readiness {
    status: &'static str,
    database: &'static str,
    cache: CacheReadiness,
    /// `local` (one replica), `connected` (receiving the other replicas' signals) or
    /// `connecting`. Never fatal: local dashboards get their signals either way.
    signals: &'static str,
}

/// The cache's provider and its breaker.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CacheReadiness {
    provider: &'static str,
    breaker: &'static str,
}

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Liveness)))]
pub async fn healthz() -> Json<Liveness> {
    Json(Liveness { status: "ok" })
}

#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let database_ok = state.store.ping().await.is_ok();
    let breaker = match state.cache.breaker_state() {
        slod_cache::BreakerState::Closed => "closed",
        slod_cache::BreakerState::Open => "open",
        slod_cache::BreakerState::HalfOpen => "half_open",
    };
    let body = Readiness {
        status: if database_ok { "ready" } else { "unavailable" },
        database: if database_ok { "ok" } else { "unreachable" },
        cache: CacheReadiness {
            provider: state.cache.provider_kind(),
            breaker,
        },
        signals: match state.signals.fanout_connected() {
            None => "local",
            Some(true) => "connected",
            Some(false) => "connecting",
        },
    };
    let status = if database_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    crate::telemetry::process_collector().collect();
    let (open, idle) = state.store.pool_connections();
    metrics::gauge!("slod_store_pool_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("slod_store_pool_connections", "state" => "in_use")
        .set((open as usize).saturating_sub(idle) as f64);
    state.metrics.run_upkeep();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
