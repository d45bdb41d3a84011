//! The admin API (feature `admin`): health probes, status, process information, metrics,
//! configuration, a live event stream, and an authenticated way to stop the service — on its
//! own listener, loopback by default.
//!
//! ```no_run
//! # async fn demo(shutdown: graceful::Shutdown) -> Result<(), graceful::admin::AdminError> {
//! // Reads `[admin]` from the configuration file and GRACEFUL_ADMIN_* from the environment.
//! let admin = graceful::admin::Admin::builder().spawn(&shutdown).await?;
//! println!("admin API on http://{}", admin.local_addr());
//! # Ok(()) }
//! ```
//!
//! # Routes
//!
//! | route (default path) | method | scope | answers |
//! |---|---|---|---|
//! | `/health/live` | GET | — | 200 while the process runs |
//! | `/health/ready` | GET | — | 200 when [`Shutdown::readiness`](crate::Shutdown::readiness) says ready; 503 while start-up runs, while a [`not_ready`](crate::Shutdown::not_ready) hold is held and from the first moment of shutdown, with the `reasons`; 200 with `handed_over_to` (the successor's pid) once an in-place upgrade's successor is ready |
//! | `/health` | GET | — | both, plus each resource's state (503 whenever `/health/ready` is) |
//! | `/status` | GET | `read` | `status` (`RUNNING`/`STOPPING`/`STOPPED`), phase, uptime, in-flight work, the application's active operations, what was recovered at start, resources, progress, previous shutdown |
//! | `/overview` | GET | `read` | status, health, process, the configuration's summary and the previous shutdown at once |
//! | `/process` | GET | `read` | pid, uptime, memory, CPU, threads, open fds |
//! | `/config` | GET | `read` | effective configuration with the source of each value; keys redacted |
//! | `/metrics` | GET | `read` | Prometheus text (feature `metrics`) |
//! | `/events` | GET | `read` | Server-Sent Events: phase changes and resource closes |
//! | `/shutdown` | POST | `system` | starts a graceful shutdown: `{"timeout_seconds", "force", "reason"}`; 404 `DAEMON_NOT_RUNNING` once stopped |
//! | `/shutdown` | DELETE | `system` | forces an immediate shutdown |
//!
//! Every path is `prefix + route`; both are configurable (builder, `[admin]`,
//! `GRACEFUL_ADMIN_PREFIX`), enough to serve a classic layout such as
//! `POST /api/v1/daemon/stop` (see `examples/daemon.rs`).
//!
//! Every JSON response, errors included, uses one envelope:
//! `{"success": true, "data": …, "request_id": "…"}` or
//! `{"success": false, "error": {"code", "message", "details"}, "request_id": "…"}`.
//! `/metrics` (Prometheus text) and `/events` (an event stream) answer in their own formats
//! when they succeed, and in the envelope when they fail.
//!
//! # Security
//!
//! With no API key configured, every route that reveals information or acts answers 403 with
//! a message saying how to enable it; the probes stay open. Binding a non-loopback address
//! without a key is refused at start-up. Keys are compared in constant time
//! (with `subtle`) and never logged. Each connection must send its headers within
//! `header_timeout` (default 2 s) and its body within `body_timeout`; bodies over `body_limit`
//! get 413.
//!
//! Nobody can starve the probes, and every request that arrives is answered: at most
//! `max_connections` connections hold a slot at once, and when a new one arrives at the limit,
//! the connection that has waited longest (one that has sent nothing yet, a client still
//! trickling its request head, an idle keep-alive connection) gives its slot up, unless
//! something it sent is still unread (a request that arrived is read and answered). One peer
//! (IP address) holds at most `max_connections_per_peer` (default half of `max_connections`);
//! past that, its own longest-waiting connection makes room. A connection that gives its slot
//! up, and a newcomer for which none can be freed, is answered 503 with `Retry-After` and
//! `Connection: close`, never just closed. A client without a key can only hold waiting
//! connections (every route it may call answers at once), so idle keep-alive and slow-loris
//! clients cannot keep a probe out.
//!
//! # In-place upgrades
//!
//! With feature `upgrade`, the admin listener is handed to the successor like the service's
//! own, and exactly one process accepts on it at a time: the old one until the successor says
//! it is ready, the successor from then on. What the old process accepted before that moment
//! it answers with `Connection: close`, and its probes answer as the successor does (ready,
//! with `handed_over_to`), so a probe never sees an upgrade as a failure.

mod auth;
mod config;
mod config_json;
mod context;
mod envelope;
mod handlers;
mod handover;
mod load;
mod operations;
mod process_info;
mod readers;
mod report;
mod route;
mod router;
mod server;
mod slots;
mod sse;
mod stop;
mod upgrade;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

