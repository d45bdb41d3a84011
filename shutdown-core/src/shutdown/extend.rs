//! The one seam through which feature modules extend the engine.
//!
//! A feature (readiness holds, blockers, supervised tasks, task failures, metrics, the admin
//! API, systemd, HTTP serving, in-place upgrades, the timeline picture) keeps its per-engine
//! state in a type that implements [`Extension`] and reaches it with [`Shutdown::extension`],
//! which creates the value on first use: one value per type and engine, living as long as the
//! engine. A feature that must act from the engine's first moment, whether or not the program
//! ever names it (the upgrade signal, the PID file, the successor's channel), registers a
//! [`Feature`] with its start hook in `crate::features`; the engine calls every start hook
//! once, next to the signal handlers, and knows nothing else about it.
//!
//! At fixed points the engine asks every extension, in the order they were first used:
//!
//! - [`progress`](Extension::progress): lines naming work in progress that is not a spawned
//!   task (`"blocker nightly export (3.2s)"`), appended to [`Progress::tasks`](crate::report::Progress::tasks);
//! - [`continues_serving`](Extension::continues_serving): whether the shutdown's reason means
//!   another process keeps serving the same sockets (an upgrade's successor), so that the
//!   readiness delay, which gives clients time to stop sending here, is skipped;
//! - [`abandoned`](Extension::abandoned): lines naming work still pending when the drain
//!   deadline expires (`"GET /slow (12.1s)"`), written to the report's `abandoned` list;
//! - [`report`](Extension::report): the feature's part of the report (the tracked tasks that
//!   failed, the handler panics), in every report: the final one and the watchdog's;
//! - [`finish`](Extension::finish): futures awaited after the final phase is published,
//!   concurrently, for at most [`FINISH_BOUND`] and never past the overall deadline, so that
//!   the feature can deliver that phase (the admin API's event streams, systemd's last
//!   `STATUS=`, the final metrics);
//! - [`end_of_run`](Extension::end_of_run): what must be done before the process exits, with
//!   the final report (removing the PID file, drawing the timeline picture). The engine runs it
//!   on its own task after the deliveries and before `Graceful::run` returns, whatever the
//!   deadline: nothing of it is left to a detached task that could race the runtime's end.
//!
//! Nothing else reaches into the engine. Work that must run *during* a phase is not an
//! extension point: it is a phase hook, registered with the public
//! [`Shutdown::on_phase`] like any program's. The [`Shutdown::on_abandon`] closures and
//! [`Shutdown::on_finished`] futures are kept by
//! built-in extensions ([`Reporters`], [`Finishers`]), so the engine knows only this trait.
//!
//! Cost: one short lock and a scan of a few entries per [`Shutdown::extension`] call; the
//! engine takes a snapshot of the list before calling out, so an extension may use the
//! [`Shutdown`] handle (even register another extension) from inside its methods.

use std::any::{Any, TypeId};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::Shutdown;
use crate::reason::ShutdownReason;
use crate::report::ShutdownReport;
use crate::resource::BoxFuture;
use crate::sync::lock;

/// How long the engine waits, at most, for the [`Extension::finish`] futures.
pub(crate) const FINISH_BOUND: Duration = Duration::from_millis(500);

/// Per-engine state of a feature module, and what it contributes to the engine's progress,
/// report and final phase. Every method has a default that contributes nothing.
pub(crate) trait Extension: Default + Send + Sync + 'static {
    /// Lines naming work in progress that is not a spawned task.
    fn progress(&self) -> Vec<String> {
        Vec::new()
    }

    /// Whether a shutdown started for `reason` leaves the same sockets served by another
    /// process, so that nobody needs time to stop sending here.
    fn continues_serving(&self, _reason: &ShutdownReason) -> bool {
        false
    }

    /// Lines naming work still pending when the drain deadline expires.
    fn abandoned(&self) -> Vec<String> {
        Vec::new()
    }

    /// Writes this feature's part of `report` (called for every report, final or not).
    fn report(&self, _report: &mut ShutdownReport) {}

    /// Futures to await after the final phase is published (taken once).
    fn finish(&self) -> Vec<BoxFuture<()>> {
        Vec::new()
    }

    /// Work that must be done before the process exits, given the final report; called once,
    /// on the engine's task, after the [`finish`](Extension::finish) deliveries. It must be
    /// short (a file removed or written): the engine does not bound it.
    fn end_of_run(&self, _report: &ShutdownReport) {}
}

