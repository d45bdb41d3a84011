//! HTTP that drains without dropping a request (features `hyper`, `axum` and `tonic`).
//!
//! - [`serve`] runs an axum `Router` (or any tower service of hyper requests) over HTTP/1.1
//!   and HTTP/2 (h2c) and follows the shutdown phases: keeps serving during
//!   `readiness_delay`, then closes the listener, closes idle keep-alive connections at once,
//!   sends `Connection: close` on HTTP/1 responses and GOAWAY on HTTP/2, waits for accepted
//!   requests, and aborts what is left at `drain_timeout`, naming it in the report.
//! - [`TrackLayer`] tracks each request as in-flight work, for servers built by hand.
//! - `health_routes` (feature `axum`) gives the application `/health/live` and
//!   `/health/ready` (`health_routes_at`: other paths, such as Kubernetes' `/livez` and
//!   `/readyz`); readiness turns 503 the moment a shutdown starts.
//! - Handlers can take a [`Shutdown`](crate::Shutdown) argument (feature `axum`) to end long
//!   polls and streams early; [`until_drain`] ends Server-Sent Events, HTTP/2 response
//!   streams and gRPC server streams cleanly when the drain starts (for gRPC: trailers
//!   `grpc-status: 0`); `ws::upgrade` (feature `axum`) closes WebSockets with code 1001.
//! - `grpc_health` (feature `tonic`) is the `grpc.health.v1.Health` service, `NOT_SERVING`
//!   from the moment a shutdown starts; its `Watch` streams end with status `OK` when the
//!   drain starts. gRPC services are served and drained by [`serve`].
//!
//! ```no_run
//! # #[cfg(not(feature = "axum"))] fn main() {}
//! # #[cfg(feature = "axum")]
//! fn main() -> std::process::ExitCode {
//!     use axum::{Router, routing::get};
//!
//!     let engine = graceful::Graceful::builder()
//!         .readiness_delay(std::time::Duration::from_secs(5));
//!     // The entry `#[graceful::main]` expands to: runtime, signals, watchdog, exit code.
//!     graceful::Entry::new(engine).run(|shutdown| async move {
//!         let app = Router::new()
//!             .route("/", get(|| async { "hello" }))
//!             .merge(graceful::http::health_routes(&shutdown));
//!         let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//!         graceful::http::serve(listener, app, &shutdown).await
//!     })
//! }
//! ```
//!
//! The `[http]` table of the configuration file is read by [`HttpConfig::from_config`].

mod body;
mod config;
mod conn;
mod current;
mod drain;
mod layer;
mod listener;
mod live;
mod panic;
mod serve;
mod shared;

#[cfg(feature = "axum")]
mod extract;
#[cfg(feature = "tonic")]
mod grpc;
#[cfg(feature = "axum")]
mod health;
mod stream;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod ws;

/// The `axum` this integration is built against, re-exported so that versions match.
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use axum;
/// The `tokio` graceful runs on (its types are part of this API: `TcpListener`,
/// `watch::Receiver`), re-exported so that versions match.
pub use tokio;

pub use config::{HttpConfig, LateRequests};
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use extract::NoShutdown;
#[cfg(feature = "tonic")]
#[cfg_attr(docsrs, doc(cfg(feature = "tonic")))]
pub use grpc::grpc_health;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use health::{HealthPathError, HealthPaths, health_routes, health_routes_at};
pub use layer::{Track, TrackFuture, TrackLayer, TrackedBody};
pub use listener::Listener;
pub use serve::{Serve, serve};
pub use stream::{UntilDrain, until_drain};