pub use auth::{ApiKey, KeyError, Scope, Scopes};
pub use config::{AdminConfig, DEFAULT_ADDR, KEY_ENV};
pub use operations::{Recovered, RecoveredFrom};
pub use route::Route;

use crate::config::{Config, ConfigError, Env, Source};
use crate::shutdown::Shutdown;

/// Why the admin API could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// The `[admin]` section or a `GRACEFUL_ADMIN_*` variable is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A non-loopback address was asked for, but no API key is configured.
    #[error(
        "refusing to serve the admin API on {addr} without an API key: anyone who can reach it could read the \
         service's state; set GRACEFUL_ADMIN_API_KEY (or GRACEFUL_ADMIN_API_KEY_FILE, or `[[admin.api_keys]]`), \
         or bind a loopback address such as 127.0.0.1:9090"
    )]
    ExposedWithoutKey {
        /// The address that was refused.
        addr: SocketAddr,
    },
    /// The address could not be bound.
    #[error("cannot bind the admin API to {addr} ({source}): {error}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Where the address came from.
        source: Source,
        /// The OS error.
        #[source]
        error: std::io::Error,
    },
}

/// The admin API's entry point.
#[derive(Debug)]
pub struct Admin;

impl Admin {
    /// Starts configuring the admin API. Values set on the builder are overridden by the
    /// `[admin]` section of the configuration file and by `GRACEFUL_ADMIN_*` variables.
    pub fn builder() -> AdminBuilder {
        AdminBuilder::default()
    }
}

/// Configures and starts the admin API; see the [module docs](self).
#[derive(Default)]
pub struct AdminBuilder {
    config: AdminConfig,
    operations: operations::Operations,
    recovered: Vec<Recovered>,
    env: Option<Env>,
    listener: Option<std::net::TcpListener>,
    #[cfg(feature = "metrics")]
    prometheus: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

impl std::fmt::Debug for AdminBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AdminBuilder {
    /// Where to listen (default `127.0.0.1:9090`; port 0 picks a free port — read it back
    /// with [`AdminHandle::local_addr`]).
    pub fn addr(mut self, addr: impl Into<SocketAddr>) -> Self {
        self.config.addr.set(addr.into(), Source::Builder);
        self
    }

    /// Serves on an already-bound listener (for example one from systemd socket activation)
    /// instead of binding [`addr`](AdminBuilder::addr).
    pub fn listener(mut self, listener: std::net::TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Puts `prefix` (like `/api/v1/daemon`) before every route.
    pub fn prefix(mut self, prefix: &str) -> Self {
        let p = prefix.trim().trim_end_matches('/').to_string();
        self.config.prefix.set(p, Source::Builder);
        self
    }

    /// Serves `route` at `path` (under the prefix), e.g. `.route(Route::Shutdown, "/stop")`.
    pub fn route(mut self, route: Route, path: &str) -> Self {
        self.config.routes.insert(
            route,
            crate::config::Setting {
                value: path.trim().to_string(),
                source: Source::Builder,
            },
        );
        self
    }

    /// The largest `timeout_seconds` a `POST /shutdown` may ask for (default 10 minutes).
    pub fn max_shutdown_timeout(mut self, d: Duration) -> Self {
        self.config.max_shutdown_timeout.set(d, Source::Builder);
        self
    }

    /// The largest request body, in bytes (default 4096).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.config.body_limit.set(bytes.max(1), Source::Builder);
        self
    }

    /// Connections served at once (default 32).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.config.max_connections.set(n.max(1), Source::Builder);
        self
    }

    /// Connections one peer (IP address) may hold at once (default: half of
    /// [`max_connections`](AdminBuilder::max_connections)).
    pub fn max_connections_per_peer(mut self, n: usize) -> Self {
        self.config
            .max_connections_per_peer
            .set(Some(n.max(1)), Source::Builder);
        self
    }

    /// How long [`AdminHandle::linger`] keeps the API answering after the shutdown has
    /// finished (default 0).
    pub fn linger(mut self, d: Duration) -> Self {
        self.config.linger.set(d, Source::Builder);
        self
    }

    /// Also serves the metrics route, and only it, on `addr` without a key (for a
    /// Prometheus whose scrape configuration cannot send one). What it reveals — resource
    /// names, phase, in-flight counts — is then readable by anyone who reaches `addr`.
    pub fn metrics_addr(mut self, addr: impl Into<SocketAddr>) -> Self {
        self.config
            .metrics_addr
            .set(Some(addr.into()), Source::Builder);
        self
    }

    /// Resident memory, in MB, above which `/health` and the metrics report `degraded`.
    pub fn memory_threshold_mb(mut self, mb: u64) -> Self {
        self.config
            .memory_threshold_mb
            .set(Some(mb.max(1)), Source::Builder);
        self
    }

