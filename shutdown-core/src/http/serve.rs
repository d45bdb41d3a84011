//! [`serve`]: an HTTP/1.1 + HTTP/2 (h2c) server loop wired into the shutdown phases.

use std::any::Any;
use std::fmt::Debug;
use std::future::{Future, IntoFuture};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::config::{HttpConfig, LateRequests};
use super::conn::{ConnState, Protocol, Registry};
use super::current;
use super::drain::DrainService;
use super::listener::Listener;
use super::live::{Live, LiveGuard};
use super::shared::{Shared, Stage};
use crate::error::BoxError;
use crate::phase::Phase;
use crate::shutdown::Shutdown;
use crate::tracker::TrackGuard;

/// Serves `service` (an `axum::Router`, or any tower service of hyper requests) on
/// `listener` until the shutdown has drained it.
///
/// - **Running**: accepts and serves.
/// - **StoppingNewRequests** (for `readiness_delay`): readiness (see `health_routes`) is
///   false; still accepts and serves, and with [`lame_duck`](Serve::lame_duck) on (the
///   default) tells clients to move: HTTP/1 responses carry `Connection: close`, HTTP/2
///   connections get a graceful GOAWAY.
/// - **DrainingConnections**: connections the kernel already queued are accepted, then the
///   listener is dropped, so new connects are refused (unless another process serves the same
///   socket, as during an in-place upgrade). A request in flight is answered with `Connection:
///   close`; an HTTP/1 connection between two requests, or one that has not sent its first,
///   gets [`request_grace`](Serve::request_grace) to send the next one (answered with
///   `Connection: close`) and is closed after it, or at the end of the grace if it sends
///   nothing; HTTP/2 connections get GOAWAY and every stream opened before it finishes. Each
///   connection holds an in-flight guard, so the drain ends the moment the last one closes.
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
pub fn serve<L, S>(listener: L, service: S, shutdown: &Shutdown) -> Serve<L, S>
where
    L: Listener,
{
    Serve {
        listener,
        service,
        shutdown: shutdown.clone(),
        config: None,
        set: Vec::new(),
        connect_info: false,
    }
}

/// A key set with one of [`Serve`]'s methods, applied over the configuration read from the
/// file and the environment (so each method names its field once, here and nowhere else).
type Setter = Box<dyn FnOnce(&mut HttpConfig) + Send + Sync>;

/// The future of [`serve`], with options. Await it (it implements [`IntoFuture`]).
#[must_use = "a server does nothing unless awaited"]
pub struct Serve<L, S> {
    listener: L,
    service: S,
    shutdown: Shutdown,
    config: Option<HttpConfig>,
    set: Vec<Setter>,
    connect_info: bool,
}

impl<L, S> std::fmt::Debug for Serve<L, S>
where
    L: Listener,
    L::Addr: Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener.local_addr().ok())
            .field("config", &self.config)
            .field("keys_set", &self.set.len())
            .finish_non_exhaustive()
    }
}

