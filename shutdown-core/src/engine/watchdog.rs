//! The last line of defence: a plain OS thread that ends the process at the overall deadline,
//! even if every runtime worker is blocked.
//!
//! It is armed when a shutdown starts in an engine that owns the process, and it stays armed
//! after the report: a process whose runtime cannot stop (a stuck `spawn_blocking`, a close
//! that blocks a worker thread) would otherwise print its report and then wait for ever while
//! the runtime is dropped. At the deadline it does one of two things:
//!
//! - the shutdown has not finished: it names what held it (the resources, hooks and tasks the
//!   engine was waiting for), writes the report as it stands to the state directory
//!   (atomically, like the final one), and exits with [`exit::FORCED`];
//! - the shutdown has finished but the process is still here: it names the work that outlived
//!   it and exits with the code the report decides ([`exit::code`]), the same code a bounded
//!   runtime shutdown would have returned.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::recorder::Recorder;
#[cfg(feature = "serde")]
use super::recorder::write_report;
use crate::exit;
use crate::phase::Phase;
use crate::shutdown::Shutdown;
use crate::took::Took;

/// When the watchdog acts for a shutdown that started at `start` with `timeout`: a little
/// before the overall deadline, so that the process is gone *before* it.
pub(crate) fn deadline(start: Instant, timeout: Duration) -> Instant {
    let margin = (timeout / 50).min(Duration::from_millis(50));
    start + timeout.saturating_sub(margin)
}

/// A watchdog thread started with the engine and waiting to be armed, so that arming it when
/// a shutdown starts costs a store and a wake-up (no thread, no allocation) on the shutdown's
/// path. Dropped without being armed (the engine ended without a shutdown), the thread ends.
pub(crate) struct Watchdog {
    slot: Arc<Slot>,
    thread: std::thread::Thread,
}

/// What the waiting thread watches: the shutdown once armed, or that nobody will arm it.
#[derive(Default)]
struct Slot {
    armed: OnceLock<(Shutdown, Recorder)>,
    abandoned: AtomicBool,
}

impl Watchdog {
    /// Starts the waiting thread; `None` (and an error logged) if no thread can be created,
    /// in which case [`Watchdog::arm`] falls back to creating one.
    pub(crate) fn start() -> Option<Watchdog> {
        let slot = Arc::new(Slot::default());
        let waiting = slot.clone();
        let spawned = std::thread::Builder::new()
            .name("graceful-watchdog".into())
            .spawn(move || {
                loop {
                    if let Some((shutdown, rec)) = waiting.armed.get() {
                        return watch(shutdown, rec);
                    }
                    if waiting.abandoned.load(Ordering::Acquire) {
                        return;
                    }
                    // Woken by `Drop` (after arming, or instead of it); spurious wake-ups loop.
                    std::thread::park();
                }
            });
        match spawned {
            Ok(handle) => Some(Watchdog {
                slot,
                thread: handle.thread().clone(),
            }),
            Err(e) => {
                tracing::error!(target: "graceful::watchdog", "cannot start the watchdog thread: {e}");
                None
            }
        }
    }

    /// Arms the watchdog for the shutdown `rec` records.
    pub(crate) fn arm(watchdog: Option<Watchdog>, shutdown: Shutdown, rec: Recorder) {
        match watchdog {
            // Dropping `w` wakes its thread, which finds the shutdown to watch.
            Some(w) => {
                let _ = w.slot.armed.set((shutdown, rec));
            }
            None => arm(shutdown, rec),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.slot.abandoned.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

/// Arms a watchdog on a new thread (when none was started with the engine).
fn arm(shutdown: Shutdown, rec: Recorder) {
    let spawned = std::thread::Builder::new()
        .name("graceful-watchdog".into())
        .spawn(move || watch(&shutdown, &rec));
    if let Err(e) = spawned {
        tracing::error!(target: "graceful::watchdog", "cannot start the watchdog thread: {e}");
    }
}

/// Sleeps until the deadline of the shutdown `rec` records, then acts.
fn watch(shutdown: &Shutdown, rec: &Recorder) {
    let timeout = shutdown.timeout();
    let at = deadline(rec.start.into_std(), timeout);
    loop {
        let now = Instant::now();
        if now >= at {
            break;
        }
        std::thread::sleep(at - now);
    }
    fire(shutdown, rec, timeout);
}

fn fire(shutdown: &Shutdown, rec: &Recorder, timeout: Duration) {
    let held = held_by(shutdown, rec);
    if !shutdown.config().force_after_timeout.value {
        let pending = shutdown.progress().summary();
        eprintln!(
            "graceful: overall shutdown timeout ({}) expired (force_after_timeout = false){held}. Still pending: {pending}",
            Took(timeout)
        );
        return;
    }
    if shutdown.report().is_none() {
        let pending = shutdown.progress().summary();
        rec.missed("overall timeout", timeout, shutdown);
        // `None`: the engine finished its report meanwhile, which is the case below.
        if let Some(report) = rec.report(shutdown, Phase::Forced) {
            #[cfg(feature = "serde")]
            write_report(shutdown, &report);
            #[cfg(not(feature = "serde"))]
            let _ = report;
            eprintln!(
                "graceful: overall shutdown timeout ({}) expired{held}; exiting with {}. Still pending: {pending}",
                Took(timeout),
                exit::FORCED
            );
            std::process::exit(i32::from(exit::FORCED));
        }
    }
    if let Some(report) = shutdown.report() {
        // The engine finished; something keeps the runtime (and so the process) alive.
        let code = exit::code(report).unwrap_or(exit::FORCED);
        eprintln!(
            "graceful: the shutdown finished ({}) but the process was still running at the overall deadline ({}): blocking work outlived the runtime{held}; exiting with {code}",
            report.result,
            Took(timeout)
        );
        std::process::exit(i32::from(code));
    }
}

/// `": held by …"` naming what the engine was waiting for, or nothing if it waited for nothing.
fn held_by(shutdown: &Shutdown, rec: &Recorder) -> String {
    let mut holders = rec.holders();
    holders.extend(
        shutdown
            .control()
            .tasks()
            .names()
            .into_iter()
            .map(|t| format!("task `{t}`")),
    );
    if holders.is_empty() {
        String::new()
    } else {
        format!("; held by {}", holders.join(", "))
    }
}
