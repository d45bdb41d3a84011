//! In-place upgrades (feature `upgrade`, Unix): a new binary takes over the listening sockets
//! while the old process drains, so that nobody is refused, with no load balancer in front.
//!
//! ```no_run
//! use graceful::Shutdown;
//! use graceful::upgrade::Listeners;
//!
//! #[graceful::main]
//! async fn main(shutdown: Shutdown) -> std::io::Result<()> {
//!     // Inherited from the predecessor (or systemd) when it passed `http`, bound otherwise.
//!     let http = Listeners::of(&shutdown).tcp("http", "127.0.0.1:8080").await?;
//!     let app = axum::Router::new().route("/", axum::routing::get(|| async { "v1" }));
//!     graceful::http::serve(http, app, &shutdown).await
//! }
//! ```
//!
//! Then, after replacing the binary on disk (`mv new-build /usr/local/bin/app`):
//! `kill -USR2 <pid>`, `POST /upgrade` on the admin API, `gracefulctl upgrade NAME`, or
//! `systemctl reload app` under `Type=notify-reload`.
//!
//! # What happens
//! 1. The old process starts the binary path it was started from (recorded at start-up: after
//!    `mv new old`, it names the new file) with the same arguments and environment, its
//!    listeners at descriptors 3, 4, … named in `LISTEN_FDS`/`LISTEN_FDNAMES` (the protocol of
//!    systemd's socket activation, so [`Listeners`] takes them by name), and a control channel.
//!    It keeps serving.
//! 2. The successor builds its resources, takes the listeners and, once start-up has finished
//!    and readiness is true (no [`ReadinessHold`](crate::ReadinessHold) held), says `ready`.
//!    Until then its stderr goes through the old process, which keeps the last lines for the
//!    report of a failure.
//! 3. Only then does the old process start its shutdown with reason `upgrade → pid N`: it skips
//!    `readiness_delay` (the same sockets keep being served), closes its copies of the listeners
//!    (the accept queue belongs to the shared socket: nothing queued is reset), drains its
//!    connections as [`http::serve`](crate::http) does at any drain (a keep-alive connection in
//!    use gets `[http] request_grace` to deliver the request on its way, answered with
//!    `Connection: close`), saves state (straight to the successor when it can, see below),
//!    closes, and exits 0.
//!
//! The admin listener (feature `admin`) is handed over like the others, and exactly one process
//! accepts on it at a time: the old one until the successor says it is ready (the successor
//! accepts nothing there before), the successor from that moment. What the old process had
//! already accepted it answers with `Connection: close`, its readiness probes as the successor
//! would (200, `handed_over_to`). A probe that opens a connection per check (HAProxy's
//! `option httpchk`, the kubelet) never sees an upgrade, even with `fall 1`.
//!
//! A successor that exits, is not ready within `[upgrade] timeout`, or does not speak the
//! protocol (a build without this feature) is killed with its process group; the old process
//! keeps serving and its readiness never flips. The failure is a log line (target
//! `graceful::upgrade`), an [`Event::UpgradeFailed`](crate::Event::UpgradeFailed), the metric
//! `graceful_upgrades_total{result="failed"}` (feature `metrics`), and the answer of the request
//! that asked for it. One upgrade runs at a time; a second request is refused.
//!
//! # Saved state
//! With the `state` feature, what `Saved<S>` saves goes over the control channel instead of
//! the state directory: the successor's `Saved<S>::lock` waits until the predecessor has
//! handed it over (its single-owner work starts with the state, and only one process owns
//! it). If the channel breaks, the predecessor writes the state directory and the successor
//! reads it from there. Do not hold readiness down until state is restored: the state comes
//! only after the successor said it is ready.
//!
//! # systemd
//! Under `Type=notify-reload` with `ReloadSignal=SIGUSR2` and `NotifyAccess=all`,
//! `systemctl reload` runs an upgrade: the old process sends `RELOADING=1` with
//! `MONOTONIC_USEC`, then `MAINPID=<successor>` and `READY=1` once the successor took over (or
//! `READY=1` and a `STATUS=` naming the failure), and sends no `STOPPING=1` for its own
//! upgrade shutdown. See `examples/systemd/graceful-upgrade.service`.
//!
//! # The two modes and what each guarantees
//! - **Successor** (default): two processes overlap for as long as the old one drains. No
//!   connection is refused, and **0 failed requests with clients that never retry**: 20
//!   upgrades in a row under back-to-back keep-alive clients, a keep-alive client pausing 20 ms,
//!   connection-per-request clients and a long poll, none of which retries, lose no request
//!   and get no non-2xx answer, and the state moves exactly once (the test
//!   `twenty_upgrades_under_load_lose_nothing` in `tests-integration`). Requests are answered
//!   by either version during the overlap. The one race no server removes is a client that
//!   sends on a keep-alive connection idle for the whole `request_grace` just as it closes:
//!   such a client must be ready to reconnect, as for any server's idle timeout. Not for
//!   services that must never run twice (an exclusive lock, a serial port).
//! - **fd store** (`[upgrade] fd_store = true`): no successor is ever started; at shutdown the
//!   listeners go to systemd's file descriptor store, and `systemctl restart` passes them to
//!   the next start. Never two processes at once; clients wait in the backlog (latency, no
//!   refusal) while the service restarts. Needs systemd with `FileDescriptorStoreMax=`.
//!
//! # PID file
//! `[upgrade] pid_file = "/run/app.pid"` writes the pid atomically once the service is ready
//! and holds a lock on it for the process's lifetime; the successor writes its own over it, so
//! systemd's `PIDFile=`, scripts and `gracefulctl` follow it. [`live_owner`] tells a live owner
//! from a stale file.