/// A feature that starts with the engine: its name (for the logs) and its start hook, called
/// once when [`Graceful::run`](crate::Graceful::run) starts, before the resources are built.
pub(crate) struct Feature {
    /// The feature's name, as its cargo feature says it.
    pub(crate) name: &'static str,
    /// Wires the feature into the engine that starts (signals, files, extensions).
    pub(crate) start: fn(&Shutdown),
}

inventory::collect!(Feature);

/// Calls the start hook of every feature compiled in, in the order of their names. Each
/// feature registers its [`Feature`] beside its own code with `inventory::submit!`, so the
/// engine names none of them.
pub(crate) fn start_features(shutdown: &Shutdown) {
    let mut all: Vec<&Feature> = inventory::iter::<Feature>.into_iter().collect();
    all.sort_by_key(|f| f.name);
    for feature in all {
        tracing::trace!(target: "graceful::startup", feature = feature.name, "starting");
        (feature.start)(shutdown);
    }
}

/// [`Extension`] without its `Default` bound, so that values of different types share a list.
trait Contributes: Send + Sync {
    fn progress(&self) -> Vec<String>;
    fn continues_serving(&self, reason: &ShutdownReason) -> bool;
    fn abandoned(&self) -> Vec<String>;
    fn report(&self, report: &mut ShutdownReport);
    fn finish(&self) -> Vec<BoxFuture<()>>;
    fn end_of_run(&self, report: &ShutdownReport);
}

impl<T: Extension> Contributes for T {
    fn progress(&self) -> Vec<String> {
        Extension::progress(self)
    }
    fn continues_serving(&self, reason: &ShutdownReason) -> bool {
        Extension::continues_serving(self, reason)
    }
    fn abandoned(&self) -> Vec<String> {
        Extension::abandoned(self)
    }
    fn report(&self, report: &mut ShutdownReport) {
        Extension::report(self, report)
    }
    fn finish(&self) -> Vec<BoxFuture<()>> {
        Extension::finish(self)
    }
    fn end_of_run(&self, report: &ShutdownReport) {
        Extension::end_of_run(self, report)
    }
}

/// One registered extension: the value, seen as itself (`any`) and as a contributor.
#[derive(Clone)]
struct Entry {
    type_id: TypeId,
    any: Arc<dyn Any + Send + Sync>,
    contributes: Arc<dyn Contributes>,
}

/// The extensions of one engine, in the order they were first used.
#[derive(Default)]
pub(crate) struct Extensions(Mutex<Vec<Entry>>);

impl Extensions {
    /// The value of type `T`, created on first use.
    pub(crate) fn get<T: Extension>(&self) -> Arc<T> {
        let mut entries = lock(&self.0);
        let id = TypeId::of::<T>();
        if let Some(found) = entries.iter().find(|e| e.type_id == id)
            && let Ok(value) = found.any.clone().downcast::<T>()
        {
            return value;
        }
        let value = Arc::new(T::default());
        entries.push(Entry {
            type_id: id,
            any: value.clone(),
            contributes: value.clone(),
        });
        value
    }

    /// The list as it is now (callers run extension code without holding the lock).
    fn snapshot(&self) -> Vec<Entry> {
        lock(&self.0).clone()
    }

    /// Every extension's progress lines (see [`Shutdown::progress`]).
    pub(crate) fn progress(&self) -> Vec<String> {
        self.snapshot()
            .iter()
            .flat_map(|e| e.contributes.progress())
            .collect()
    }

    /// Whether any extension says a shutdown for `reason` leaves the sockets served elsewhere.
    pub(crate) fn continues_serving(&self, reason: &ShutdownReason) -> bool {
        self.snapshot()
            .iter()
            .any(|e| e.contributes.continues_serving(reason))
    }

    /// Every extension's abandoned work.
    pub(crate) fn abandoned(&self) -> Vec<String> {
        self.snapshot()
            .iter()
            .flat_map(|e| e.contributes.abandoned())
            .collect()
    }

    /// Lets every extension write its part of `report`.
    pub(crate) fn report(&self, report: &mut ShutdownReport) {
        for e in self.snapshot() {
            e.contributes.report(report);
        }
    }

