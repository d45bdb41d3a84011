//! Signal handling: the first signal starts the shutdown, a second one ends it at once.
//!
//! A copy of the signal just counted — the same signal again within `signal_repeat_window` —
//! is not a second signal: `kill -TERM -- -PGID` reaches both a wrapper shell and the service,
//! and a wrapper that forwards what it receives delivers the same SIGTERM twice within a
//! millisecond. A person pressing Ctrl-C again, later, still forces the exit.

use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::exit;
use crate::reason::Signal;
use crate::resource::BoxFuture;
use crate::shutdown::Shutdown;

/// Listens for `signals`. The first starts a graceful shutdown; a second (any of them, but not
/// a copy of the previous one) while shutting down logs what was still pending and, when the
/// engine owns the process, exits with `128 + signal`; otherwise it forces the shutdown.
pub(crate) fn listen(shutdown: &Shutdown, signals: &[Signal], process_owner: bool) {
    let mut streams = Vec::with_capacity(signals.len());
    for &sig in signals {
        match stream(sig) {
            Ok(s) => streams.push((sig, s)),
            Err(e) => {
                tracing::warn!(target: "graceful::signal", signal = %sig, "cannot listen for signal: {e}")
            }
        }
    }
    if streams.is_empty() {
        return;
    }
    let mut deliveries = Deliveries::new(shutdown, process_owner);
    // One task polls every stream: a delivery reaches the trigger without a task or a channel
    // per signal in between. Boxed, it is the same task type as the engine's other `()`
    // tasks, so tokio's task machinery is compiled once for them.
    let listen: BoxFuture<()> = Box::pin(async move {
        while let Some((sig, at)) = next(&mut streams).await {
            deliveries.deliver(sig, at);
        }
    });
    tokio::spawn(listen);
}

/// What a delivered signal does to one engine: the policy of the module docs, whatever
/// delivered it (the OS, or a test delivering signals to the engine instead of the process).
pub(crate) struct Deliveries {
    shutdown: Shutdown,
    // Only a second *signal* ends the process at once. The first one may arrive after `main`
    // returned or `trigger()` started the shutdown (Kubernetes sends SIGTERM to a pod whose
    // process is already stopping): it must not cut that shutdown short.
    first: bool,
    repeats: Repeats,
    process_owner: bool,
}

impl Deliveries {
    pub(crate) fn new(shutdown: &Shutdown, process_owner: bool) -> Self {
        Deliveries {
            shutdown: shutdown.clone(),
            first: true,
            repeats: Repeats::new(shutdown.config().signal_repeat_window.value),
            process_owner,
        }
    }

    /// `sig`, received `at`: the first starts the shutdown, a copy is ignored, a second one
    /// forces it (or, when the engine owns the process, exits with `128 + signal`).
    pub(crate) fn deliver(&mut self, sig: Signal, at: Instant) {
        let shutdown = &self.shutdown;
        if self.repeats.is_copy(sig, at) {
            tracing::info!(target: "graceful::signal", signal = %sig, "the same signal again within signal_repeat_window: one request, not a second signal");
            return;
        }
        if std::mem::take(&mut self.first) {
            shutdown.trigger(sig);
            return;
        }
        let pending = shutdown.progress().summary();
        if self.process_owner {
            let code = exit::second_signal(sig.number());
            eprintln!(
                "graceful: second signal {sig} during shutdown; exiting now with {code}. Still pending: {pending}"
            );
            tracing::error!(target: "graceful::signal", signal = %sig, code, %pending, "second signal: exiting at once");
            std::process::exit(code);
        }
        tracing::error!(target: "graceful::signal", signal = %sig, %pending, "second signal: forcing the shutdown");
        shutdown.force(sig);
    }
}

/// The next delivery of any of `streams`, with the time it was seen; `None` once every
/// stream has ended (the runtime is shutting down).
async fn next(streams: &mut [(Signal, Stream)]) -> Option<(Signal, Instant)> {
    std::future::poll_fn(|cx| {
        let mut open = false;
        for (sig, s) in streams.iter_mut() {
            match s.poll_recv(cx) {
                Poll::Ready(Some(())) => return Poll::Ready(Some((*sig, Instant::now()))),
                Poll::Ready(None) => {}
                Poll::Pending => open = true,
            }
        }
        if open {
            Poll::Pending
        } else {
            Poll::Ready(None)
        }
    })
    .await
}

/// Tells a copy of the last counted signal from a new one.
struct Repeats {
    window: Duration,
    last: Option<(Signal, Instant)>,
}

impl Repeats {
    fn new(window: Duration) -> Self {
        Repeats { window, last: None }
    }

    /// `true` when `sig`, received `at`, is the signal counted last, again within the window
    /// (measured from that counted delivery, so a steady stream of copies cannot hide a person
    /// pressing Ctrl-C again). Anything else is counted.
    fn is_copy(&mut self, sig: Signal, at: Instant) -> bool {
        if let Some((last, when)) = self.last
            && last == sig
            && at.saturating_duration_since(when) < self.window
        {
            return true;
        }
        self.last = Some((sig, at));
        false
    }
}

#[cfg(unix)]
struct Stream(tokio::signal::unix::Signal);

#[cfg(unix)]
impl Stream {
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.0.poll_recv(cx)
    }
}

#[cfg(unix)]
fn stream(sig: Signal) -> std::io::Result<Stream> {
    use tokio::signal::unix::{SignalKind, signal};
    let kind = match sig {
        Signal::Term => SignalKind::terminate(),
        Signal::Int | Signal::CtrlBreak | Signal::CtrlClose => SignalKind::interrupt(),
        Signal::Hup => SignalKind::hangup(),
        Signal::Quit => SignalKind::quit(),
        Signal::Usr1 => SignalKind::user_defined1(),
        Signal::Usr2 => SignalKind::user_defined2(),
    };
    signal(kind).map(Stream)
}

#[cfg(windows)]
enum Stream {
    CtrlC(tokio::signal::windows::CtrlC),
    CtrlBreak(tokio::signal::windows::CtrlBreak),
    CtrlClose(tokio::signal::windows::CtrlClose),
}

#[cfg(windows)]
impl Stream {
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        match self {
            Stream::CtrlC(s) => s.poll_recv(cx),
            Stream::CtrlBreak(s) => s.poll_recv(cx),
            Stream::CtrlClose(s) => s.poll_recv(cx),
        }
    }
}

#[cfg(windows)]
fn stream(sig: Signal) -> std::io::Result<Stream> {
    use tokio::signal::windows;
    match sig {
        Signal::CtrlBreak => windows::ctrl_break().map(Stream::CtrlBreak),
        Signal::CtrlClose => windows::ctrl_close().map(Stream::CtrlClose),
        _ => windows::ctrl_c().map(Stream::CtrlC),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_signal_within_the_window_is_a_copy_and_anything_else_counts() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut r = Repeats::new(ms(300));
        assert!(!r.is_copy(Signal::Term, t0), "the first one counts");
        assert!(r.is_copy(Signal::Term, t0 + ms(1)), "a forwarded copy");
        assert!(
            r.is_copy(Signal::Term, t0 + ms(299)),
            "measured from the counted one"
        );
        assert!(
            !r.is_copy(Signal::Term, t0 + ms(300)),
            "after the window: a second signal"
        );
        assert!(
            !r.is_copy(Signal::Int, t0 + ms(301)),
            "another signal always counts"
        );
        let mut zero = Repeats::new(Duration::ZERO);
        assert!(!zero.is_copy(Signal::Term, t0));
        assert!(
            !zero.is_copy(Signal::Term, t0),
            "a zero window counts every delivery"
        );
    }
}
