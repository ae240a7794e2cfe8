//! The live dashboard: `/` and its assets under `/assets/`, embedded in the binary (no build
//! step, no CDN, no Node at run time). `app.js` is slod's own code; `vendor/` holds uPlot, the
//! charting library, as published (MIT licence, `vendor/uPlot.LICENSE`).
//!
//! The page reads the public API and refetches whenever a signal arrives. With public reads
//! off, it asks once for a read token, keeps it in the browser's storage, and sends it as
//! `Authorization: Bearer` on API calls and as `?access_token=` on the event stream (the one
//! route that accepts it there, since EventSource cannot send headers).

use axum::extract::Path;
use axum::http::header;
use axum::response::IntoResponse;

use super::error::ApiError;
use crate::signals::{HealthChanged, Resync, Signal};

/// `app.js`, with the names of the signals it refreshes on filled in from the catalogue (the
/// one place signal names are written).
static APP: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let names: Vec<&str> = Signal::NAMES
        .into_iter()
        .filter(|name| Signal::refreshes_dashboard(name))
        .collect();
    let list = serde_json::to_string(&names).expect("names always encode");
    let quoted = |signal: Signal| format!("{:?}", signal.name());
    let health = quoted(Signal::HealthChanged(HealthChanged {
        system_id: String::new(),
        status: slod_engine::Health::Unknown,
    }));
    let resync = quoted(Signal::Resync(Resync::default()));
    include_str!("assets/app.js")
        .replace("/*SIGNALS*/[]", &list)
        .replace("/*HEALTH_SIGNAL*/\"\"", &health)
        .replace("/*RESYNC_SIGNAL*/\"\"", &resync)
});

/// Every asset by path: (content type, body).
fn asset(path: &str) -> Option<(&'static str, &'static str)> {
    Some(match path {
        "app.js" => ("text/javascript; charset=utf-8", APP.as_str()),
        "style.css" => ("text/css; charset=utf-8", include_str!("assets/style.css")),
        "vendor/uPlot.iife.min.js" => (
            "text/javascript; charset=utf-8",
            include_str!("assets/vendor/uPlot.iife.min.js"),
        ),
        "vendor/uPlot.min.css" => (
            "text/css; charset=utf-8",
            include_str!("assets/vendor/uPlot.min.css"),
        ),
        "vendor/uPlot.LICENSE" => (
            "text/plain; charset=utf-8",
            include_str!("assets/vendor/uPlot.LICENSE"),
        ),
        _ => return None,
    })
}

#[utoipa::path(get, path = "/", tag = "dashboard", responses((status = 200, description = "The live dashboard", content_type = "text/html")))]
pub async fn page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("assets/index.html"),
    )
}

#[utoipa::path(get, path = "/assets/{path}", tag = "dashboard", params(("path" = String, Path, description = "app.js, style.css or a file under vendor/")),
    responses((status = 200, description = "A dashboard asset"), (status = 404, body = super::error::ErrorBody)))]
pub async fn assets(Path(path): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let (content_type, body) =
        asset(&path).ok_or_else(|| ApiError::not_found(format!("no asset {path:?}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            // Revalidated on every load: the binary may have been upgraded since.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    ))
}
