//! [`serve`]: an HTTP/1.1 + HTTP/2 (h2c) server loop wired into the shutdown phases.

use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::conn::auto::Builder;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::config::{HttpConfig, LateRequests};
use super::conn::{ConnState, Registry};
use super::drain::{DrainService, Shared};
use crate::error::BoxError;
use crate::phase::Phase;
use crate::shutdown::Shutdown;
use crate::tracker::TrackGuard;

/// Serves `service` (an `axum::Router`, or any tower service of hyper requests) on
/// `listener` until the shutdown has drained it.
///
/// - **Running** and **StoppingNewRequests** (for `readiness_delay`): accepts and serves
///   normally; readiness (see `health_routes`) is already false in the second phase.
/// - **DrainingConnections**: the listener is dropped, so new connects are refused; idle
///   keep-alive connections (also ones that never sent a request) close at once; HTTP/1
///   responses carry `Connection: close`; HTTP/2 connections get GOAWAY and their open streams
///   finish. Each connection holds an in-flight guard, so the drain ends the moment the last
///   one closes.
/// - After the drain deadline (or a forced shutdown), connections still open are aborted;
///   their requests (method, path, age) are named in the report's `abandoned` list.
///
/// The returned future resolves when every connection is gone, so `main` can simply await
/// it. Dropping it aborts every connection task it spawned.
///
/// ```no_run
/// # #[cfg(feature = "axum")]
/// async fn app_main(shutdown: graceful::Shutdown) -> std::io::Result<()> {
///     use axum::{Router, routing::get};
///     let app = Router::new().route("/", get(|| async { "hello" }));
///     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
///     graceful::http::serve(listener, app, &shutdown).await
/// }
/// # fn main() {
/// #     #[cfg(feature = "axum")]
/// #     let _ = app_main;
/// # }
/// ```
pub fn serve<S>(listener: TcpListener, service: S, shutdown: &Shutdown) -> Serve<S> {
    Serve {
        listener,
        service,
        shutdown: shutdown.clone(),
        config: None,
    }
}

/// The future of [`serve`], with options. Await it (it implements [`IntoFuture`]).
#[must_use = "a server does nothing unless awaited"]
pub struct Serve<S> {
    listener: TcpListener,
    service: S,
    shutdown: Shutdown,
    config: Option<HttpConfig>,
}

impl<S> std::fmt::Debug for Serve<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener.local_addr().ok())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S> Serve<S> {
    /// Replaces the settings read from the `[http]` table of the configuration file.
    pub fn config(mut self, config: HttpConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// What to do with requests that arrive on a live connection during the drain.
    pub fn late_requests(mut self, late: LateRequests) -> Self {
        self.config
            .get_or_insert_with(HttpConfig::default)
            .late_requests = late;
        self
    }

    /// The `Retry-After` of refused requests.
    pub fn retry_after(mut self, retry_after: Duration) -> Self {
        self.config
            .get_or_insert_with(HttpConfig::default)
            .retry_after = retry_after;
        self
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

impl<S, B> IntoFuture for Serve<S>
where
    S: tower::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(run(self))
    }
}

async fn run<S, B>(serve: Serve<S>) -> io::Result<()>
where
    S: tower::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let Serve {
        listener,
        service,
        shutdown,
        config,
    } = serve;
    let config = match config {
        Some(c) => c,
        None => HttpConfig::from_config(shutdown.config())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?,
    };
    let registry = Arc::new(Registry::default());
    let weak = Arc::downgrade(&registry);
    shutdown.on_abandon(move || weak.upgrade().map(|r| r.describe()).unwrap_or_default());
    let shared = Arc::new(Shared::new(&config, shutdown.clone()));
    let drain = CancellationToken::new();
    let abort = CancellationToken::new();
    let _abort_streams = abort.clone().drop_guard();
    let mut phase = shutdown.phase();
    let mut tasks = JoinSet::new();
    let local = listener.local_addr().ok();
    tracing::debug!(target: "graceful::http", addr = ?local, "serving");

    loop {
        tokio::select! {
            biased;
            _ = reached(&mut phase, |p| p >= Phase::DrainingConnections) => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let conn = registry.open(peer, shared.clone());
                    let task = connection(stream, conn, service.clone(), drain.clone(), abort.clone(), shutdown.track());
                    tasks.spawn(task);
                }
                Err(e) if is_connection_error(&e) => {}
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::error!(target: "graceful::http", "accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }

    drop(listener);
    shared.draining.store(true, Ordering::Release);
    drain.cancel();
    tracing::info!(target: "graceful::http", addr = ?local, connections = tasks.len(), "listener closed; draining connections");

    loop {
        tokio::select! {
            joined = tasks.join_next() => if joined.is_none() { break },
            _ = reached(&mut phase, |p| p > Phase::DrainingConnections) => {
                let left = tasks.len();
                abort.cancel();
                tasks.abort_all();
                while tasks.join_next().await.is_some() {}
                tracing::warn!(target: "graceful::http", addr = ?local, connections = left, "drain deadline passed; connections aborted");
                break;
            }
        }
    }
    tracing::debug!(target: "graceful::http", addr = ?local, "all connections closed");
    Ok(())
}

/// Serves one connection until it ends, starting hyper's graceful shutdown (idle HTTP/1
/// connections close, busy ones close after the response, HTTP/2 sends GOAWAY) when the drain
/// starts. Holds an in-flight guard for its whole life.
async fn connection<S, B>(
    stream: TcpStream,
    conn: Arc<ConnState>,
    service: S,
    drain: CancellationToken,
    abort: CancellationToken,
    guard: TrackGuard,
) where
    S: tower::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let _guard = guard;
    let _ = stream.set_nodelay(true);
    let mut builder = Builder::new(StreamExecutor { abort });
    // HTTP/2 WebSockets (RFC 8441) need the CONNECT protocol, as in `axum::serve`.
    builder.http2().enable_connect_protocol();
    let service = DrainService {
        inner: service,
        conn,
    };
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let drained = drain.cancelled();
    tokio::pin!(drained);
    let mut closing = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::trace!(target: "graceful::http", "connection ended: {e}");
                }
                break;
            }
            _ = &mut drained, if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Spawns HTTP/2 stream tasks so that they end when `serve` aborts its connections: no task
/// outlives the drain deadline.
#[derive(Clone)]
struct StreamExecutor {
    abort: CancellationToken,
}

impl<F> hyper::rt::Executor<F> for StreamExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        let abort = self.abort.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = fut => {}
                _ = abort.cancelled() => {}
            }
        });
    }
}

/// Resolves once the phase satisfies `f`, or the engine is gone (a closed channel).
pub(super) async fn reached(
    phase: &mut tokio::sync::watch::Receiver<Phase>,
    f: impl Fn(Phase) -> bool,
) {
    let _ = phase.wait_for(|p| f(*p)).await;
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
