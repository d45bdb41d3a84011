//! Which operating-system event each signal name listens for, on this platform.
//!
//! Several names can stand for one event: `CTRL_BREAK` is SIGINT on Unix, and on Windows
//! every Unix name without a console event of its own is Ctrl-C. The listener registers each
//! *event* once, under the first name configured for it, so one delivery is one request: two
//! listeners on one event would each receive it and read one Ctrl-C as two signals (a second
//! signal forces the exit).

use std::task::{Context, Poll};

use crate::reason::Signal;

/// The event `sig` listens for here; names that share one are the same request.
#[cfg(unix)]
pub(super) type OsEvent = tokio::signal::unix::SignalKind;

/// The event `sig` listens for here; names that share one are the same request.
#[cfg(windows)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OsEvent {
    /// `CTRL_C_EVENT`.
    CtrlC,
    /// `CTRL_BREAK_EVENT`.
    CtrlBreak,
    /// `CTRL_CLOSE_EVENT`.
    CtrlClose,
}

/// The OS event `sig` stands for on this platform.
#[cfg(unix)]
pub(super) fn of(sig: Signal) -> OsEvent {
    use tokio::signal::unix::SignalKind;
    match sig {
        Signal::Term => SignalKind::terminate(),
        Signal::Int | Signal::CtrlBreak | Signal::CtrlClose => SignalKind::interrupt(),
        Signal::Hup => SignalKind::hangup(),
        Signal::Quit => SignalKind::quit(),
        Signal::Usr1 => SignalKind::user_defined1(),
        Signal::Usr2 => SignalKind::user_defined2(),
    }
}

/// The OS event `sig` stands for on this platform.
#[cfg(windows)]
pub(super) fn of(sig: Signal) -> OsEvent {
    match sig {
        Signal::CtrlBreak => OsEvent::CtrlBreak,
        Signal::CtrlClose => OsEvent::CtrlClose,
        Signal::Term | Signal::Int | Signal::Hup | Signal::Quit | Signal::Usr1 | Signal::Usr2 => {
            OsEvent::CtrlC
        }
    }
}

/// The deliveries of one OS event.
#[cfg(unix)]
pub(super) struct Stream(tokio::signal::unix::Signal);

#[cfg(unix)]
impl Stream {
    /// Starts listening for `event`.
    pub(super) fn listen(event: OsEvent) -> std::io::Result<Stream> {
        tokio::signal::unix::signal(event).map(Stream)
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
    CtrlClose(tokio::signal::windows::CtrlClose),
}

#[cfg(windows)]
impl Stream {
    /// Starts listening for `event`.
    pub(super) fn listen(event: OsEvent) -> std::io::Result<Stream> {
        use tokio::signal::windows;
        match event {
            OsEvent::CtrlC => windows::ctrl_c().map(Stream::CtrlC),
            OsEvent::CtrlBreak => windows::ctrl_break().map(Stream::CtrlBreak),
            OsEvent::CtrlClose => windows::ctrl_close().map(Stream::CtrlClose),
        }
    }

    /// The next delivery; `None` once the runtime is shutting down.
    pub(super) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        match self {
            Stream::CtrlC(s) => s.poll_recv(cx),
            Stream::CtrlBreak(s) => s.poll_recv(cx),
            Stream::CtrlClose(s) => s.poll_recv(cx),
        }
    }
}

/// `true` when `sig` is this platform's own name for its event (`SIGINT` on Unix, `CTRL_BREAK`
/// on Windows), so a report names what really arrived.
fn native(sig: Signal) -> bool {
    let windows_event = matches!(sig, Signal::CtrlBreak | Signal::CtrlClose);
    if cfg!(windows) {
        windows_event || sig == Signal::Int
    } else {
        !windows_event
    }
}

/// A configured list with each OS event once.
#[derive(Debug)]
pub(super) struct Distinct {
    /// Each event, with the name it is listened for as.
    pub(super) kept: Vec<(Signal, OsEvent)>,
    /// `(dropped, kept)`: a name left out because `kept` stands for its event.
    pub(super) dropped: Vec<(Signal, Signal)>,
}

/// `signals` with each OS event once. An event is kept under this platform's own name for it
/// when that name is configured, else under the first name configured for it.
pub(super) fn distinct(signals: &[Signal]) -> Distinct {
    let mut kept: Vec<(Signal, OsEvent)> = Vec::with_capacity(signals.len());
    let mut dropped = Vec::new();
    for &sig in signals {
        let event = of(sig);
        match kept.iter_mut().find(|(_, e)| *e == event) {
            None => kept.push((sig, event)),
            Some((first, _)) if *first == sig => {}
            Some((first, _)) if native(sig) && !native(*first) => {
                dropped.push((*first, sig));
                *first = sig;
            }
            Some((first, _)) => dropped.push((sig, *first)),
        }
    }
    Distinct { kept, dropped }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_one_os_event_are_listened_for_once() {
        let Distinct {
            kept,
            dropped: aliases,
        } = distinct(&[Signal::Int, Signal::CtrlBreak, Signal::Int]);
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert_eq!(kept[0].0, Signal::Int);
        assert_eq!(aliases, vec![(Signal::CtrlBreak, Signal::Int)]);
    }

    #[cfg(unix)]
    #[test]
    fn an_event_is_named_by_this_platforms_own_name_when_configured() {
        let Distinct {
            kept,
            dropped: aliases,
        } = distinct(&[Signal::CtrlBreak, Signal::Term, Signal::Int]);
        assert_eq!(
            kept.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            [Signal::Int, Signal::Term]
        );
        assert_eq!(aliases, vec![(Signal::CtrlBreak, Signal::Int)]);
        let Distinct { kept, .. } = distinct(&[Signal::CtrlBreak, Signal::CtrlClose]);
        assert_eq!(
            kept.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            [Signal::CtrlBreak]
        );
    }

    #[test]
    fn the_default_list_has_one_listener_per_name() {
        let defaults = Signal::defaults();
        let Distinct {
            kept,
            dropped: aliases,
        } = distinct(&defaults);
        assert_eq!(kept.len(), defaults.len(), "{kept:?}");
        assert!(aliases.is_empty(), "{aliases:?}");
    }
}
