//! The OpenAPI 3.1 document, generated from the handlers and their types.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "slod", description = "An SLO service for health-checked systems."),
    paths(
        crate::systems::create, crate::systems::list, crate::systems::get, crate::systems::update,
        crate::systems::delete, crate::systems::health,
        crate::checks::create, crate::checks::list, crate::checks::update, crate::checks::delete,
        crate::checks::post_results, crate::checks::list_results,
        crate::objectives::create, crate::objectives::list, crate::objectives::get, crate::objectives::update,
        crate::objectives::delete, crate::objectives::for_system, crate::objectives::bulk_status, crate::objectives::downtime,
        crate::maintenance::create, crate::maintenance::cancel, crate::maintenance::get, crate::maintenance::list,
        crate::maintenance::for_system,
        crate::incidents::create, crate::incidents::resolve, crate::incidents::get, crate::incidents::list,
        crate::incidents::for_system,
        crate::bookkeeping::snapshots, crate::bookkeeping::streaks, crate::bookkeeping::achievements,
        crate::bookkeeping::milestones,
        crate::signals::stream,
        crate::dashboard::page,
        crate::ops::healthz, crate::ops::readyz, crate::ops::metrics, crate::ops::openapi,
    ),
    components(schemas(crate::checks::ResultInput)),
    modifiers(&BearerAuth),
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

/// The document served at `/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}
