//! [`Trigger`]: how a test starts the shutdown, the way production does.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::engine::Deliveries;
use crate::reason::Signal;
use crate::shutdown::Shutdown;
use crate::sync::lock;

/// Something that starts (or forces) the shutdown, delivered by the kit at a chosen moment.
///
/// `main` returning `Ok` or `Err` is a trigger too: the test's `main` does it, as the
/// service's does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trigger {
    /// An OS signal, delivered to the engine (not to the test process) through the same
    /// policy as a real one: the first starts the shutdown, a copy within
    /// `signal_repeat_window` is ignored, a second one forces the shutdown.
    Signal(Signal),
    /// What the admin API's `POST /shutdown` does: a graceful shutdown (with its own overall
    /// deadline when `timeout` is set), or, with `force`, a forced one (`DELETE /shutdown`).
    AdminStop {
        /// `"force": true`.
        force: bool,
        /// `"timeout_seconds"`.
        timeout: Option<Duration>,
    },
    /// [`Shutdown::trigger`] with this reason.
    Request(String),
    /// [`Shutdown::trigger_with_timeout`]: a shutdown whose overall deadline is this one.
    Deadline(Duration),
    /// [`Shutdown::fail`]: a fatal failure of `resource`.
    Fail {
        /// What failed.
        resource: String,
        /// Why.
        error: String,
    },
    /// [`Shutdown::force`].
    Force,
}

impl Trigger {
    /// [`Trigger::AdminStop`] without a deadline of its own.
    pub fn admin_stop() -> Trigger {
        Trigger::AdminStop {
            force: false,
            timeout: None,
        }
    }

    /// [`Trigger::Fail`].
    pub fn fail(resource: impl Into<String>, error: impl Into<String>) -> Trigger {
        Trigger::Fail {
            resource: resource.into(),
            error: error.into(),
        }
    }
}

impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Trigger::Signal(s) => write!(f, "signal {s}"),
            Trigger::AdminStop { force, timeout } => {
                write!(f, "admin stop (force: {force}, timeout: {timeout:?})")
            }
            Trigger::Request(r) => write!(f, "trigger({r:?})"),
            Trigger::Deadline(d) => write!(f, "trigger_with_timeout({d:?})"),
            Trigger::Fail { resource, error } => write!(f, "fail({resource:?}, {error:?})"),
            Trigger::Force => f.write_str("force()"),
        }
    }
}

/// When the kit delivers a trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    /// This long after start-up finished (`main` started); never, if start-up fails.
    AfterStart(Duration),
    /// This long after the run began, whether or not start-up has finished.
    FromLaunch(Duration),
}

/// Delivers triggers to one engine; signals share one [`Deliveries`], as they share one
/// listener in production.
#[derive(Clone)]
pub(crate) struct Deliverer {
    shutdown: Shutdown,
    signals: Arc<Mutex<Deliveries>>,
}

impl Deliverer {
    pub(crate) fn new(shutdown: &Shutdown) -> Deliverer {
        Deliverer {
            shutdown: shutdown.clone(),
            // The test process is not the service's: a second signal forces the shutdown
            // instead of exiting the process.
            signals: Arc::new(Mutex::new(Deliveries::new(shutdown, false))),
        }
    }

    pub(crate) fn deliver(&self, trigger: &Trigger) {
        let shutdown = &self.shutdown;
        match trigger {
            Trigger::Signal(sig) => {
                let at = tokio::time::Instant::now().into_std();
                lock(&self.signals).deliver(*sig, at);
            }
            Trigger::AdminStop { force, timeout } => {
                // As `POST`/`DELETE /shutdown` (admin/stop.rs) do, without the HTTP around it.
                let reason = "admin API request";
                if *force {
                    shutdown.force(reason);
                } else if let Some(t) = timeout {
                    shutdown.trigger_with_timeout(reason, *t);
                } else {
                    shutdown.trigger(reason);
                }
            }
            Trigger::Request(reason) => {
                shutdown.trigger(reason.as_str());
            }
            Trigger::Deadline(d) => {
                shutdown.trigger_with_timeout("deadline", *d);
            }
            Trigger::Fail { resource, error } => {
                shutdown.fail(resource.as_str(), error);
            }
            Trigger::Force => shutdown.force("forced"),
        }
    }
}
