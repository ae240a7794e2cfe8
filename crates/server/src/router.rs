//! The router: every route of the API with the scope it needs, and the operations routes.

use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{delete, get, patch, post, put, MethodRouter};
use axum::Router;
use slod_store::Scope;
use tower_http::trace::TraceLayer;

use crate::http::error::ApiError;
use crate::http::extract::MAX_BODY_BYTES;
use crate::http::{auth, dashboard, metrics, ops, sse};
use crate::state::AppState;
use crate::{
    alerts, bookkeeping, checks, incidents, maintenance, notifications, objectives, openapi,
    systems,
};

/// Every route, each with the scope it needs.
pub fn router(state: AppState) -> Router {
    let scoped = |scope: Scope| {
        let state = state.clone();
        move |route: MethodRouter<AppState>| {
            route.route_layer(from_fn_with_state((state.clone(), scope), auth::require))
        }
    };
    let stream = {
        let state = state.clone();
        move |route: MethodRouter<AppState>| {
            route.route_layer(from_fn_with_state(
                (state.clone(), Scope::Read),
                auth::require_stream,
            ))
        }
    };
    let (read, ingest, manage) = (
        scoped(Scope::Read),
        scoped(Scope::Ingest),
        scoped(Scope::Manage),
    );

    use alerts::routes as al;
    use bookkeeping::routes as bk;
    use checks::routes as ck;
    use incidents::routes as inc;
    use maintenance::routes as mt;
    use notifications::routes as nt;
    use objectives::routes as obj;
    use systems::routes as sys;
    let api = Router::new()
        .route(
            "/systems",
            read(get(sys::list)).merge(manage(post(sys::create))),
        )
        .route(
            "/systems/{id}",
            read(get(sys::get)).merge(manage(patch(sys::update).delete(sys::delete))),
        )
        .route("/systems/{id}/health", read(get(sys::health)))
        .route(
            "/systems/{id}/checks",
            read(get(ck::list)).merge(manage(post(ck::create))),
        )
        .route(
            "/checks/{check_id}",
            manage(patch(ck::update).delete(ck::delete)),
        )
        .route(
            "/checks/{check_id}/results",
            read(get(ck::list_results)).merge(ingest(post(ck::post_results))),
        )
        .route("/systems/{id}/objectives", read(get(obj::for_system)))
        .route(
            "/objectives",
            read(get(obj::list)).merge(manage(post(obj::create))),
        )
        .route("/objectives/bulk-status", read(post(obj::bulk_status)))
        .route(
            "/objectives/{id}",
            read(get(obj::get)).merge(manage(patch(obj::update).delete(obj::delete))),
        )
        .route("/objectives/{id}/downtime", read(get(obj::downtime)))
        .route(
            "/objectives/{id}/budget-history",
            read(get(obj::budget_history)),
        )
        .route(
            "/maintenances",
            read(get(mt::list)).merge(manage(post(mt::create))),
        )
        .route("/maintenances/{id}", read(get(mt::get)))
        .route("/maintenances/{id}/cancel", manage(post(mt::cancel)))
        .route("/systems/{id}/maintenances", read(get(mt::for_system)))
        .route(
            "/incidents",
            read(get(inc::list)).merge(manage(post(inc::create))),
        )
        .route("/incidents/{id}", read(get(inc::get)))
        .route("/incidents/{id}/resolve", manage(post(inc::resolve)))
        .route("/systems/{id}/incidents", read(get(inc::for_system)))
        .route("/objectives/{id}/snapshots", read(get(bk::snapshots)))
        .route("/streaks", read(get(bk::streaks)))
        .route("/systems/{id}/achievements", read(get(bk::achievements)))
        .route("/milestones", read(get(bk::milestones)))
        .route("/alerts", read(get(al::list)))
        .route("/alerts/{id}", read(get(al::get)))
        .route(
            "/silences",
            read(get(al::list_silences)).merge(manage(post(al::create_silence))),
        )
        .route(
            "/silences/{id}",
            read(get(al::get_silence)).merge(manage(delete(al::end_silence))),
        )
        .route(
            "/notification-channels",
            manage(get(nt::list_channels).post(nt::create_channel)),
        )
        .route(
            "/notification-channels/{id}",
            manage(
                get(nt::get_channel)
                    .put(nt::replace_channel)
                    .delete(nt::delete_channel),
            ),
        )
        .route(
            "/notification-channels/{id}/test",
            manage(post(nt::test_channel)),
        )
        .route(
            "/notification-policies",
            read(get(nt::list_policies)).merge(manage(post(nt::create_policy))),
        )
        .route(
            "/notification-policies/{id}",
            read(get(nt::get_policy))
                .merge(manage(put(nt::replace_policy).delete(nt::delete_policy))),
        )
        .route("/notification-deliveries", read(get(nt::list_deliveries)))
        .route("/objectives/{id}/gate", read(get(obj::gate)))
        .route("/systems/{id}/gate", read(get(obj::system_gate)))
        .route("/signals", stream(get(sse::stream)));

    Router::new()
        .nest("/api/v1", api)
        .route("/", get(dashboard::page))
        .route("/assets/{*path}", get(dashboard::assets))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/metrics/slo", read(get(objectives::routes::slo_metrics)))
        .route("/openapi.json", get(openapi::serve))
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(from_fn(metrics::track))
        // Spans name the path, never the query: `?access_token=` must not reach a log.
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::extract::Request| {
            tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
        }))
        .with_state(state)
}
