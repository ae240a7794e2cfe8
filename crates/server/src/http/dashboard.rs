//! The live dashboard at `/`: one self-contained page (no build step, no external assets) that
//! reads the public API and refetches whenever a signal arrives.

use axum::http::header;
use axum::response::IntoResponse;

/// The page, with the names of the signals it refreshes on filled in from the catalogue (the
/// one place signal names are written).
static PAGE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let names: Vec<&str> = crate::signals::Signal::NAMES
        .into_iter()
        .filter(|name| crate::signals::Signal::refreshes_dashboard(name))
        .collect();
    let list = serde_json::to_string(&names).expect("names always encode");
    include_str!("assets/index.html").replace("/*SIGNALS*/[]", &list)
});

#[utoipa::path(get, path = "/", tag = "dashboard", responses((status = 200, description = "The live dashboard", content_type = "text/html")))]
pub async fn page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        PAGE.as_str(),
    )
}
