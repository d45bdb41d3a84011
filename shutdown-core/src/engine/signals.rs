//! Signal handling: the first signal starts the shutdown, a second one ends it at once.
//!
//! A copy of the signal just counted — the same signal again within `signal_repeat_window` —
//! is not a second signal: `kill -TERM -- -PGID` reaches both a wrapper shell and the service,
//! and a wrapper that forwards what it receives delivers the same SIGTERM twice within a
//! millisecond. A person pressing Ctrl-C again, later, still forces the exit.
//!
//! Names that stand for one OS event (`SIGINT` and `CTRL_BREAK` on Unix, `SIGQUIT` and
//! `CTRL_BREAK` on Windows) are listened for once ([`os_event::distinct`]): one delivery is
//! one request, whatever the repeat window. A console close, logoff or system shutdown gives
//! the process a few seconds on Windows: the shutdown it starts is fitted in them.

use std::task::Poll;
use std::time::{Duration, Instant};

use super::os_event::{self, Console, Stream};
use crate::exit;
use crate::reason::Signal;
use crate::resource::BoxFuture;
use crate::shutdown::Shutdown;

/// Listens for `signals`. The first starts a graceful shutdown; a second (any of them, but not
/// a copy of the previous one) while shutting down logs what was still pending and, when the
/// engine owns the process, exits with `128 + signal`; otherwise it forces the shutdown.
pub(crate) fn listen(shutdown: &Shutdown, signals: &[Signal], process_owner: bool) {
    let os_event::Distinct {
        kept,
        dropped,
        absent,
    } = os_event::distinct(signals);
    for (alias, first) in dropped {
        tracing::debug!(target: "graceful::signal", signal = %alias, "{alias} is the same OS event as {first} here: listened for once, as {first}");
    }
    for sig in absent {
        tracing::warn!(target: "graceful::signal", signal = %sig, "{sig} has no counterpart on this platform: not listened for");
    }
    let mut streams = Vec::with_capacity(kept.len());
    for (sig, event) in kept {
        match Stream::listen(event) {
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
            start(shutdown, sig);
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

/// Starts the shutdown `sig` asks for. After a console close, logoff or system shutdown,
/// Windows ends the process a few seconds later whatever it is doing: the shutdown gets that
/// budget as its overall deadline (when shorter than its own), so what does not fit is skipped
/// and recorded in the report instead of being cut off unrecorded.
fn start(shutdown: &Shutdown, sig: Signal) {
    start_within(shutdown, sig, os_event::budget(sig));
}

/// [`start`] with the console event's budget given.
fn start_within(shutdown: &Shutdown, sig: Signal, budget: Option<(Console, Duration)>) {
    match budget {
        Some((event, budget)) if budget < shutdown.config().timeout.value => {
            tracing::warn!(
                target: "graceful::signal",
                signal = %sig,
                budget = ?budget,
                "Windows ends the process {:?} after {}: the shutdown must finish in {budget:?}; what does not fit is skipped and reported",
                os_event::WINDOWS_END_AFTER,
                event.name()
            );
            shutdown.trigger_with_timeout(sig, budget);
        }
        _ => {
            shutdown.trigger(sig);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::CloseOutcome;
    use crate::{Graceful, Phase, Resource};

    /// A console close with 300 ms left before Windows ends the process, a close that never
    /// ends and a configured timeout of a minute: the shutdown is fitted in the budget, and
    /// the report says what it could not do.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_console_event_with_a_budget_fits_the_shutdown_in_it_and_reports_what_was_skipped() {
        let budget = Duration::from_millis(300);
        let seen = std::sync::Arc::new(std::sync::OnceLock::new());
        let seen_in_main = seen.clone();
        let outcome = Graceful::builder()
            .signals([])
            .timeout(Duration::from_secs(60))
            .resource_close_timeout(Duration::from_secs(60))
            .resource(
                Resource::from_value("stuck", 10, ())
                    .close_with(|_| async { std::future::pending::<()>().await }),
            )
            .build()
            .expect("build")
            .run(move |shutdown| async move {
                start_within(&shutdown, Signal::CtrlClose, Some((Console::Close, budget)));
                let _ = seen_in_main.set(shutdown.timeout());
                shutdown.requested().await;
            })
            .await;
        assert_eq!(
            seen.get(),
            Some(&budget),
            "the overall deadline is the budget"
        );
        let report = &outcome.report;
        assert_eq!(report.result, Phase::Forced, "{report}");
        assert_eq!(
            report.reason,
            Some(crate::ShutdownReason::Signal {
                signal: Signal::CtrlClose
            })
        );
        let stuck = report.resource("stuck").expect("the resource's record");
        assert!(
            matches!(
                stuck.outcome,
                CloseOutcome::TimedOut | CloseOutcome::Skipped
            ),
            "{report}"
        );
        assert!(
            !report.deadlines.is_empty(),
            "the missed deadline is named: {report}"
        );
    }

    #[tokio::test]
    async fn without_a_budget_or_with_a_longer_one_the_configured_timeout_stands() {
        for budget in [None, Some((Console::Close, Duration::from_secs(90)))] {
            let shutdown = Graceful::builder()
                .signals([])
                .timeout(Duration::from_secs(60))
                .build()
                .expect("build")
                .shutdown();
            start_within(&shutdown, Signal::Int, budget);
            assert!(shutdown.is_shutting_down());
            assert_eq!(shutdown.timeout(), Duration::from_secs(60));
        }
    }

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
