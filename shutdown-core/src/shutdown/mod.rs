//! The [`Shutdown`] handle: what a program holds to see, start and take part in a shutdown.
//!
//! The handle is narrow on purpose. Its public methods are what a program uses: asking whether
//! a shutdown was requested (and why), triggering or forcing one, tracking work and spawning
//! tracked tasks, following the phase and the [`Event`] stream, reading the progress, holding
//! readiness down, and reading the resources and the configuration. The engine's own controls
//! (publishing the phase and events, waiting for the tracked work, the force switch, the run
//! state) are in [`Control`](control::Control), reached with `shutdown.control()` inside the crate only. The run
//! state itself is the engine's (`engine/ledger.rs`); the handle sees it through [`RunView`],
//! the narrow interface of what it may read and add to. Feature modules extend the engine
//! through one seam, `Shutdown::extension` (see `extend.rs`).

mod control;
mod event;
mod extend;
mod task_table;

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

pub use event::Event;
#[cfg_attr(
    not(any(feature = "timeline", all(feature = "upgrade", unix))),
    allow(
        unused_imports,
        reason = "only the features that start with the engine use it"
    )
)]
pub(crate) use extend::Feature;
pub(crate) use extend::{Extension, FINISH_BOUND, Reporters, start_features};
pub(crate) use task_table::{TaskTable, spawn_tracked};

pub(crate) use extend::Extensions;

use crate::config::Config;
use crate::error::BoxError;
use crate::phase::Phase;
use crate::reason::ShutdownReason;
use crate::report::{Progress, ShutdownReport};
use crate::resource::{BoxFuture, Resources};
use crate::tracker::{TrackGuard, Tracker};

/// A phase hook's body (see [`Shutdown::on_phase`]).
pub(crate) type HookFn = Box<dyn FnOnce(Shutdown) -> BoxFuture<Result<(), BoxError>> + Send>;

/// A hook registered for a phase, waiting to run.
pub(crate) struct Hook {
    pub(crate) phase: Phase,
    pub(crate) name: String,
    pub(crate) run: HookFn,
}

impl Hook {
    /// Wraps a hook as [`Shutdown::on_phase`] and the builder take it.
    pub(crate) fn new<F, Fut>(phase: Phase, name: String, hook: F) -> Hook
    where
        F: FnOnce(Shutdown) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        Hook {
            phase,
            name,
            run: Box::new(move |s| Box::pin(hook(s))),
        }
    }
}

/// The handle's view of the engine's run state: what a handle may read (start-up, progress
/// counts, the final report) and add (a task's failure, a phase hook). The engine implements
/// it and keeps the writes to itself.
pub(crate) trait RunView: Send + Sync {
    /// Start-up finished (`true`), or not yet.
    fn started(&self) -> watch::Receiver<bool>;
    /// `(resources closed, resources to close, errors)` now.
    fn counts(&self) -> (usize, usize, Vec<String>);
    /// Records an error for [`Progress::errors`].
    fn error(&self, line: String);
    /// Adds a phase hook; it runs if its phase has not started yet.
    fn add_hook(&self, hook: Hook);
    /// The final report, once the shutdown has finished.
    fn report(&self) -> Option<&ShutdownReport>;
    /// The tracked tasks still running (added to by [`Shutdown::spawn`], aborted by the engine
    /// at the drain deadline).
    fn tasks(&self) -> &TaskTable;
    /// The feature extensions (the engine asks them for progress, abandoned work and finish
    /// futures).
    fn extensions(&self) -> &Extensions;
    /// Whether `main` runs now, holding one in-flight guard of its own.
    fn main_running(&self) -> bool;
}

/// The first trigger: why and when the shutdown started, and its deadline if the trigger set
/// one. Set once, as a whole, so that no reader sees a reason without its time.
struct Trigger {
    reason: ShutdownReason,
    /// On tokio's clock, which a test may pause (see `engine/recorder.rs`).
    at: tokio::time::Instant,
    timeout: Option<Duration>,
}

