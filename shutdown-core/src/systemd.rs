//! systemd integration (feature `systemd`): `Type=notify` readiness and stop notifications,
//! the watchdog, and socket activation by name.
//!
//! ```no_run
//! # async fn demo(shutdown: graceful::Shutdown) -> Result<(), Box<dyn std::error::Error>> {
//! graceful::systemd::notify(&shutdown);                 // READY=1, STATUS=…, STOPPING=1, …
//! let mut sockets = graceful::systemd::sockets()?;      // LISTEN_FDS + LISTEN_FDNAMES, if any
//! // The socket named `http` (`FileDescriptorName=http`), or a new one on 127.0.0.1:8080.
//! let http = sockets.tcp_or_bind("http", "127.0.0.1:8080").await?;
//! // The Unix socket named `admin`, or a new one at that path.
//! let admin = sockets.unix_or_bind("admin", "/run/my-service/admin.sock")?;
//! # let _ = (http, admin); Ok(()) }
//! ```
//!
//! What [`notify`] sends on `$NOTIFY_SOCKET` (nothing at all when it is unset):
//!
//! | when | message |
//! |---|---|
//! | every resource is built and `main` starts | `READY=1`, `STATUS=running` |
//! | the first moment of shutdown | `STOPPING=1`, then `STATUS=<phase>` |
//! | each later phase | `STATUS=<phase>` |
//! | while shutting down, every `extend_interval` | `EXTEND_TIMEOUT_USEC=…` (bounded by the engine's own deadline) |
//! | `WATCHDOG_USEC` is set | `WATCHDOG=1` every half of it |
//!
//! `EXTEND_TIMEOUT_USEC` keeps systemd from killing a shutdown that is still within its own
//! `timeout` even if `TimeoutStopSec` is shorter; the engine's deadline still bounds it.
//! `examples/systemd/graceful-daemon.service` is a unit file to start from.
//!
//! On Windows the feature compiles and is inactive: [`notify`] sends nothing, [`sockets`] is
//! always empty (every `_or_bind` call binds), and the Unix-socket methods do not exist.

use std::time::Duration;

mod sockets;

#[cfg(all(feature = "upgrade", unix))]
pub(crate) use sockets::with_passed;
pub use sockets::{ActivationError, Sockets, UNNAMED, sockets};

#[cfg(not(unix))]
use inactive::NotifyState;
#[cfg(unix)]
use sd_notify::NotifyState;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

use crate::config::{Config, ConfigError, ConfigIssue, Env, Section, Setting, key, value};
use crate::shutdown::{Event, Shutdown};

/// The default interval between two `EXTEND_TIMEOUT_USEC` messages.
pub const DEFAULT_EXTEND_INTERVAL: Duration = Duration::from_secs(5);

/// The `[systemd]` table and its `GRACEFUL_SYSTEMD_*` variables.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SystemdConfig {
    /// How often to re-send `EXTEND_TIMEOUT_USEC` while shutting down.
    pub extend_interval: Setting<Duration>,
}

impl Default for SystemdConfig {
    fn default() -> Self {
        SystemdConfig {
            extend_interval: Setting::default_value(DEFAULT_EXTEND_INTERVAL),
        }
    }
}

impl SystemdConfig {
    /// The keys of the `[systemd]` table.
    pub(crate) const KEYS: Section<SystemdConfig> = Section {
        name: "systemd",
        keys: &[key!(
            "extend_interval",
            Some("GRACEFUL_SYSTEMD_EXTEND_INTERVAL"),
            extend_interval,
            value::duration,
            "how often `EXTEND_TIMEOUT_USEC` is re-sent while shutting down"
        )],
        check: |out, _config, _env, issues| {
            if out.extend_interval.value.is_zero() {
                issues.push(ConfigIssue {
                    key: "systemd.extend_interval".into(),
                    source: out.extend_interval.source.clone(),
                    message: "must be greater than zero (it is how often systemd is asked for                               more time); write a duration such as \"5s\""
                        .into(),
                });
            }
        },
    };

