//! The [`Shutdown`] handle: what a program holds to see, start and take part in a shutdown.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, watch};
use tokio::task::{AbortHandle, JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::error::BoxError;
use crate::phase::Phase;
use crate::reason::ShutdownReason;
use crate::report::{CloseOutcome, Progress, ShutdownReport};
use crate::resource::{BoxFuture, Resources};
use crate::tracker::{TrackGuard, Tracker};

/// Something that happened during a shutdown, as broadcast by [`Shutdown::events`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "event", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Event {
    /// Every resource is built; `main` runs.
    Started,
    /// The phase changed.
    Phase {
        /// The new phase.
        phase: Phase,
    },
    /// A resource finished closing (or failed, or timed out).
    ResourceClosed {
        /// Its name.
        name: String,
        /// How it went.
        outcome: CloseOutcome,
        /// How long it took, in seconds.
        seconds: f64,
    },
    /// A deadline expired.
    Deadline {
        /// What was waited for.
        what: String,
    },
    /// A successor took over the listeners; this process shuts down in its favour (feature
    /// `upgrade`).
    Upgraded {
        /// The successor's pid.
        successor: u32,
    },
    /// An upgrade failed; this process keeps serving (feature `upgrade`).
    UpgradeFailed {
        /// The successor's pid, when one was started.
        successor: Option<u32>,
        /// What went wrong.
        error: String,
    },
}

/// Lists work that was still pending when the drain deadline expired (for the report).
pub(crate) type PendingReporter = Box<dyn Fn() -> Vec<String> + Send + Sync>;

pub(crate) type HookFn = Box<dyn FnOnce(Shutdown) -> BoxFuture<Result<(), BoxError>> + Send>;

pub(crate) struct Hook {
    pub(crate) phase: Phase,
    pub(crate) name: String,
    pub(crate) run: HookFn,
}

#[derive(Default)]
pub(crate) struct ProgressState {
    pub(crate) resources_total: usize,
    pub(crate) resources_closed: usize,
    pub(crate) errors: Vec<String>,
}

pub(crate) struct Inner {
    token: CancellationToken,
    force: CancellationToken,
    reason: OnceLock<ShutdownReason>,
    phase: watch::Sender<Phase>,
    events: broadcast::Sender<Event>,
    tracker: Tracker,
    tasks: Mutex<BTreeMap<u64, (String, AbortHandle)>>,
    next_task: AtomicU64,
    pub(crate) progress: Mutex<ProgressState>,
    pub(crate) hooks: Mutex<Vec<Hook>>,
    pub(crate) pending_reporters: Mutex<Vec<PendingReporter>>,
    progress_reporters: Mutex<Vec<PendingReporter>>,
    extensions: Mutex<BTreeMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>>,
    /// Futures run after the final phase is published; see [`Shutdown::on_finished`].
    finishers: Mutex<Vec<BoxFuture<()>>>,
    started: watch::Sender<bool>,
    timeout_override: OnceLock<Duration>,
    resources: Resources,
    config: Arc<Config>,
    started_at: Instant,
    pub(crate) shutdown_started: OnceLock<Instant>,
    pub(crate) report: OnceLock<ShutdownReport>,
}

/// A handle to the engine: cheap to clone, `Send + Sync`.
///
/// `#[graceful::main]` passes one to `main`; [`Graceful::shutdown`](crate::Graceful::shutdown)
/// gives one without macros.
#[derive(Clone)]
pub struct Shutdown {
    pub(crate) inner: Arc<Inner>,
}

impl Shutdown {
    pub(crate) fn new(config: Arc<Config>, resources: Resources) -> Self {
        let (phase, _) = watch::channel(Phase::Running);
        let (events, _) = broadcast::channel(256);
        Shutdown {
            inner: Arc::new(Inner {
                token: CancellationToken::new(),
                force: CancellationToken::new(),
                reason: OnceLock::new(),
                phase,
                events,
                tracker: Tracker::new(),
                tasks: Mutex::new(BTreeMap::new()),
                next_task: AtomicU64::new(0),
                progress: Mutex::new(ProgressState::default()),
                hooks: Mutex::new(Vec::new()),
                pending_reporters: Mutex::new(Vec::new()),
                progress_reporters: Mutex::new(Vec::new()),
                extensions: Mutex::new(BTreeMap::new()),
                finishers: Mutex::new(Vec::new()),
                started: watch::channel(false).0,
                timeout_override: OnceLock::new(),
                resources,
                config,
                started_at: Instant::now(),
                shutdown_started: OnceLock::new(),
                report: OnceLock::new(),
            }),
        }
    }