    /// CPU use over the last ten seconds, in percent of one core, above which `/health` and
    /// the metrics report `degraded`.
    pub fn cpu_threshold_percent(mut self, percent: f64) -> Self {
        self.config
            .cpu_threshold_percent
            .set(Some(percent), Source::Builder);
        self
    }

    /// How long a client may take to send its request headers (default 2 s).
    pub fn header_timeout(mut self, d: Duration) -> Self {
        self.config.header_timeout.set(d, Source::Builder);
        self
    }

    /// How long a client may take to send its request body (default 5 s).
    pub fn body_timeout(mut self, d: Duration) -> Self {
        self.config.body_timeout.set(d, Source::Builder);
        self
    }

    /// Reports a named count of the application's active operations (a daemon's
    /// `processes`, `jobs`, `timers`), read at each request: it appears in `/status` and in
    /// the stop response under `active_operations`, beside the engine's own `connections`
    /// and `tasks` (a count with the same name replaces the engine's).
    pub fn active_operation(
        mut self,
        name: impl Into<String>,
        count: impl Fn() -> u64 + Send + Sync + 'static,
    ) -> Self {
        self.operations.insert(name.into(), Arc::new(count));
        self
    }

    /// Reports what was recovered at start (a saved state's name, whether it came from a
    /// snapshot, was fresh or was moved aside as corrupt, and what it held): `/status` shows
    /// it under `recovered`.
    pub fn recovered(mut self, recovered: Recovered) -> Self {
        self.recovered.push(recovered);
        self
    }

    /// Reads the `[admin]` section again with `env` instead of taking it from the engine's
    /// configuration (which read it, with every other section, from the environment the
    /// configuration was loaded with).
    pub fn env(mut self, env: Env) -> Self {
        self.env = Some(env);
        self
    }

    /// Renders `/metrics` from this handle instead of installing a Prometheus recorder
    /// (for programs that install their own `metrics` recorder).
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn prometheus_handle(
        mut self,
        handle: metrics_exporter_prometheus::PrometheusHandle,
    ) -> Self {
        self.prometheus = Some(handle);
        self
    }

    /// The effective configuration: this builder, then the `[admin]` section of `config`'s
    /// file, then the environment, as `config` loaded them (or as [`env`](AdminBuilder::env)
    /// says).
    pub fn resolve(&self, config: &Config) -> Result<AdminConfig, ConfigError> {
        match &self.env {
            Some(env) => self.config.clone().load(config, env),
            None => self.config.clone().under(config),
        }
    }

    /// Binds the listener and serves the admin API on a background task until the process
    /// exits (or [`AdminHandle::stop`]). The task is not tracked work: it keeps answering
    /// during the whole shutdown, so operators can watch it, and never delays the drain.
    ///
    /// With feature `metrics`, also installs the Prometheus recorder (unless a handle was
    /// given) and starts [`crate::metrics::attach`].
    pub async fn spawn(self, shutdown: &Shutdown) -> Result<AdminHandle, AdminError> {
        let config = self.resolve(shutdown.config())?;
        // The address to serve: the given listener's, else the configured one. Checked
        // once, before anything is served on it.
        let addr = match &self.listener {
            Some(l) => l.local_addr().map_err(|error| AdminError::Bind {
                addr: config.addr.value,
                source: Source::Builder,
                error,
            })?,
            None => config.addr.value,
        };
        if server::is_exposed(addr) && config.api_keys.is_empty() {
            return Err(AdminError::ExposedWithoutKey { addr });
        }
        let listener = match self.listener {
            Some(l) => l
                .set_nonblocking(true)
                .and_then(|()| tokio::net::TcpListener::from_std(l))
                .map_err(|error| AdminError::Bind {
                    addr,
                    source: Source::Builder,
                    error,
                })?,
            None => bind(shutdown, "admin", addr)
                .await
                .map_err(|error| AdminError::Bind {
                    addr,
                    source: config.addr.source.clone(),
                    error,
                })?,
        };
        let local_addr = listener.local_addr().map_err(|error| AdminError::Bind {
            addr: config.addr.value,
            source: config.addr.source.clone(),
            error,
        })?;
        let previous = report::PreviousShutdown::read(shutdown.config());
        let mut state = context::State::new(shutdown.clone(), config, previous);
        state.operations = self.operations;
        state.recovered = std::sync::Mutex::new(self.recovered);
        #[cfg(feature = "metrics")]
        {
            state.prometheus = match self.prometheus {
                Some(h) => Some(h),
                None => match crate::metrics::install() {
                    Ok(h) => Some(h),
                    Err(e) => {
                        tracing::warn!(target: "graceful::admin", "/metrics is unavailable: {e}");
                        None
                    }
                },
            };
            crate::metrics::attach(shutdown);
            state.process_metrics.describe();
        }
        let keys = state.config.api_keys.len();
        tracing::info!(target: "graceful::admin", addr = %local_addr, api_keys = keys, "admin API listening");
        if keys == 0 {
            tracing::info!(
                target: "graceful::admin",
                "no admin API key configured: only the health probes are served; set GRACEFUL_ADMIN_API_KEY to enable the rest"
            );
        }
        // At the very end, give open event streams the chance to deliver the final phase.
        shutdown.on_finished(state.streams.clone().all_closed());
        let linger = state.config.linger.value;
        let metrics = match state.config.metrics_addr.value {
            Some(addr) => Some(metrics_listener(shutdown, &state, addr).await?),
            None => None,
        };
        let metrics_addr = metrics.as_ref().map(|(a, _)| *a);
        let state = Arc::new(state);
        let state_for_server = state.clone();
        let cpu = state.cpu.clone();
        let task = tokio::spawn(async move {
            // The CPU sampler and the metrics listener live as long as the server: aborting
            // the task ends all three.
            let metrics = async move {
                if let Some((_, serve)) = metrics {
                    serve.await;
                }
            };
            tokio::join!(
                server::serve(listener, state_for_server),
                cpu.run(),
                metrics
            );
        });
        Ok(AdminHandle {
            local_addr,
            metrics_addr,
            task,
            linger,
            state,
        })
    }
}