    /// Runs every extension's end-of-run work, in order, to the end.
    pub(crate) fn end_of_run(&self, report: &ShutdownReport) {
        for e in self.snapshot() {
            e.contributes.end_of_run(report);
        }
    }

    /// Awaits every extension's finish futures, concurrently, for at most `bound`.
    pub(crate) async fn finish(&self, bound: Duration) {
        let futures: Vec<_> = self
            .snapshot()
            .iter()
            .flat_map(|e| e.contributes.finish())
            .collect();
        if futures.is_empty() || bound.is_zero() {
            return;
        }
        let mut set = tokio::task::JoinSet::new();
        for f in futures {
            set.spawn(f);
        }
        let _ =
            tokio::time::timeout(bound, async { while set.join_next().await.is_some() {} }).await;
    }
}

/// A function that names pending work (see [`Shutdown::on_abandon`]).
type Reporter = Arc<dyn Fn() -> Vec<String> + Send + Sync>;

/// The extension behind [`Shutdown::on_abandon`]: the closures an integration registered.
#[derive(Default)]
pub(crate) struct Reporters {
    abandoned: Mutex<Vec<Reporter>>,
}

impl Reporters {
    #[cfg_attr(
        not(any(feature = "hyper", feature = "testing")),
        allow(dead_code, reason = "only serve and the test kit name pending work")
    )]
    pub(crate) fn on_abandon(&self, f: impl Fn() -> Vec<String> + Send + Sync + 'static) {
        lock(&self.abandoned).push(Arc::new(f));
    }
}

impl Extension for Reporters {
    fn abandoned(&self) -> Vec<String> {
        // A snapshot, so that a reporter may use the handle.
        let reporters = lock(&self.abandoned).clone();
        reporters.iter().flat_map(|f| f()).collect()
    }
}

/// The extension behind [`Shutdown::on_finished`] and [`Shutdown::hold_finish`].
#[derive(Default)]
pub(crate) struct Finishers(Mutex<Vec<BoxFuture<()>>>);

impl Finishers {
    pub(crate) fn push(&self, future: impl Future<Output = ()> + Send + 'static) {
        lock(&self.0).push(Box::pin(future));
    }
}

impl Extension for Finishers {
    fn finish(&self) -> Vec<BoxFuture<()>> {
        std::mem::take(&mut *lock(&self.0))
    }
}

impl Shutdown {
    /// The value of the feature extension `T` for this engine, created on first use; see the
    /// module documentation for what the engine asks of it.
    pub(crate) fn extension<T: Extension>(&self) -> Arc<T> {
        self.control().extensions().get::<T>()
    }

    /// Registers a future that [`Graceful::run`](crate::Graceful::run) awaits, briefly, after
    /// publishing the final phase and before returning, so that integrations can deliver it.
    /// Shorthand for the [`Finishers`] extension.
    // Only the feature modules (admin, systemd, metrics) deliver final events this way.
    #[cfg_attr(
        not(any(feature = "admin", feature = "systemd", feature = "metrics")),
        allow(dead_code)
    )]
    pub(crate) fn on_finished(&self, future: impl Future<Output = ()> + Send + 'static) {
        self.extension::<Finishers>().push(future);
    }

    /// Makes [`Graceful::run`](crate::Graceful::run) wait, briefly and never past the
    /// deadline, until the returned sender is dropped (or used) after the final phase is
    /// published: how an integration delivers the last phase before the process exits.
    // Only the feature modules (systemd, metrics) use it.
    #[cfg_attr(not(any(feature = "systemd", feature = "metrics")), allow(dead_code))]
    pub(crate) fn hold_finish(&self) -> tokio::sync::oneshot::Sender<()> {
        let (done, finished) = tokio::sync::oneshot::channel::<()>();
        self.on_finished(async move {
            let _ = finished.await;
        });
        done
    }
}

#[cfg(test)]
mod tests {
    use super::Feature;

    #[test]
    fn every_feature_that_starts_with_the_engine_registers_its_start_hook() {
        let mut names: Vec<&str> = inventory::iter::<Feature>
            .into_iter()
            .map(|f| f.name)
            .collect();
        names.sort_unstable();
        let expected: Vec<&str> = [
            (cfg!(feature = "timeline"), "timeline"),
            (cfg!(all(feature = "upgrade", unix)), "upgrade"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        assert_eq!(names, expected);
    }
}