mod config;
mod error;
mod fdstore;
mod listeners;
mod notify;
mod os;
mod pidfile;
mod predecessor;
mod protocol;
mod successor;
#[cfg(feature = "admin")]
pub(crate) mod turn;

use std::sync::{Arc, OnceLock};

pub use config::{DEFAULT_TIMEOUT, UpgradeConfig};
pub use error::UpgradeError;
pub use listeners::{ListenerError, Listeners};
pub use pidfile::live_owner;
pub use predecessor::Successor;

use crate::phase::Phase;
use crate::reason::ShutdownReason;
use crate::shutdown::Shutdown;
use listeners::Registry;
use predecessor::Upgrader;
#[cfg_attr(not(feature = "state"), allow(unused_imports))]
pub(crate) use successor::Inbox;

// In-place upgrades as a feature of the engine: started with it (see [`start`]).
inventory::submit! {
    crate::shutdown::Feature {
        name: "upgrade",
        start,
    }
}

/// The upgrader of one engine, set when the engine starts.
#[derive(Default)]
struct Slot(OnceLock<Arc<Upgrader>>);

impl crate::shutdown::Extension for Slot {
    /// An upgrade's successor serves the same sockets: the old process skips the readiness
    /// delay.
    fn continues_serving(&self, reason: &ShutdownReason) -> bool {
        matches!(reason, ShutdownReason::Upgrade { .. })
    }
}

/// Starts a successor from the binary recorded at start-up and hands it the listeners; returns
/// once it said it is ready (this process is then shutting down in its favour) or failed (this
/// process keeps serving). What the signal, the admin API's `POST /upgrade` and
/// `gracefulctl upgrade` call.
///
/// # Errors
/// [`UpgradeError`]: refused (another upgrade runs, the service stops, the fd-store mode is
/// on) or failed (the successor exited, timed out or does not speak the protocol); the process
/// keeps serving in every case.
pub async fn upgrade(shutdown: &Shutdown) -> Result<Successor, UpgradeError> {
    let Some(up) = shutdown.extension::<Slot>().0.get().cloned() else {
        if !shutdown.is_started() {
            return Err(UpgradeError::starting());
        }
        return Err(UpgradeError::Unavailable {
            why: "in-place upgrades are off: the `[upgrade]` configuration is invalid or this \
                  program's binary could not be found (see the start-up log)"
                .into(),
        });
    };
    predecessor::run(shutdown, &up).await
}

/// Wires upgrades into an engine that starts: the successor's side when a predecessor started
/// this process, the trigger signal, the PID file, and what the listeners become at shutdown.
fn start(shutdown: &Shutdown) {
    // Registered first, so that an upgrade's shutdown skips the readiness delay even when
    // the rest of the wiring fails below.
    let slot = shutdown.extension::<Slot>();
    if let Some(channel) = successor::inherited() {
        successor::start(shutdown, channel);
    }
    // Loaded and checked with the rest of the configuration before the engine was built: an
    // invalid `[upgrade]` stopped start-up there.
    let config = match UpgradeConfig::from_config(shutdown.config()) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(target: "graceful::upgrade", "{e}; in-place upgrades are off");
            eprintln!("graceful: {e}; in-place upgrades are off");
            return;
        }
    };
    if let Some(path) = config.pid_file.value.clone() {
        pid_file(shutdown, path);
    }
    let up = match Upgrader::new(config) {
        Ok(up) => Arc::new(up),
        Err(e) => {
            tracing::error!(target: "graceful::upgrade", "cannot find this program's own binary: {e}; in-place upgrades are off");
            return;
        }
    };
    let _ = slot.0.set(up.clone());
    for signal in up.config.signal.value.clone() {
        listen(shutdown, signal);
    }
    // At the trigger the registry lets go of its copies, so that the process's own listeners
    // are the last ones (a successor holds its own); in the fd-store mode they go to systemd
    // first.
    let s = shutdown.clone();
    tokio::spawn(async move {
        s.requested().await;
        let held = s.extension::<Registry>().release();
        let upgrading = matches!(s.reason(), Some(ShutdownReason::Upgrade { .. }));
        if up.config.fd_store.value && !upgrading && !held.is_empty() {
            fdstore::push(&held);
        }
    });
}

