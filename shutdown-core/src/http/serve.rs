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
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::config::{HttpConfig, LateRequests};
use super::conn::{ConnState, Registry};
use super::current;
use super::drain::DrainService;
use super::listener::Listener;
use super::shared::Shared;
use crate::error::BoxError;
use crate::phase::Phase;
use crate::shutdown::Shutdown;
use crate::tracker::TrackGuard;

/// Serves `service` (an `axum::Router`, or any tower service of hyper requests) on
/// `listener` until the shutdown has drained it.
///
/// - **Running** and **StoppingNewRequests** (for `readiness_delay`): accepts and serves
///   normally; readiness (see `health_routes`) is already false in the second phase.
/// - **DrainingConnections**: the listener is dropped, so new connects are refused (unless
///   another process serves the same socket, as during an in-place upgrade); idle keep-alive
///   connections close at once; a connection accepted but whose first request has not
///   arrived yet gets up to [`FIRST_REQUEST_GRACE`] to send it (it is answered, with
///   `Connection: close`), because closing a socket with a request unread resets it; HTTP/1
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
pub fn serve<L, S>(listener: L, service: S, shutdown: &Shutdown) -> Serve<L, S>
where
    L: Listener,
{
    Serve {
        listener,
        service,
        shutdown: shutdown.clone(),
        config: None,
        connect_info: false,
    }
}

/// The future of [`serve`], with options. Await it (it implements [`IntoFuture`]).
#[must_use = "a server does nothing unless awaited"]
pub struct Serve<L, S> {
    listener: L,
    service: S,
    shutdown: Shutdown,
    config: Option<HttpConfig>,
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
            .finish_non_exhaustive()
    }
}

impl<L, S> Serve<L, S>
where
    L: Listener,
{
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

    /// Whether a request handler that panics starts the shutdown (exit code 69). It is
    /// answered 500, logged and counted either way; see `[http] fatal_panics`.
    pub fn fatal_panics(mut self, fatal: bool) -> Self {
        self.config
            .get_or_insert_with(HttpConfig::default)
            .fatal_panics = fatal;
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
        connect_info,
    } = serve;
    let config = match config {
        Some(c) => c,
        None => HttpConfig::from_config(shutdown.config())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?,
    };
    let service = prepared(service);
    let registry = Arc::new(Registry::default());
    let weak = Arc::downgrade(&registry);
    shutdown.on_abandon(move || weak.upgrade().map(|r| r.describe()).unwrap_or_default());
    let shared = Arc::new(Shared::new(&config));
    let listed = current::Listed::new(&shutdown);
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
            (io, peer) = listener.accept() => {
                let conn = registry.open(format!("{peer:?}"), shared.clone());
                let service = DrainService {
                    inner: service.clone(),
                    conn: conn.clone(),
                    engine: listed.engine(),
                    connect_info: connect_info.then_some(peer),
                };
                let streams = StreamExecutor { abort: abort.clone() };
                tasks.spawn(connection(io, conn, service, streams, shutdown.track()));
            }
        }
    }

    drop(listener);
    shared.start_draining();
    registry.wake_all();
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

/// How long a connection accepted before the drain, that has not sent its first request yet,
/// may take to send it once the drain starts (never past the drain deadline). Clients send
/// their request right after connecting; without this, the request that was already on its
/// way when the drain started would meet a closed socket (a reset).
pub const FIRST_REQUEST_GRACE: Duration = Duration::from_secs(1);

/// Serves one connection until it ends, starting hyper's graceful shutdown (idle HTTP/1
/// connections close, busy ones close after the response, HTTP/2 sends GOAWAY) when the drain
/// starts. Holds an in-flight guard for its whole life.
async fn connection<I, S, B, A>(
    mut io: I,
    state: Arc<ConnState>,
    service: DrainService<S, A>,
    streams: StreamExecutor,
    guard: TrackGuard,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: tower::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
    A: Clone + Send + Sync + 'static,
{
    let _guard = guard;
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
    let mut grace: Option<Pin<Box<tokio::time::Sleep>>> = None;
    let result = std::future::poll_fn(|cx| {
        if !closing && state.draining(&mut registered, cx.waker()) {
            // A connection that never sent a request waits for its first one, briefly.
            let waiting = !state.is_used()
                && grace
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(FIRST_REQUEST_GRACE)))
                    .as_mut()
                    .poll(cx)
                    .is_pending();
            if !waiting {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
        }
        let polled = conn.as_mut().poll(cx);
        if polled.is_pending() && !closing && grace.is_some() && state.is_used() {
            // The first request started during this poll: close after answering it.
            closing = true;
            conn.as_mut().graceful_shutdown();
            return conn.as_mut().poll(cx);
        }
        polled
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
