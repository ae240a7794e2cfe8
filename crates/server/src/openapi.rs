//! The OpenAPI 3.1 document, generated from the handlers and their types.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::signals::Signal;

#[derive(OpenApi)]
#[openapi(
    info(title = "slod", description = "An SLO service for health-checked systems."),
    paths(
        crate::systems::routes::create, crate::systems::routes::list, crate::systems::routes::get,
        crate::systems::routes::update, crate::systems::routes::delete, crate::systems::routes::health,
        crate::checks::routes::create, crate::checks::routes::list, crate::checks::routes::update,
        crate::checks::routes::delete, crate::checks::routes::post_results, crate::checks::routes::list_results,
        crate::objectives::routes::create, crate::objectives::routes::list, crate::objectives::routes::get,
        crate::objectives::routes::update, crate::objectives::routes::delete, crate::objectives::routes::for_system,
        crate::objectives::routes::bulk_status, crate::objectives::routes::downtime,
        crate::maintenance::routes::create, crate::maintenance::routes::cancel, crate::maintenance::routes::get,
        crate::maintenance::routes::list, crate::maintenance::routes::for_system,
        crate::incidents::routes::create, crate::incidents::routes::resolve, crate::incidents::routes::get,
        crate::incidents::routes::list, crate::incidents::routes::for_system,
        crate::bookkeeping::routes::snapshots, crate::bookkeeping::routes::streaks,
        crate::bookkeeping::routes::achievements, crate::bookkeeping::routes::milestones,
        crate::http::sse::stream,
        crate::http::dashboard::page,
        crate::http::ops::healthz, crate::http::ops::readyz, crate::http::ops::metrics, serve,
    ),
    components(schemas(crate::checks::ResultInput)),
    modifiers(&BearerAuth, &SignalCatalogue),
    security(("bearer" = [])),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Fills the event list of `/api/v1/signals` in from the signal catalogue.
struct SignalCatalogue;

impl Modify for SignalCatalogue {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let stream = openapi
            .paths
            .paths
            .get_mut("/api/v1/signals")
            .and_then(|item| item.get.as_mut())
            .and_then(|get| get.responses.responses.get_mut("200"));
        if let Some(utoipa::openapi::RefOr::T(response)) = stream {
            response.description = Signal::describe();
        }
    }
}

#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200, description = "OpenAPI 3.1 document of this API")))]
pub async fn serve() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(document())
}

/// The document served at `/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}
