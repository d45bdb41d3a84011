//! Which operating-system event each signal name listens for, on Unix and on Windows.
//!
//! One table ([`listens_for`]) gives every name its Unix signal and its Windows console
//! event; the docs' table is checked against it. Several names can stand for one event:
//! `CTRL_BREAK` is SIGINT on Unix, `SIGQUIT` is Ctrl-Break on Windows. The listener
//! registers each *event* once ([`distinct`]), so one delivery is one request: two listeners
//! on one event would each receive it and read one Ctrl-C as two signals (and a second
//! signal forces the exit).
//!
//! Windows ends a process a few seconds after a console close, a logoff or a system
//! shutdown, whatever its handler does (5 s by default, `SPI_GETHUNGAPPTIMEOUT` and
//! `SPI_GETWAITTOKILLTIMEOUT`; 20 s for a service at shutdown). tokio's handler holds the
//! process until then; the engine is told that budget ([`Console::budget`]) and fits the
//! whole shutdown in it, so what it cannot do in time is skipped and reported rather than
//! cut off mid-way.

use std::task::{Context, Poll};
use std::time::Duration;

use crate::reason::Signal;

/// A Windows console control event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Console {
    /// `CTRL_C_EVENT`: Ctrl-C, or `GenerateConsoleCtrlEvent` to the whole console.
    CtrlC,
    /// `CTRL_BREAK_EVENT`: Ctrl-Break, or `GenerateConsoleCtrlEvent` to one process group.
    CtrlBreak,
    /// `CTRL_CLOSE_EVENT`: the console window is closed, or ended from Task Manager.
    Close,
    /// `CTRL_LOGOFF_EVENT`: a user logs off (services only: interactive programs are gone).
    Logoff,
    /// `CTRL_SHUTDOWN_EVENT`: the system shuts down (services only, for the same reason).
    Shutdown,
}

/// How long Windows lets a process live after a close, logoff or shutdown event: 5 s by
/// default (a service at system shutdown gets 20 s).
pub(crate) const WINDOWS_END_AFTER: Duration = Duration::from_secs(5);

/// What the engine keeps of that for itself: the report, the exit code, the process's end.
const END_MARGIN: Duration = Duration::from_millis(500);

impl Console {
    /// The event's Windows name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Console::CtrlC => "CTRL_C_EVENT",
            Console::CtrlBreak => "CTRL_BREAK_EVENT",
            Console::Close => "CTRL_CLOSE_EVENT",
            Console::Logoff => "CTRL_LOGOFF_EVENT",
            Console::Shutdown => "CTRL_SHUTDOWN_EVENT",
        }
    }

    /// How long the whole shutdown may take after this event before Windows ends the
    /// process; `None` when Windows waits (Ctrl-C, Ctrl-Break).
    pub(crate) fn budget(self) -> Option<Duration> {
        match self {
            Console::CtrlC | Console::CtrlBreak => None,
            Console::Close | Console::Logoff | Console::Shutdown => {
                Some(WINDOWS_END_AFTER - END_MARGIN)
            }
        }
    }
}

/// What one name listens for on each platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Listens {
    /// The Unix signal, by its [`Signal`] name (`SIGINT` for `CTRL_BREAK`).
    pub(crate) unix: Signal,
    /// The Windows console event; `None` for a signal with no counterpart there.
    pub(crate) windows: Option<Console>,
}

/// The one table: what `sig` listens for on Unix and on Windows.
pub(crate) fn listens_for(sig: Signal) -> Listens {
    let (unix, windows) = match sig {
        Signal::Term => (Signal::Term, Some(Console::Shutdown)),
        Signal::Int => (Signal::Int, Some(Console::CtrlC)),
        Signal::Hup => (Signal::Hup, Some(Console::Close)),
        Signal::Quit => (Signal::Quit, Some(Console::CtrlBreak)),
        Signal::Usr1 => (Signal::Usr1, None),
        Signal::Usr2 => (Signal::Usr2, None),
        Signal::CtrlBreak => (Signal::Int, Some(Console::CtrlBreak)),
        Signal::CtrlClose => (Signal::Hup, Some(Console::Close)),
        Signal::CtrlLogoff => (Signal::Hup, Some(Console::Logoff)),
        Signal::CtrlShutdown => (Signal::Term, Some(Console::Shutdown)),
    };
    Listens { unix, windows }
}

/// The event `sig` listens for on this platform; names that share one are one request.
#[cfg(unix)]
pub(super) type OsEvent = Signal;

/// The event `sig` listens for on this platform; names that share one are one request.
#[cfg(windows)]
pub(super) type OsEvent = Console;

/// The OS event `sig` stands for on this platform; `None` when there is none.
#[cfg(unix)]
pub(super) fn of(sig: Signal) -> Option<OsEvent> {
    Some(listens_for(sig).unix)
}

/// The OS event `sig` stands for on this platform; `None` when there is none.
#[cfg(windows)]
pub(super) fn of(sig: Signal) -> Option<OsEvent> {
    listens_for(sig).windows
}