    /// The defaults < the `[systemd]` table of `config`'s file < the environment `env`.
    pub fn load(config: &Config, env: &Env) -> Result<Self, ConfigError> {
        SystemdConfig::KEYS.load(SystemdConfig::default(), config, env)
    }

    /// The `[systemd]` section of `config` as it was loaded with the rest of the
    /// configuration, from the same file and environment (read from its file table alone for
    /// a configuration that was never loaded).
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        config.section(&SystemdConfig::KEYS)
    }
}

inventory::submit! {
    crate::config::sections::Registration(&SystemdConfig::KEYS)
}

/// How often to re-send `EXTEND_TIMEOUT_USEC`: `[systemd] extend_interval` in the configuration
/// file, `GRACEFUL_SYSTEMD_EXTEND_INTERVAL` in the environment (which wins).
pub fn extend_interval(config: &Config, env: &Env) -> Result<Duration, ConfigError> {
    SystemdConfig::load(config, env).map(|c| c.extend_interval.value)
}

/// Sends systemd the service's life as it happens (see the [module docs](self)) on a
/// background task that is not tracked work. Does nothing when `NOTIFY_SOCKET` is unset.
/// The extend interval is the `[systemd]` section of the engine's configuration, loaded and
/// checked before the engine started (an invalid one stopped start-up there).
pub fn notify(shutdown: &Shutdown) -> JoinHandle<()> {
    let interval = SystemdConfig::from_config(shutdown.config())
        .map_or(DEFAULT_EXTEND_INTERVAL, |c| c.extend_interval.value);
    notify_with(shutdown, interval)
}

/// [`notify`] with an explicit `EXTEND_TIMEOUT_USEC` interval.
pub fn notify_with(shutdown: &Shutdown, extend_interval: Duration) -> JoinHandle<()> {
    // Subscribe now, so no phase change between this call and the task's start is missed.
    let mut events = shutdown.events();
    // The engine waits (briefly) for the last `STATUS=` before it returns.
    let done = shutdown.hold_finish();
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        let _done = done;
        if std::env::var_os("NOTIFY_SOCKET").is_none() {
            return;
        }
        let watchdog = watchdog_interval();
        let mut watchdog_tick =
            tokio::time::interval(watchdog.unwrap_or(Duration::from_secs(3600)));
        tokio::select! {
            _ = shutdown.started() => send(&[NotifyState::Ready, NotifyState::Status("running")]),
            _ = shutdown.requested() => {}
        }
        let mut extend_tick = tokio::time::interval(extend_interval);
        let mut stopping = false;
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Ok(Event::Phase { phase }) => {
                        if !stopping && phase.is_shutting_down() {
                            if matches!(shutdown.reason(), Some(crate::ShutdownReason::Upgrade { .. })) {
                                // The successor is the main process now: this one's stop is
                                // not the service's.
                                return;
                            }
                            stopping = true;
                            send(&[NotifyState::Stopping]);
                            extend(&shutdown, extend_interval);
                            extend_tick.reset();
                        }
                        send(&[NotifyState::Status(phase.as_str())]);
                        if phase.is_finished() {
                            return;
                        }
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                },
                _ = extend_tick.tick(), if stopping => extend(&shutdown, extend_interval),
                _ = watchdog_tick.tick(), if watchdog.is_some() => send(&[NotifyState::Watchdog]),
            }
        }
    })
}

/// Half of `WATCHDOG_USEC`, when the watchdog is meant for this process. As in libsystemd's
/// `sd_watchdog_enabled`, a `WATCHDOG_PID` naming another process disables it, and an absent
/// one does not (the `sd-notify` crate requires it; systemd always sets it, tests need not).
fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.trim().parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID")
        && pid.trim().parse::<u32>().ok() != Some(std::process::id())
    {
        return None;
    }
    (usec > 0).then(|| Duration::from_micros(usec / 2).max(Duration::from_millis(10)))
}

