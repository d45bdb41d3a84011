//! Why an upgrade did not happen. Every message says what to do; after any of them the
//! process keeps serving as before.

use std::path::PathBuf;
use std::time::Duration;

/// Why an upgrade failed or was refused. The old process keeps serving in every case.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum UpgradeError {
    /// Another upgrade is running; one runs at a time.
    #[error("an upgrade is already in progress (successor pid {pid}); wait for it to finish")]
    InProgress {
        /// The successor being started.
        pid: u32,
    },
    /// The service is shutting down.
    #[error("the service is shutting down; start it again instead of upgrading it")]
    ShuttingDown,
    /// Upgrades are configured off.
    #[error("{why}")]
    Unavailable {
        /// Why, and what to change.
        why: String,
    },
    /// The successor could not be started at all.
    #[error(
        "cannot start the successor {binary}: {message}; check that the file exists and is executable"
    )]
    Spawn {
        /// The binary recorded at start-up.
        binary: PathBuf,
        /// What failed.
        message: String,
    },
    /// The successor exited before it said it was ready.
    #[error("the successor (pid {pid}) exited before it was ready: {status}{}", Tail(.stderr))]
    Exited {
        /// Its pid.
        pid: u32,
        /// How it exited (`exit status: 70`, `signal: 9 (SIGKILL)`).
        status: String,
        /// Its last lines on stderr.
        stderr: Vec<String>,
    },
    /// The successor did not say it was ready within `[upgrade] timeout`; it was killed with
    /// its process group.
    #[error(
        "the successor (pid {pid}) was not ready after {after:?} (`[upgrade] timeout`) and was \
         killed{}",
        Tail(.stderr)
    )]
    TimedOut {
        /// Its pid.
        pid: u32,
        /// How long it had.
        after: Duration,
        /// Its last lines on stderr.
        stderr: Vec<String>,
    },
    /// The successor closed the control channel or sent something else than the protocol's
    /// messages (a program built without the `upgrade` feature, or another program).
    #[error(
        "the successor (pid {pid}) does not speak the upgrade protocol ({what}); it was killed. \
         Is the new binary built with graceful's `upgrade` feature?{}",
        Tail(.stderr)
    )]
    Protocol {
        /// Its pid.
        pid: u32,
        /// What it did.
        what: String,
        /// Its last lines on stderr.
        stderr: Vec<String>,
    },
}

impl UpgradeError {
    /// The refusal while start-up runs.
    pub(crate) fn starting() -> UpgradeError {
        UpgradeError::Unavailable {
            why: "the service is still starting; upgrade it once it is ready (its start-up \
                  finished and `/health/ready` answers 200)"
                .into(),
        }
    }

    /// The successor's pid, when one was started.
    pub fn successor(&self) -> Option<u32> {
        match self {
            UpgradeError::InProgress { pid }
            | UpgradeError::Exited { pid, .. }
            | UpgradeError::TimedOut { pid, .. }
            | UpgradeError::Protocol { pid, .. } => Some(*pid),
            _ => None,
        }
    }

    /// The successor's last lines on stderr, when it failed.
    pub fn stderr(&self) -> &[String] {
        match self {
            UpgradeError::Exited { stderr, .. }
            | UpgradeError::TimedOut { stderr, .. }
            | UpgradeError::Protocol { stderr, .. } => stderr,
            _ => &[],
        }
    }

    /// How the successor exited, when it did on its own.
    pub fn exit_status(&self) -> Option<&str> {
        match self {
            UpgradeError::Exited { status, .. } => Some(status),
            _ => None,
        }
    }

    /// Whether the request was refused (another upgrade runs, the service stops, upgrades are
    /// off) rather than tried and failed.
    pub fn is_refused(&self) -> bool {
        matches!(
            self,
            UpgradeError::InProgress { .. }
                | UpgradeError::ShuttingDown
                | UpgradeError::Unavailable { .. }
        )
    }
}

/// The last stderr lines, for a message.
struct Tail<'a>(&'a [String]);

impl std::fmt::Display for Tail<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(last) = self.0.last() {
            write!(f, "; its last line on stderr: {last}")?;
        }
        Ok(())
    }
}