/// Starts an upgrade whenever `signal` arrives.
fn listen(shutdown: &Shutdown, signal: crate::reason::Signal) {
    use tokio::signal::unix::{SignalKind, signal as unix_signal};
    let mut stream = match unix_signal(SignalKind::from_raw(signal.number())) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(target: "graceful::upgrade", "cannot listen to {signal}: {e}; upgrades start only from the admin API");
            return;
        }
    };
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                got = stream.recv() => if got.is_none() { return },
                _ = shutdown.requested() => return,
            }
            tracing::info!(target: "graceful::upgrade", "{signal}: upgrading");
            let s = shutdown.clone();
            // Not awaited here, so that a second signal is answered (refused) at once.
            tokio::spawn(async move {
                if let Err(e) = upgrade(&s).await
                    && e.is_refused()
                {
                    tracing::warn!(target: "graceful::upgrade", "{signal} ignored: {e}");
                }
            });
        }
    });
}

/// Writes the PID file once ready. Its removal (unless a successor replaced it) is the
/// engine's end-of-run work, done before the run returns (see [`pidfile::Owned`]).
fn pid_file(shutdown: &Shutdown, path: std::path::PathBuf) {
    // Registered now, so that the end of the run finds it even if the file comes late.
    let owned = shutdown.extension::<pidfile::Owned>();
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        if !ready(&shutdown).await {
            return;
        }
        match pidfile::PidFile::write(&path) {
            Ok(file) => {
                tracing::info!(target: "graceful::upgrade", path = %path.display(), "PID file written");
                owned.keep(file);
            }
            Err(e) => {
                tracing::error!(target: "graceful::upgrade", path = %path.display(), "cannot write the PID file: {e}");
            }
        }
    });
}

/// Waits until start-up has finished and readiness is true; `false` if the shutdown starts
/// first.
pub(crate) async fn ready(shutdown: &Shutdown) -> bool {
    let mut holds = shutdown.readiness_changes();
    loop {
        if shutdown.is_ready() {
            return true;
        }
        if shutdown.is_shutting_down() {
            return false;
        }
        tokio::select! {
            _ = shutdown.started(), if !shutdown.is_started() => {}
            changed = holds.changed() => if changed.is_err() { return false },
            _ = shutdown.requested() => return false,
        }
    }
}

/// During an upgrade's shutdown: sends a saved state straight to the successor. `false` when
/// there is no successor to send to, or sending failed (then the caller writes the state
/// directory).
#[cfg_attr(not(feature = "state"), allow(dead_code))]
pub(crate) async fn hand_over(shutdown: &Shutdown, name: &str, bytes: &[u8]) -> bool {
    let Some(up) = shutdown.extension::<Slot>().0.get().cloned() else {
        return false;
    };
    let mut channel = up.channel.lock().await;
    let Some(stream) = channel.as_mut() else {
        return false;
    };
    match protocol::write_state(stream, name, bytes).await {
        Ok(()) => {
            tracing::info!(target: "graceful::upgrade", state = name, bytes = bytes.len(), "state handed to the successor");
            true
        }
        Err(e) => {
            tracing::warn!(target: "graceful::upgrade", state = name, "cannot hand the state to the successor: {e}; writing the state directory");
            *channel = None;
            false
        }
    }
}

/// Registers, for an upgrade's shutdown, the hook that tells the successor every state was
/// sent (after the save, before the flush).
fn finish_hand_over(shutdown: &Shutdown) {
    shutdown.on_phase(
        Phase::FlushingBuffers,
        "hand over to the successor",
        |s| async move {
            if let Some(up) = s.extension::<Slot>().0.get().cloned()
                && let Some(mut stream) = up.channel.lock().await.take()
            {
                let _ = protocol::write_line(&mut stream, protocol::DONE).await;
            }
            Ok(())
        },
    );
}
