//! Why a shutdown started.

use std::fmt;

/// An operating-system signal (or Windows console event) that can trigger a shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Signal {
    /// `SIGTERM` (15): what Kubernetes, systemd and `kill` send.
    Term,
    /// `SIGINT` (2): Ctrl-C in a terminal.
    Int,
    /// `SIGHUP` (1): the terminal went away.
    Hup,
    /// `SIGQUIT` (3).
    Quit,
    /// `SIGUSR1` (10).
    Usr1,
    /// `SIGUSR2` (12).
    Usr2,
    /// Windows Ctrl-Break (`CTRL_BREAK_EVENT`; SIGINT on Unix).
    CtrlBreak,
    /// Windows console close (`CTRL_CLOSE_EVENT`; SIGHUP on Unix). Windows ends the process
    /// about 5 s later: the shutdown is fitted in that.
    CtrlClose,
    /// Windows logoff (`CTRL_LOGOFF_EVENT`, received by services only; SIGHUP on Unix).
    /// Windows ends the process about 5 s later: the shutdown is fitted in that.
    CtrlLogoff,
    /// Windows system shutdown (`CTRL_SHUTDOWN_EVENT`, received by services only; SIGTERM on
    /// Unix). Windows ends the process about 5 s later: the shutdown is fitted in that.
    CtrlShutdown,
}

impl Signal {
    /// Every accepted signal, for error messages.
    pub const ALL: [Signal; 10] = [
        Signal::Term,
        Signal::Int,
        Signal::Hup,
        Signal::Quit,
        Signal::Usr1,
        Signal::Usr2,
        Signal::CtrlBreak,
        Signal::CtrlClose,
        Signal::CtrlLogoff,
        Signal::CtrlShutdown,
    ];

    /// The default set on Unix.
    pub(crate) const UNIX_DEFAULTS: [Signal; 3] = [Signal::Term, Signal::Int, Signal::Hup];

    /// The default set on Windows: the console events that ask a program to stop, but logoff
    /// (a service receives it when any user logs off).
    pub(crate) const WINDOWS_DEFAULTS: [Signal; 4] = [
        Signal::Int,
        Signal::CtrlBreak,
        Signal::CtrlClose,
        Signal::CtrlShutdown,
    ];

    /// The default set: SIGTERM, SIGINT, SIGHUP (on Windows: Ctrl-C, Ctrl-Break, close,
    /// shutdown).
    pub fn defaults() -> Vec<Signal> {
        if cfg!(windows) {
            Signal::WINDOWS_DEFAULTS.to_vec()
        } else {
            Signal::UNIX_DEFAULTS.to_vec()
        }
    }

    /// The conventional name, e.g. `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Term => "SIGTERM",
            Signal::Int => "SIGINT",
            Signal::Hup => "SIGHUP",
            Signal::Quit => "SIGQUIT",
            Signal::Usr1 => "SIGUSR1",
            Signal::Usr2 => "SIGUSR2",
            Signal::CtrlBreak => "CTRL_BREAK",
            Signal::CtrlClose => "CTRL_CLOSE",
            Signal::CtrlLogoff => "CTRL_LOGOFF",
            Signal::CtrlShutdown => "CTRL_SHUTDOWN",
        }
    }

    /// The Unix signal number (used for the `128 + n` exit code); Windows events use 2.
    pub fn number(self) -> i32 {
        // The numbers are those of the shared grammar, which also reads `SHUTDOWN_SIGNALS=15`.
        shutdown_grammar::signal::SIGNALS
            .iter()
            .find(|s| s.name == self.name())
            .and_then(|s| s.number)
            .map_or(2, i32::from)
    }

    /// Parses `SIGTERM`, `TERM`, `sigterm`, `15`, … by the grammar every configuration source
    /// shares (`shutdown_grammar::signal`). Returns `None` for anything else.
    pub fn parse(s: &str) -> Option<Signal> {
        let name = shutdown_grammar::parse_signal(s).ok()?;
        Signal::ALL.into_iter().find(|signal| signal.name() == name)
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What started the shutdown. Only the first trigger is kept; later ones are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum ShutdownReason {
    /// An OS signal arrived.
    Signal {
        /// Which one.
        signal: Signal,
    },
    /// [`Shutdown::trigger`](crate::Shutdown::trigger) was called (or the admin API).
    Requested {
        /// The caller's reason.
        reason: String,
    },
    /// `main` returned `Ok`/`()`.
    MainReturned,
    /// `main` returned an error (or panicked).
    MainFailed {
        /// The error, formatted.
        error: String,
    },
    /// A resource or supervised task failed fatally.
    ResourceFailed {
        /// Its name.
        resource: String,
        /// The error, formatted.
        error: String,
    },
    /// A tracked task ([`Shutdown::spawn`](crate::Shutdown::spawn)) panicked or returned an
    /// error.
    TaskFailed {
        /// The task's name.
        task: String,
        /// What happened (`panicked: …` or `returned an error: …`).
        error: String,
    },
    /// Start-up failed: a resource could not be built.
    StartupFailed {
        /// The error, formatted.
        error: String,
    },
    /// A successor started from the new binary took over the listeners (feature `upgrade`).
    Upgrade {
        /// The successor's pid.
        successor: u32,
    },
}

impl ShutdownReason {
    /// A programmatic request with a human reason.
    pub fn requested(reason: impl Into<String>) -> Self {
        ShutdownReason::Requested {
            reason: reason.into(),
        }
    }
}

impl From<&str> for ShutdownReason {
    fn from(s: &str) -> Self {
        ShutdownReason::requested(s)
    }
}

impl From<String> for ShutdownReason {
    fn from(s: String) -> Self {
        ShutdownReason::requested(s)
    }
}

impl From<Signal> for ShutdownReason {
    fn from(signal: Signal) -> Self {
        ShutdownReason::Signal { signal }
    }
}

impl fmt::Display for ShutdownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShutdownReason::Signal { signal } => write!(f, "signal {signal}"),
            ShutdownReason::Requested { reason } => write!(f, "requested: {reason}"),
            ShutdownReason::MainReturned => f.write_str("main returned"),
            ShutdownReason::MainFailed { error } => write!(f, "main failed: {error}"),
            ShutdownReason::ResourceFailed { resource, error } => {
                write!(f, "resource `{resource}` failed: {error}")
            }
            ShutdownReason::TaskFailed { task, error } => write!(f, "task `{task}` {error}"),
            ShutdownReason::StartupFailed { error } => write!(f, "start-up failed: {error}"),
            ShutdownReason::Upgrade { successor } => write!(f, "upgrade → pid {successor}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_numbers() {
        assert_eq!(Signal::parse("SIGTERM"), Some(Signal::Term));
        assert_eq!(Signal::parse("term"), Some(Signal::Term));
        assert_eq!(Signal::parse(" 2 "), Some(Signal::Int));
        assert_eq!(Signal::parse("SIGKILL"), None);
        assert_eq!(Signal::Term.number(), 15);
        assert_eq!(Signal::Usr2.number(), 12);
        assert_eq!(Signal::CtrlBreak.number(), 2);
        assert_eq!(
            Signal::parse(&Signal::Hup.number().to_string()),
            Some(Signal::Hup)
        );
        for s in Signal::ALL {
            assert_eq!(Signal::parse(s.name()), Some(s));
        }
    }
}
