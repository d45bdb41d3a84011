//! [`health_routes`]: liveness and readiness for the application's own router.

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json};
use axum::routing::get;

use crate::shutdown::Shutdown;

/// `/health/live` and `/health/ready`, to merge into the application's router, for services
/// that don't run the separate admin listener.
///
/// - `GET /health/live` → `200 {"status":"live","phase":…}` while the process runs.
/// - `GET /health/ready` → `200 {"status":"ready","phase":"running","reasons":[]}` when
///   [`Shutdown::readiness`] says ready; `503 {"status":"not_ready","phase":…,"reasons":[…]}`
///   while start-up runs (`"starting"`), while the program holds readiness down
///   ([`Shutdown::not_ready`], named in `reasons`), and from the moment a shutdown starts
///   (`"shutting down"`) — during `readiness_delay` the server still serves, so load balancers
///   have time to notice. The admin API and gRPC health give the same answer.
///
/// ```
/// use axum::{Router, routing::get};
///
/// # fn main() -> Result<(), graceful::ConfigError> {
/// let shutdown = graceful::Graceful::builder().build()?.shutdown();
/// let app: Router = Router::new()
///     .route("/", get(|| async { "hello" }))
///     .merge(graceful::http::health_routes(&shutdown));
/// # drop(app);
/// # Ok(())
/// # }
/// ```
pub fn health_routes<S>(shutdown: &Shutdown) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let live = shutdown.clone();
    let ready = shutdown.clone();
    Router::new()
        .route(
            "/health/live",
            get(move || {
                let phase = live.current_phase();
                async move { Json(serde_json::json!({ "status": "live", "phase": phase })) }
            }),
        )
        .route(
            "/health/ready",
            get(move || {
                let answer = ready.readiness();
                let phase = ready.current_phase();
                async move {
                    let (code, status) = if answer.ready {
                        (StatusCode::OK, "ready")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "not_ready")
                    };
                    let body = serde_json::json!({
                        "status": status,
                        "phase": phase,
                        "reasons": answer.reasons,
                    });
                    (code, Json(body)).into_response()
                }
            }),
        )
}
