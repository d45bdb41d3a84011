//! Handlers can take a [`Shutdown`] argument: a long handler (streaming response, long poll,
//! server-sent events) watches [`Shutdown::requested`] and ends early.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::current;
use crate::shutdown::Shutdown;

/// Extracts the [`Shutdown`] of the engine serving the request: put there by
/// [`serve`](crate::http::serve) or [`TrackLayer`](crate::http::TrackLayer), else the engine
/// `#[graceful::main]` started.
///
/// ```
/// use std::time::Duration;
///
/// async fn long_poll(shutdown: graceful::Shutdown) -> &'static str {
///     tokio::select! {
///         _ = tokio::time::sleep(Duration::from_secs(30)) => "no news",
///         _ = shutdown.requested() => "shutting down; poll again elsewhere",
///     }
/// }
///
/// let app: axum::Router = axum::Router::new().route("/poll", axum::routing::get(long_poll));
/// # drop(app);
/// ```
impl<S: Send + Sync> FromRequestParts<S> for Shutdown {
    type Rejection = NoShutdown;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, NoShutdown> {
        if let Some(shutdown) = parts.extensions.get::<Shutdown>() {
            return Ok(shutdown.clone());
        }
        current::shutdown()
            .or_else(crate::current)
            .ok_or(NoShutdown)
    }
}

/// The request reached a handler taking a [`Shutdown`] without one being available: answered
/// with `500`.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error(
    "no graceful::Shutdown for this request: serve with graceful::http::serve, add graceful::http::TrackLayer, \
     or run under #[graceful::main]"
)]
pub struct NoShutdown;

impl IntoResponse for NoShutdown {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}
