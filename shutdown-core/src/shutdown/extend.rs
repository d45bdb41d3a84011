//! The one seam through which feature modules extend the engine.
//!
//! A feature (readiness holds, blockers, supervised tasks, task failures, metrics, the admin
//! API, systemd, HTTP serving) keeps its per-engine state in a type that implements
//! [`Extension`] and reaches it with [`Shutdown::extension`], which creates the value on first
//! use: one value per type and engine, living as long as the engine. At three fixed points the
//! engine asks every extension, in the order they were first used:
//!
//! - [`progress`](Extension::progress): lines naming work in progress that is not a spawned
//!   task (`"blocker nightly export (3.2s)"`), appended to [`Progress::tasks`](crate::report::Progress::tasks);
//! - [`abandoned`](Extension::abandoned): lines naming work still pending when the drain
//!   deadline expires (`"GET /slow (12.1s)"`), written to the report's `abandoned` list;
//! - [`finish`](Extension::finish): futures awaited after the final phase is published,
//!   concurrently, for at most [`FINISH_BOUND`] and never past the overall deadline, so that
//!   the feature can deliver that phase (the admin API's event streams, systemd's last
//!   `STATUS=`, the final metrics).
//!
//! Nothing else reaches into the engine. Work that must run *during* a phase is not an
//! extension point: it is a phase hook, registered with the public
//! [`Shutdown::on_phase`] like any program's. One feature is started by the engine itself:
//! in-place upgrades (feature `upgrade`), which `Graceful::run` starts next to the signal
//! handlers, because their signal, PID file and successor channel must work from the first
//! moment whether or not the program ever names the feature. The public [`Shutdown::on_progress`] and
//! [`Shutdown::on_abandon`] closures and [`Shutdown::on_finished`] futures are kept by
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

    /// Lines naming work still pending when the drain deadline expires.
    fn abandoned(&self) -> Vec<String> {
        Vec::new()
    }

    /// Futures to await after the final phase is published (taken once).
    fn finish(&self) -> Vec<BoxFuture<()>> {
        Vec::new()
    }
}

/// [`Extension`] without its `Default` bound, so that values of different types share a list.
trait Contributes: Send + Sync {
    fn progress(&self) -> Vec<String>;
    fn abandoned(&self) -> Vec<String>;
    fn finish(&self) -> Vec<BoxFuture<()>>;
}

impl<T: Extension> Contributes for T {
    fn progress(&self) -> Vec<String> {
        Extension::progress(self)
    }
    fn abandoned(&self) -> Vec<String> {
        Extension::abandoned(self)
    }
    fn finish(&self) -> Vec<BoxFuture<()>> {
        Extension::finish(self)
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

    /// Every extension's abandoned work.
    pub(crate) fn abandoned(&self) -> Vec<String> {
        self.snapshot()
            .iter()
            .flat_map(|e| e.contributes.abandoned())
            .collect()
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

/// A function that names work (see [`Shutdown::on_progress`] and [`Shutdown::on_abandon`]).
type Reporter = Arc<dyn Fn() -> Vec<String> + Send + Sync>;

/// The extension behind [`Shutdown::on_progress`] and [`Shutdown::on_abandon`]: the closures a
/// program or an integration registered.
#[derive(Default)]
pub(crate) struct Reporters {
    progress: Mutex<Vec<Reporter>>,
    abandoned: Mutex<Vec<Reporter>>,
}

impl Reporters {
    pub(crate) fn on_progress(&self, f: impl Fn() -> Vec<String> + Send + Sync + 'static) {
        lock(&self.progress).push(Arc::new(f));
    }

    pub(crate) fn on_abandon(&self, f: impl Fn() -> Vec<String> + Send + Sync + 'static) {
        lock(&self.abandoned).push(Arc::new(f));
    }
}

/// Calls each reporter of `list` (a snapshot, so that a reporter may use the handle).
fn call(list: &Mutex<Vec<Reporter>>) -> Vec<String> {
    let reporters = lock(list).clone();
    reporters.iter().flat_map(|f| f()).collect()
}

impl Extension for Reporters {
    fn progress(&self) -> Vec<String> {
        call(&self.progress)
    }

    fn abandoned(&self) -> Vec<String> {
        call(&self.abandoned)
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
        self.extensions().get::<T>()
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