    /// Resolves once a shutdown has been requested (by any trigger). Cheap to call often;
    /// the future owns what it needs, so it can be moved into a task.
    ///
    /// ```
    /// # #[allow(dead_code)]
    /// # async fn demo(shutdown: graceful::Shutdown) {
    /// loop {
    ///     tokio::select! {
    ///         _ = shutdown.requested() => break,
    ///         _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => { /* work */ }
    ///     }
    /// }
    /// # }
    /// ```
    pub fn requested(&self) -> impl Future<Output = ()> + Send + 'static {
        self.inner.token.clone().cancelled_owned()
    }

    /// A [`CancellationToken`] cancelled when the shutdown is requested (by any trigger), for
    /// libraries that take one (`tokio_util`'s `TaskTracker` patterns, tonic's and many
    /// clients' cancellation). It is a child token: cancelling it yourself cancels only it and
    /// its own children, never the engine's shutdown (use [`trigger`](Shutdown::trigger)).
    ///
    /// ```
    /// # #[allow(dead_code)]
    /// # async fn demo(shutdown: graceful::Shutdown) {
    /// let token = shutdown.cancellation_token();
    /// tokio::spawn(async move {
    ///     token.run_until_cancelled(async { /* a loop that knows only tokens */ }).await;
    /// });
    /// # }
    /// ```
    pub fn cancellation_token(&self) -> CancellationToken {
        self.inner.token.child_token()
    }

    /// Resolves when the drain starts ([`Phase::DrainingConnections`], or any later phase):
    /// listeners have stopped accepting and the engine now waits for tracked work to finish.
    /// Work that should keep going through the readiness delay but wind down during the
    /// drain (a consumer that stops fetching, a long poll that answers early) waits on this
    /// instead of [`requested`](Shutdown::requested). Owns what it needs, like `requested`.
    ///
    /// ```
    /// # #[allow(dead_code)]
    /// # async fn demo(shutdown: graceful::Shutdown) {
    /// let drain = shutdown.drain_started();
    /// tokio::select! {
    ///     _ = drain => { /* stop fetching, finish what was fetched */ }
    ///     _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
    /// }
    /// # }
    /// ```
    pub fn drain_started(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut phase = self.phase();
        async move {
            // An error means the engine is gone: nothing will drain any more.
            let _ = phase.wait_for(|p| *p >= Phase::DrainingConnections).await;
        }
    }

    /// `true` once any trigger has fired.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.token.is_cancelled()
    }

    /// Starts a shutdown. Returns `true` if this call started it, `false` if one was already
    /// under way (its reason is kept; exactly one shutdown ever runs).
    pub fn trigger(&self, reason: impl Into<ShutdownReason>) -> bool {
        let reason = reason.into();
        let started = self.inner.reason.set(reason.clone()).is_ok();
        if started {
            let _ = self.inner.shutdown_started.set(Instant::now());
            tracing::info!(target: "graceful::trigger", %reason, "shutdown requested");
        } else {
            tracing::debug!(target: "graceful::trigger", %reason, "shutdown already under way; trigger ignored");
        }
        self.inner.token.cancel();
        started
    }

    /// Starts a shutdown whose overall deadline is `timeout` instead of the configured one
    /// (for example an operator's `POST /shutdown {"timeout_seconds": 10}`). Returns `false`,
    /// changing nothing, if a shutdown was already under way.
    pub fn trigger_with_timeout(
        &self,
        reason: impl Into<ShutdownReason>,
        timeout: Duration,
    ) -> bool {
        if self.is_shutting_down() {
            return false;
        }
        let _ = self.inner.timeout_override.set(timeout);
        self.trigger(reason)
    }

    /// The overall deadline of this shutdown: the configured `timeout`, or the one given to
    /// [`trigger_with_timeout`](Shutdown::trigger_with_timeout).
    pub fn timeout(&self) -> Duration {
        self.inner
            .timeout_override
            .get()
            .copied()
            .unwrap_or(self.inner.config.timeout.value)
    }

    /// Resolves once every resource is built and `main` is about to run (at once if that
    /// already happened). systemd's `READY=1` belongs here.
    pub async fn started(&self) {
        let mut rx = self.inner.started.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    /// `true` once start-up finished.
    pub fn is_started(&self) -> bool {
        *self.inner.started.borrow()
    }

    pub(crate) fn mark_started(&self) {
        self.inner.started.send_replace(true);
        self.emit(Event::Started);
    }

    /// Registers a function that lists work still pending (for example open HTTP requests:
    /// `"GET /slow (12.1s)"`). When the drain deadline expires, its lines are written to the
    /// report's `abandoned` list. Integrations that own connections register one.
    pub fn on_abandon(&self, reporter: impl Fn() -> Vec<String> + Send + Sync + 'static) {
        if let Ok(mut r) = self.inner.pending_reporters.lock() {
            r.push(Box::new(reporter));
        }
    }

    /// Registers a function that names work in progress that is not a spawned task (for
    /// example blockers and supervised tasks: `"blocker nightly export (3.2s)"`). Its lines
    /// are appended to [`Progress::tasks`].
    pub fn on_progress(&self, reporter: impl Fn() -> Vec<String> + Send + Sync + 'static) {
        if let Ok(mut r) = self.inner.progress_reporters.lock() {
            r.push(Box::new(reporter));
        }
    }

    /// Per-engine state of a feature module, created on first use (one value per type).
    pub(crate) fn extension<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut map = self
            .inner
            .extensions
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let any = map
            .entry(std::any::TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()) as Arc<dyn std::any::Any + Send + Sync>)
            .clone();
        match any.downcast::<T>() {
            Ok(t) => t,
            // Unreachable: the map is keyed by the value's own type.
            Err(_) => Arc::new(T::default()),
        }
    }

    /// Registers a future that [`Graceful::run`](crate::Graceful::run) awaits, briefly, after
    /// publishing the final phase and before returning, so that integrations can deliver it
    /// (the admin API's event streams, systemd's last `STATUS=`, the final metrics).
    // Only the feature modules (admin, systemd, metrics) deliver final events this way.
    #[cfg_attr(
        not(any(feature = "admin", feature = "systemd", feature = "metrics")),
        allow(dead_code)
    )]
    pub(crate) fn on_finished(&self, future: impl Future<Output = ()> + Send + 'static) {
        if let Ok(mut f) = self.inner.finishers.lock() {
            f.push(Box::pin(future));
        }
    }

    /// Runs the [`on_finished`](Shutdown::on_finished) futures concurrently, for at most `bound`.
    pub(crate) async fn run_finishers(&self, bound: Duration) {
        let futures = match self.inner.finishers.lock() {
            Ok(mut f) => std::mem::take(&mut *f),
            Err(_) => return,
        };
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

    pub(crate) fn pending_from_reporters(&self) -> Vec<String> {
        self.inner
            .pending_reporters
            .lock()
            .map(|r| r.iter().flat_map(|f| f()).collect())
            .unwrap_or_default()
    }

    /// Starts a shutdown (if none is running) and skips every remaining wait: the readiness
    /// delay and the drain end (tracked tasks are aborted), hooks other than the save are cut,
    /// resource closes are skipped or abandoned, and the result is [`Phase::Forced`]. The
    /// [`SavingState`](Phase::SavingState) hooks still run, for at most
    /// [`forced_save_timeout`](crate::Config::forced_save_timeout) (`0` skips them too).
    pub fn force(&self, reason: impl Into<ShutdownReason>) {
        self.trigger(reason);
        self.inner.force.cancel();
    }

    /// `true` once [`force`](Shutdown::force) was called (or a second signal arrived).
    pub fn is_forced(&self) -> bool {
        self.inner.force.is_cancelled()
    }

    pub(crate) fn forced(&self) -> impl Future<Output = ()> + Send + 'static {
        self.inner.force.clone().cancelled_owned()
    }

    /// Reports a fatal failure of a resource or a background task: starts a shutdown whose
    /// reason names it.
    pub fn fail(&self, resource: impl Into<String>, error: impl std::fmt::Display) -> bool {
        self.trigger(ShutdownReason::ResourceFailed {
            resource: resource.into(),
            error: error.to_string(),
        })
    }

    /// What started the shutdown, once one started.
    pub fn reason(&self) -> Option<ShutdownReason> {
        self.inner.reason.get().cloned()
    }

    /// Marks one unit of in-flight work until the guard drops; the drain waits for it.
    /// Does not allocate.
    #[inline]
    pub fn track(&self) -> TrackGuard {
        self.inner.tracker.track()
    }

    /// Units of tracked work in flight now.
    pub fn in_flight(&self) -> u64 {
        self.inner.tracker.count()
    }

    /// Spawns a named, tracked task. It counts as in flight until it finishes; it should
    /// watch [`requested`](Shutdown::requested) and stop. If it is still running when
    /// `drain_timeout` expires it is aborted and named in the report. If it panics or returns
    /// `Err`, the failure is recorded by name in the report and starts an orderly shutdown
    /// whose exit code is non-zero; [`Shutdown::task`] spawns one whose failure is only
    /// recorded.
    pub fn spawn<F>(&self, name: impl Into<String>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: crate::TaskOutput,
    {
        self.task(name).spawn(future)
    }

    /// Spawns `future` as a named entry of the task table, holding an in-flight guard.
    pub(crate) fn spawn_tracked<F>(&self, name: String, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let guard = self.track();
        let id = self.inner.next_task.fetch_add(1, Ordering::Relaxed);
        let inner = self.inner.clone();
        // Hold the table while spawning: the task's own removal (on finish) waits for the
        // insertion, so a fast task never leaves a stale entry behind.
        let mut tasks = self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner());
        let handle = tokio::spawn(async move {
            let _guard = guard;
            let _entry = TaskEntry { inner, id };
            future.await
        });
        tasks.insert(id, (name, handle.abort_handle()));
        handle
    }

    /// Names of tracked tasks still running.
    pub fn running_tasks(&self) -> Vec<String> {
        self.inner
            .tasks
            .lock()
            .map(|t| t.values().map(|(n, _)| n.clone()).collect())
            .unwrap_or_default()
    }

    pub(crate) fn abort_tasks(&self) -> Vec<String> {
        let Ok(mut tasks) = self.inner.tasks.lock() else {
            return Vec::new();
        };
        let taken = std::mem::take(&mut *tasks);
        taken
            .into_values()
            .map(|(name, handle)| {
                handle.abort();
                name
            })
            .collect()
    }

    pub(crate) async fn wait_idle(&self) {
        self.inner.tracker.wait_idle().await
    }

    /// A receiver of phase changes. `*rx.borrow()` is the current phase.
    pub fn phase(&self) -> watch::Receiver<Phase> {
        self.inner.phase.subscribe()
    }

    /// The current phase.
    pub fn current_phase(&self) -> Phase {
        *self.inner.phase.borrow()
    }

    /// A stream of [`Event`]s (phase changes, resource closes, deadlines) from now on.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    pub(crate) fn emit(&self, event: Event) {
        let _ = self.inner.events.send(event);
    }

    pub(crate) fn set_phase(&self, phase: Phase) {
        self.inner.phase.send_replace(phase);
        tracing::info!(target: "graceful::phase", phase = phase.as_str(), "shutdown phase");
        self.emit(Event::Phase { phase });
    }

    /// The resources this engine built.
    pub fn resources(&self) -> &Resources {
        &self.inner.resources
    }

    /// The effective configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// When the engine was created (the process's start, for `#[graceful::main]`).
    pub fn started_at(&self) -> Instant {
        self.inner.started_at
    }

    /// Registers a hook that runs during `phase` (useful phases:
    /// [`Phase::StoppingNewRequests`], [`Phase::SavingState`], [`Phase::FlushingBuffers`]).
    /// Hooks of one phase run concurrently, bounded by the overall deadline; errors and panics
    /// are recorded by name. A hook registered after its phase started does not run.
    pub fn on_phase<F, Fut>(&self, phase: Phase, name: impl Into<String>, hook: F)
    where
        F: FnOnce(Shutdown) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        let hook = Hook {
            phase,
            name: name.into(),
            run: Box::new(move |s| Box::pin(hook(s))),
        };
        if let Ok(mut hooks) = self.inner.hooks.lock() {
            hooks.push(hook);
        }
    }

    /// Where the shutdown stands now.
    pub fn progress(&self) -> Progress {
        let (closed, total, errors) = self
            .inner
            .progress
            .lock()
            .map(|p| (p.resources_closed, p.resources_total, p.errors.clone()))
            .unwrap_or_default();
        let elapsed = self.elapsed();
        let remaining = elapsed.map(|e| self.timeout().saturating_sub(e));
        let mut tasks = self.running_tasks();
        if let Ok(r) = self.inner.progress_reporters.lock() {
            tasks.extend(r.iter().flat_map(|f| f()));
        }
        Progress {
            phase: self.current_phase(),
            reason: self.reason(),
            in_flight: self.in_flight(),
            tasks,
            resources_closed: closed,
            resources_total: total,
            elapsed,
            remaining,
            errors,
        }
    }

    /// The final report, once the shutdown has finished.
    pub fn report(&self) -> Option<&ShutdownReport> {
        self.inner.report.get()
    }

    /// Resolves when the shutdown has finished (phase `Completed` or `Forced`).
    pub async fn finished(&self) -> Phase {
        let mut rx = self.phase();
        match rx.wait_for(|p| p.is_finished()).await {
            Ok(p) => *p,
            Err(_) => self.current_phase(),
        }
    }

    /// When the shutdown was triggered (now, if it has not been).
    pub(crate) fn shutdown_start(&self) -> Instant {
        self.inner
            .shutdown_started
            .get()
            .copied()
            .unwrap_or_else(Instant::now)
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

    /// How long the shutdown has been running.
    pub fn elapsed(&self) -> Option<Duration> {
        self.inner.shutdown_started.get().map(Instant::elapsed)
    }
}

impl std::fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shutdown")
            .field("phase", &self.current_phase())
            .field("reason", &self.inner.reason.get())
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

/// Removes a finished task from the table (also on abort and panic, as it runs on drop).
struct TaskEntry {
    inner: Arc<Inner>,
    id: u64,
}

impl Drop for TaskEntry {
    fn drop(&mut self) {
        if let Ok(mut tasks) = self.inner.tasks.lock() {
            tasks.remove(&self.id);
        }
    }
}