impl<L, S> Serve<L, S>
where
    L: Listener,
{
    /// Replaces the settings read from the `[http]` table of the configuration file and the
    /// `GRACEFUL_HTTP_*` environment variables. The methods below still override single keys.
    pub fn config(mut self, config: HttpConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// What to do with requests that arrive on a live connection during the drain
    /// (`[http] late_requests`).
    pub fn late_requests(mut self, late: LateRequests) -> Self {
        self.set.push(Box::new(move |c| c.late_requests = late));
        self
    }

    /// The `Retry-After` of refused requests (`[http] retry_after`).
    pub fn retry_after(mut self, retry_after: Duration) -> Self {
        self.set
            .push(Box::new(move |c| c.retry_after = retry_after));
        self
    }

    /// How long a connection open when the drain starts may take to send its next request
    /// (`[http] request_grace`, default 1 s, at most half of `drain_timeout`). That request is
    /// answered with `Connection: close`; a connection that sends nothing in that time is
    /// closed then. `Duration::ZERO` closes idle connections at once, as `axum::serve` does.
    pub fn request_grace(mut self, grace: Duration) -> Self {
        self.set.push(Box::new(move |c| c.request_grace = grace));
        self
    }

    /// Whether to tell clients to reconnect during `readiness_delay` (`[http] lame_duck`,
    /// default `true`): HTTP/1 responses carry `Connection: close`, HTTP/2 connections get a
    /// graceful GOAWAY, so clients that an L4 balancer pinned to this instance move before
    /// the listener closes.
    pub fn lame_duck(mut self, on: bool) -> Self {
        self.set.push(Box::new(move |c| c.lame_duck = on));
        self
    }

    /// Whether a request handler that panics starts the shutdown (exit code 69,
    /// `[http] fatal_panics`). It is answered 500, logged and counted either way.
    pub fn fatal_panics(mut self, fatal: bool) -> Self {
        self.set.push(Box::new(move |c| c.fatal_panics = fatal));
        self
    }

    /// Puts the peer's address into every request as axum's `ConnectInfo<L::Addr>`
    /// (`ConnectInfo<SocketAddr>` on TCP), as `into_make_service_with_connect_info` does for
    /// `axum::serve`. Off by default: it costs an extension per request.
    ///
    /// ```no_run
    /// use std::net::SocketAddr;
    /// use axum::{Router, extract::ConnectInfo, routing::get};
    ///
    /// async fn app_main(shutdown: graceful::Shutdown) -> std::io::Result<()> {
    ///     let app = Router::new().route(
    ///         "/",
    ///         get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
    ///     );
    ///     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    ///     graceful::http::serve(listener, app, &shutdown)
    ///         .with_connect_info()
    ///         .await
    /// }
    /// # let _ = app_main;
    /// ```
    #[cfg(feature = "axum")]
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    pub fn with_connect_info(mut self) -> Self {
        self.connect_info = true;
        self
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<L::Addr> {
        self.listener.local_addr()
    }
}

impl<L, S, B> IntoFuture for Serve<L, S>
where
    L: Listener,
    L::Addr: Debug + Clone + Send + Sync + 'static,
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

/// An `axum::Router` turns each route into a service on every request unless it is given its
/// state first; `axum::serve` does that once per connection, this does it once per server
/// (also for a router inside [`TrackLayer`](crate::http::TrackLayer)).
#[cfg_attr(not(feature = "axum"), allow(unused_mut))]
fn prepared<S: 'static>(mut service: S) -> S {
    #[cfg(feature = "axum")]
    {
        let any = &mut service as &mut dyn Any;
        let router = if any.is::<axum::Router>() {
            any.downcast_mut::<axum::Router>()
        } else {
            any.downcast_mut::<super::layer::Track<axum::Router>>()
                .map(super::layer::Track::inner_mut)
        };
        if let Some(router) = router {
            *router = router.clone().with_state(());
        }
    }
    service
}

async fn run<L, S, B>(serve: Serve<L, S>) -> io::Result<()>
where
    L: Listener,
    L::Addr: Debug + Clone + Send + Sync + 'static,
    S: tower::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let Serve {
        mut listener,
        service,
        shutdown,
        config,
        set,
        connect_info,
    } = serve;
    let mut config = match config {
        Some(c) => c,
        None => HttpConfig::from_config(shutdown.config())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?,
    };
    for setter in set {
        setter(&mut config);
    }
    let service = prepared(service);
    let registry = Arc::new(Registry::new(&shutdown));
    let weak = Arc::downgrade(&registry);
    shutdown.on_abandon(move || weak.upgrade().map(|r| r.abandon()).unwrap_or_default());
    let shared = Arc::new(Shared::new(&config, shutdown.config().drain_timeout.value));
    // The lame-duck window is `readiness_delay`: without one there is no window, and the drain
    // that follows at once says `Connection: close` / GOAWAY itself (and applies
    // `late_requests` to what arrives after it).
    let lame_duck = config.lame_duck && !shutdown.config().readiness_delay.value.is_zero();
    let listed = current::Listed::new(&shutdown);
    let abort = CancellationToken::new();
    let _abort_streams = abort.clone().drop_guard();
    // Dropping this future (or passing the drain deadline) ends every connection task.
    let _abort_connections = AbortOnDrop {
        shared: shared.clone(),
        registry: registry.clone(),
    };
    let live = Arc::new(Live::default());
    let mut phase = shutdown.phase();
    let local = listener.local_addr().ok();
    tracing::debug!(target: "graceful::http", addr = ?local, "serving");
    // Owns what it needs, so that `run`'s future stays `Send` without `S: Sync`.
    let open = {
        let (registry, shared, abort) = (registry.clone(), shared.clone(), abort.clone());
        let (shutdown, live) = (shutdown.clone(), live.clone());
        move |io, peer: L::Addr| {
            let conn = registry.open(format!("{peer:?}"), shared.clone());
            let service = DrainService {
                inner: service.clone(),
                conn: conn.clone(),
                engine: listed.engine(),
                connect_info: connect_info.then_some(peer),
            };
            let streams = StreamExecutor {
                abort: abort.clone(),
            };
            let guards = (shutdown.track(), live.enter());
            tokio::spawn(connection(io, conn, service, streams, guards));
        }
    };

    loop {
        let now = *phase.borrow_and_update();
        if now >= Phase::DrainingConnections {
            break;
        }
        if now >= Phase::StoppingNewRequests && lame_duck && shared.stage() == Stage::Running {
            shared.enter(Stage::LameDuck);
            registry.wake(Stage::LameDuck);
            tracing::debug!(target: "graceful::http", addr = ?local, "lame duck: responses carry `Connection: close`, HTTP/2 connections get GOAWAY");
        }
        tokio::select! {
            biased;
            // A closed channel (the engine is gone) ends serving, as a drain does.
            changed = phase.changed() => if changed.is_err() { break },
            (io, peer) = listener.accept() => open(io, peer),
        }
    }

    // One timer for every connection: at the end of the grace, those still silent close. It
    // runs from the drain's start, not from the end of the work below, which visits every
    // connection.
    let grace = tokio::time::sleep(shared.grace);
    // Connections the kernel completed but not yet handed over would be reset by closing
    // the listener, with their first request perhaps already sent: serve them too.
    loop {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match std::pin::pin!(listener.accept()).poll(&mut cx) {
            std::task::Poll::Ready((io, peer)) => open(io, peer),
            std::task::Poll::Pending => break,
        }
    }
    drop(listener);
    shared.enter(Stage::Draining);
    registry.list_in_flight();
    registry.wake(Stage::Draining);
    tracing::info!(target: "graceful::http", addr = ?local, connections = live.len(), "listener closed; draining connections");

    // The server wakes for the grace, the deadline and the last connection's end, never once
    // per connection.
    let none_left = live.none();
    let deadline = reached(&mut phase, |p| p > Phase::DrainingConnections);
    tokio::pin!(grace, none_left, deadline);
    loop {
        tokio::select! {
            () = &mut none_left => break,
            () = &mut grace, if shared.stage() == Stage::Draining => {
                shared.enter(Stage::GraceOver);
                registry.wake(Stage::GraceOver);
                tracing::debug!(target: "graceful::http", addr = ?local, connections = live.len(), "request grace over; closing silent connections");
            }
            () = &mut deadline => {
                let left = live.len();
                abort.cancel();
                shared.enter(Stage::Aborted);
                registry.wake(Stage::Aborted);
                none_left.await;
                tracing::warn!(target: "graceful::http", addr = ?local, connections = left, "drain deadline passed; connections aborted");
                break;
            }
        }
    }
    tracing::debug!(target: "graceful::http", addr = ?local, "all connections closed");
    Ok(())
}

