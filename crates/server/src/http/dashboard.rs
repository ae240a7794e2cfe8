//! The live dashboard at `/`: one self-contained page (no build step, no external assets) that
//! reads the public API and refetches whenever a signal arrives.

use axum::http::header;
use axum::response::IntoResponse;

const PAGE: &str = include_str!("assets/index.html");

#[utoipa::path(get, path = "/", tag = "dashboard", responses((status = 200, description = "The live dashboard", content_type = "text/html")))]
pub async fn page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        PAGE,
    )
}