/// What the handle shares between its clones.
pub(crate) struct Inner {
    /// Cancelled at the first trigger.
    token: CancellationToken,
    /// Cancelled when the shutdown is forced.
    force: CancellationToken,
    trigger: OnceLock<Trigger>,
    phase: watch::Sender<Phase>,
    events: broadcast::Sender<Event>,
    tracker: Tracker,
    resources: Resources,
    config: Arc<Config>,
    #[cfg_attr(
        not(feature = "admin"),
        allow(dead_code, reason = "only the admin API reports the uptime")
    )]
    started_at: Instant,
    /// The engine's run state, seen through what the handle may do with it.
    run: Arc<dyn RunView>,
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
    pub(crate) fn new(config: Arc<Config>, resources: Resources, run: Arc<dyn RunView>) -> Self {
        let (phase, _) = watch::channel(Phase::Running);
        let (events, _) = broadcast::channel(256);
        Shutdown {
            inner: Arc::new(Inner {
                token: CancellationToken::new(),
                force: CancellationToken::new(),
                trigger: OnceLock::new(),
                phase,
                events,
                tracker: Tracker::new(),
                resources,
                config,
                started_at: Instant::now(),
                run,
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
        self.start(reason.into(), None)
    }

    /// Records the first trigger (with its own deadline, if it sets one) and cancels the
    /// token; `true` if this call was the first.
    fn start(&self, reason: ShutdownReason, timeout: Option<Duration>) -> bool {
        let mut started = false;
        self.inner.trigger.get_or_init(|| {
            started = true;
            Trigger {
                reason: reason.clone(),
                at: tokio::time::Instant::now(),
                timeout,
            }
        });
        if started {
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
        self.start(reason.into(), Some(timeout))
    }

    /// Resolves once every resource is built and `main` is about to run (at once if that
    /// already happened). systemd's `READY=1` belongs here.
    pub async fn started(&self) {
        let mut rx = self.inner.run.started();
        let _ = rx.wait_for(|s| *s).await;
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
        self.inner.trigger.get().map(|t| t.reason.clone())
    }

    /// Marks one unit of in-flight work until the guard drops; the drain waits for it.
    /// Does not allocate.
    #[inline]
    pub fn track(&self) -> TrackGuard {
        self.inner.tracker.track()
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

    /// The resources this engine built.
    pub fn resources(&self) -> &Resources {
        &self.inner.resources
    }

    /// The effective configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
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
        self.inner.run.add_hook(Hook::new(phase, name.into(), hook));
    }

    /// Where the shutdown stands now.
    pub fn progress(&self) -> Progress {
        let (closed, total, errors) = self.inner.run.counts();
        let elapsed = self.elapsed();
        let remaining = elapsed.map(|e| self.timeout().saturating_sub(e));
        let mut tasks = self.running_tasks();
        tasks.extend(self.inner.run.extensions().progress());
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

    /// Resolves when the shutdown has finished (phase `Completed` or `Forced`).
    pub async fn finished(&self) -> Phase {
        let mut rx = self.phase();
        match rx.wait_for(|p| p.is_finished()).await {
            Ok(p) => *p,
            Err(_) => self.current_phase(),
        }
    }
}

/// What the crate reads through a handle: the admin API, the watchdog, `serve` and the test kit.
/// A program reads the same through [`progress`](Shutdown::progress) and the run's outcome.
impl Shutdown {
    /// The overall deadline of this shutdown: the configured `timeout`, or the one given to
    /// [`trigger_with_timeout`](Shutdown::trigger_with_timeout).
    pub(crate) fn timeout(&self) -> Duration {
        self.inner
            .trigger
            .get()
            .and_then(|t| t.timeout)
            .unwrap_or(self.inner.config.timeout.value)
    }

    /// `true` once start-up finished.
    pub(crate) fn is_started(&self) -> bool {
        *self.inner.run.started().borrow()
    }

    /// Registers a function that lists work still pending (for example open HTTP requests:
    /// `"GET /slow (12.1s)"`). When the drain deadline expires, its lines are written to the
    /// report's `abandoned` list. Integrations that own connections register one.
    #[cfg_attr(
        not(any(feature = "hyper", feature = "testing")),
        allow(dead_code, reason = "only serve and the test kit name pending work")
    )]
    pub(crate) fn on_abandon(&self, reporter: impl Fn() -> Vec<String> + Send + Sync + 'static) {
        self.extension::<Reporters>().on_abandon(reporter);
    }

    /// Units of tracked work in flight now.
    pub(crate) fn in_flight(&self) -> u64 {
        self.inner.tracker.count()
    }

    /// Tracked units that are not `main`, a tracked task or a blocker: requests, connections
    /// and the application's own [`track`](Shutdown::track) guards. What the admin API reports
    /// as `active_operations.connections`.
    #[cfg_attr(
        not(feature = "admin"),
        allow(dead_code, reason = "only the admin API reports it")
    )]
    pub(crate) fn connections_in_flight(&self) -> u64 {
        let named = usize::from(self.inner.run.main_running())
            + self.inner.run.tasks().names().len()
            + self.blockers().len();
        self.in_flight()
            .saturating_sub(u64::try_from(named).unwrap_or(u64::MAX))
    }

    /// Names of tracked tasks still running.
    pub(crate) fn running_tasks(&self) -> Vec<String> {
        self.inner.run.tasks().names()
    }

    /// When the engine was created (the process's start, for `#[graceful::main]`).
    #[cfg_attr(
        not(feature = "admin"),
        allow(dead_code, reason = "only the admin API reports the uptime")
    )]
    pub(crate) fn started_at(&self) -> Instant {
        self.inner.started_at
    }

    /// The final report, once the shutdown has finished.
    pub(crate) fn report(&self) -> Option<&ShutdownReport> {
        self.inner.run.report()
    }

    /// How long the shutdown has been running.
    pub(crate) fn elapsed(&self) -> Option<Duration> {
        self.inner.trigger.get().map(|t| t.at.elapsed())
    }
}

impl std::fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shutdown")
            .field("phase", &self.current_phase())
            .field("reason", &self.reason())
            .field("in_flight", &self.in_flight())
            .finish()
    }
}