/// Binds an admin listener; with feature `upgrade`, through the listener registry, so that
/// the socket is inherited by name and handed to a successor like the service's own.
async fn bind(
    shutdown: &Shutdown,
    name: &str,
    addr: SocketAddr,
) -> std::io::Result<tokio::net::TcpListener> {
    #[cfg(all(feature = "upgrade", unix))]
    {
        Ok(crate::upgrade::Listeners::of(shutdown)
            .tcp(name, addr)
            .await?)
    }
    #[cfg(not(all(feature = "upgrade", unix)))]
    {
        let _ = (shutdown, name);
        tokio::net::TcpListener::bind(addr).await
    }
}

/// Binds the metrics-only listener: the metrics route at its configured path, no key.
async fn metrics_listener(
    shutdown: &Shutdown,
    admin: &context::State,
    addr: SocketAddr,
) -> Result<(SocketAddr, impl std::future::Future<Output = ()> + use<>), AdminError> {
    let bind_error = |error| AdminError::Bind {
        addr,
        source: admin.config.metrics_addr.source.clone(),
        error,
    };
    let listener = bind(shutdown, "admin-metrics", addr)
        .await
        .map_err(bind_error)?;
    let local = listener.local_addr().map_err(bind_error)?;
    let mut state = context::State::new(shutdown.clone(), admin.config.clone(), None);
    state.table = vec![(admin.config.path(Route::Metrics), Route::Metrics)];
    state.open = true;
    state.cpu = admin.cpu.clone();
    #[cfg(feature = "metrics")]
    {
        state.prometheus = admin.prometheus.clone();
    }
    tracing::info!(target: "graceful::admin", addr = %local, "metrics listener (no key) listening");
    Ok((local, server::serve(listener, Arc::new(state))))
}

/// The running admin API.
#[derive(Debug)]
pub struct AdminHandle {
    local_addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    task: JoinHandle<()>,
    linger: Duration,
    state: Arc<context::State>,
}

impl std::fmt::Debug for context::State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("config", &self.config)
            .field("operations", &self.operations)
            .finish_non_exhaustive()
    }
}

impl AdminHandle {
    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The metrics-only listener's address, when `metrics_addr` is configured.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Reports what was recovered at start, once the application knows (its saved state is
    /// restored when resources are built, which may be after the admin API started):
    /// `/status` shows it under `recovered`.
    pub fn recovered(&self, recovered: Recovered) {
        crate::sync::lock(&self.state.recovered).push(recovered);
    }

    /// Keeps the API answering for the configured `linger` (default 0: returns at once).
    /// Await it after the shutdown has finished (after [`Graceful::run`](crate::Graceful::run)
    /// returns): meanwhile `/status` reports `STOPPED` and a stop request gets 404
    /// `DAEMON_NOT_RUNNING`, so a client that polls the status sees the stop complete instead
    /// of a refused connection.
    pub async fn linger(&self) {
        if !self.linger.is_zero() {
            tracing::debug!(target: "graceful::admin", linger = %crate::took::Took(self.linger), "admin API lingers after the shutdown");
            tokio::time::sleep(self.linger).await;
        }
    }

    /// Stops accepting connections. Connections already open finish their current request.
    pub fn stop(self) {
        self.task.abort();
    }
}