/// Asks systemd for time until the next extension, never beyond the engine's own deadline.
fn extend(shutdown: &Shutdown, interval: Duration) {
    let left = shutdown
        .timeout()
        .saturating_sub(shutdown.elapsed().unwrap_or_default());
    let ask = (interval * 2).min(left + Duration::from_secs(1));
    let usec = u32::try_from(ask.as_micros()).unwrap_or(u32::MAX);
    send(&[NotifyState::ExtendTimeoutUsec(usec)]);
}

/// Sends `states` on `$NOTIFY_SOCKET` (nothing when it is unset); a failure is logged.
#[cfg(unix)]
pub(crate) fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::warn!(target: "graceful::systemd", "cannot notify systemd: {e}");
    }
}

/// Nothing to send to where systemd does not run.
#[cfg(not(unix))]
pub(crate) fn send(_states: &[NotifyState<'_>]) {}

/// Where systemd does not run: the messages [`notify`] would send, sent nowhere.
#[cfg(not(unix))]
mod inactive {
    // The fields are what the message would carry; nothing reads them here.
    #[allow(dead_code)]
    pub(crate) enum NotifyState<'a> {
        Ready,
        Status(&'a str),
        Stopping,
        Watchdog,
        ExtendTimeoutUsec(u32),
    }
}

/// The TCP listeners passed by socket activation, in descriptor order, whatever their names;
/// empty when the process was not socket-activated. The variables are checked, removed and the
/// descriptors marked close-on-exec as [`sockets`] does; as there, the sockets are taken only
/// when `LISTEN_PID` names this process (`systemfd --no-pid` passes none). A passed descriptor
/// that is not a TCP listener is an error naming it.
#[deprecated(
    since = "0.1.0",
    note = "take listeners by name with `graceful::systemd::sockets()`: TCP and Unix sockets, \
            a fallback address, typed errors"
)]
pub fn listeners() -> std::io::Result<Vec<std::net::TcpListener>> {
    Ok(sockets()?.all_std_tcp()?)
}

/// [`listeners`] as non-blocking `tokio` listeners, ready for `graceful::http::serve` or
/// `axum::serve`. Must be called inside a tokio runtime.
#[deprecated(
    since = "0.1.0",
    note = "take listeners by name with `graceful::systemd::sockets()` and `Sockets::tcp`"
)]
pub fn tokio_listeners() -> std::io::Result<Vec<tokio::net::TcpListener>> {
    #[allow(deprecated)]
    listeners()?
        .into_iter()
        .map(|l| {
            l.set_nonblocking(true)?;
            tokio::net::TcpListener::from_std(l)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn operations_doc_table_is_the_key_table() {
        let doc = include_str!("../../docs/operations.md");
        crate::config::tests::assert_doc_table(
            doc,
            "docs/operations.md",
            "systemd",
            &SystemdConfig::KEYS.markdown(),
        );
    }

    use super::*;

    #[test]
    fn extend_interval_layers_and_errors() {
        assert_eq!(
            extend_interval(&Config::default(), &Env::None).ok(),
            Some(DEFAULT_EXTEND_INTERVAL)
        );
        let config = Config::default()
            .apply_toml("[systemd]\nextend_interval = \"2s\"\n", "/etc/app.toml")
            .expect("valid");
        assert_eq!(
            extend_interval(&config, &Env::None).ok(),
            Some(Duration::from_secs(2))
        );
        let env = Env::Map(
            [(
                "GRACEFUL_SYSTEMD_EXTEND_INTERVAL".to_string(),
                "500ms".to_string(),
            )]
            .into(),
        );
        assert_eq!(
            extend_interval(&config, &env).ok(),
            Some(Duration::from_millis(500))
        );
        let bad = Config::default()
            .apply_toml("[systemd]\nextend = \"2s\"\n", "/etc/app.toml")
            .expect("valid");
        let err = extend_interval(&bad, &Env::None).expect_err("unknown key");
        assert!(
            err.to_string().contains("systemd.extend") && err.to_string().contains("accepted keys"),
            "{err}"
        );
    }
}