/// Moves the server to [`Stage::Aborted`] when dropped: every connection task still running
/// ends at its next poll, which the wake-up makes immediate.
struct AbortOnDrop {
    shared: Arc<Shared>,
    registry: Arc<Registry>,
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.shared.enter(Stage::Aborted);
        self.registry.wake(Stage::Aborted);
    }
}

/// Serves one connection until it ends. Holds an in-flight guard, and counts as live for
/// `serve`, for its whole life.
///
/// When the server's stage moves (see `Stage`), it tells the client to leave without losing a
/// request that is already on its way:
/// - an HTTP/2 connection gets hyper's graceful shutdown at once (lame duck or drain): a
///   GOAWAY, a PING, then the final GOAWAY naming the last stream received; every stream
///   opened before it is answered;
/// - an HTTP/1 connection answers its next request with `Connection: close` (see
///   `DrainFuture`), and hyper closes it after that response. A connection still open when
///   the grace is over (`Stage::GraceOver`: it sent nothing since the drain started, or has
///   not sent a request at all, so its protocol is not known) gets hyper's graceful shutdown
///   then, which closes it if idle, or after the request it is reading. The connection is
///   polled before the close, so bytes already received are read as a request, not reset.
///
/// At `Stage::Aborted` (the drain deadline passed, or `serve`'s future was dropped) it ends at
/// once, dropping the connection, as aborting its task would.
async fn connection<I, S, B, A>(
    mut io: I,
    state: Arc<ConnState>,
    service: DrainService<S, A>,
    streams: StreamExecutor,
    guards: (TrackGuard, LiveGuard),
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: tower::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
    A: Clone + Send + Sync + 'static,
{
    // Dropped last, after the connection.
    let _guards = guards;
    // Small responses go out at once on TCP (as with `axum::serve` and `tap_io`).
    if let Some(tcp) = (&mut io as &mut dyn Any).downcast_mut::<TcpStream>() {
        let _ = tcp.set_nodelay(true);
    }
    let mut builder = Builder::new(streams);
    // HTTP/2 WebSockets (RFC 8441) need the CONNECT protocol, as in `axum::serve`.
    builder.http2().enable_connect_protocol();
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(conn);
    let (mut registered, mut closing) = (false, false);
    let result = std::future::poll_fn(|cx| {
        // Read before the poll: a stage entered during it wakes this task again.
        let stage = state.stage(&mut registered, cx.waker());
        if stage == Stage::Aborted {
            return std::task::Poll::Ready(Ok(()));
        }
        let polled = conn.as_mut().poll(cx);
        if closing || polled.is_ready() {
            return polled;
        }
        let close = match stage {
            Stage::Running => false,
            Stage::LameDuck | Stage::Draining => state.protocol() == Protocol::Http2,
            Stage::GraceOver | Stage::Aborted => true,
        };
        if !close {
            return polled;
        }
        closing = true;
        conn.as_mut().graceful_shutdown();
        conn.as_mut().poll(cx)
    })
    .await;
    if let Err(e) = result {
        tracing::trace!(target: "graceful::http", "connection ended: {e}");
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

#[cfg(test)]
#[path = "serve_tests.rs"]
mod tests;