/// The console event `sig` arrived as and how long Windows lets the process live after it;
/// `None` on Unix and for Ctrl-C and Ctrl-Break.
pub(super) fn budget(sig: Signal) -> Option<(Console, Duration)> {
    if cfg!(windows) {
        let event = listens_for(sig).windows?;
        Some((event, event.budget()?))
    } else {
        None
    }
}

/// The deliveries of one OS event.
#[cfg(unix)]
pub(super) struct Stream(tokio::signal::unix::Signal);

#[cfg(unix)]
impl Stream {
    /// Starts listening for `event`.
    pub(super) fn listen(event: OsEvent) -> std::io::Result<Stream> {
        use tokio::signal::unix::SignalKind;
        let kind = match event {
            Signal::Term => SignalKind::terminate(),
            Signal::Hup => SignalKind::hangup(),
            Signal::Quit => SignalKind::quit(),
            Signal::Usr1 => SignalKind::user_defined1(),
            Signal::Usr2 => SignalKind::user_defined2(),
            // `listens_for` gives every name a Unix name; SIGINT is the only other one.
            _ => SignalKind::interrupt(),
        };
        tokio::signal::unix::signal(kind).map(Stream)
    }

    /// The next delivery; `None` once the runtime is shutting down.
    pub(super) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.0.poll_recv(cx)
    }
}

/// The deliveries of one OS event.
#[cfg(windows)]
pub(super) enum Stream {
    CtrlC(tokio::signal::windows::CtrlC),
    CtrlBreak(tokio::signal::windows::CtrlBreak),
    Close(tokio::signal::windows::CtrlClose),
    Logoff(tokio::signal::windows::CtrlLogoff),
    Shutdown(tokio::signal::windows::CtrlShutdown),
}

#[cfg(windows)]
impl Stream {
    /// Starts listening for `event`.
    pub(super) fn listen(event: OsEvent) -> std::io::Result<Stream> {
        use tokio::signal::windows;
        match event {
            Console::CtrlC => windows::ctrl_c().map(Stream::CtrlC),
            Console::CtrlBreak => windows::ctrl_break().map(Stream::CtrlBreak),
            Console::Close => windows::ctrl_close().map(Stream::Close),
            Console::Logoff => windows::ctrl_logoff().map(Stream::Logoff),
            Console::Shutdown => windows::ctrl_shutdown().map(Stream::Shutdown),
        }
    }

    /// The next delivery; `None` once the runtime is shutting down.
    pub(super) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        match self {
            Stream::CtrlC(s) => s.poll_recv(cx),
            Stream::CtrlBreak(s) => s.poll_recv(cx),
            Stream::Close(s) => s.poll_recv(cx),
            Stream::Logoff(s) => s.poll_recv(cx),
            Stream::Shutdown(s) => s.poll_recv(cx),
        }
    }
}

/// A configured list with each OS event once.
#[derive(Debug)]
pub(super) struct Distinct<E> {
    /// Each event, with the name it is listened for as.
    pub(super) kept: Vec<(Signal, E)>,
    /// `(dropped, kept)`: a name left out because `kept` stands for its event.
    pub(super) dropped: Vec<(Signal, Signal)>,
    /// Names with no event on this platform (`SIGUSR1` on Windows).
    pub(super) absent: Vec<Signal>,
}

/// `signals` with each OS event of this platform once; see [`distinct_by`].
pub(super) fn distinct(signals: &[Signal]) -> Distinct<OsEvent> {
    if cfg!(windows) {
        distinct_by(signals, of, windows_own_name)
    } else {
        distinct_by(signals, of, unix_own_name)
    }
}

/// `true` for a name that is Unix's own for its signal (not `CTRL_BREAK`, which is SIGINT).
fn unix_own_name(sig: Signal) -> bool {
    listens_for(sig).unix == sig
}

/// `true` for a name that is Windows' own for its event: `SIGINT` (also spelled `CTRL_C`)
/// and the `CTRL_*` names.
fn windows_own_name(sig: Signal) -> bool {
    matches!(
        sig,
        Signal::Int
            | Signal::CtrlBreak
            | Signal::CtrlClose
            | Signal::CtrlLogoff
            | Signal::CtrlShutdown
    )
}

/// `signals` with each event (`event_of`) once. An event is kept under its platform's own
/// name (`native`) when that name is configured, else under the first name configured for
/// it, so the report names what really arrived.
fn distinct_by<E: Copy + PartialEq>(
    signals: &[Signal],
    event_of: impl Fn(Signal) -> Option<E>,
    native: impl Fn(Signal) -> bool,
) -> Distinct<E> {
    let mut out = Distinct {
        kept: Vec::with_capacity(signals.len()),
        dropped: Vec::new(),
        absent: Vec::new(),
    };
    for &sig in signals {
        let Some(event) = event_of(sig) else {
            out.absent.push(sig);
            continue;
        };
        match out.kept.iter_mut().find(|(_, e)| *e == event) {
            None => out.kept.push((sig, event)),
            Some((first, _)) if *first == sig => {}
            Some((first, _)) if native(sig) && !native(*first) => {
                out.dropped.push((*first, sig));
                *first = sig;
            }
            Some((first, _)) => out.dropped.push((sig, *first)),
        }
    }
    out
}

#[cfg(test)]
mod tests;
