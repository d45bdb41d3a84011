//! Supervised background tasks: restarted when they fail or panic, stopped at shutdown.
//! The public items are re-exported at the crate root; their docs say how they work.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::error::BoxError;
use crate::phase::Phase;
use crate::shutdown::Extension;
use crate::shutdown::Shutdown;
use crate::sync::lock;

#[cfg(test)]
mod tests;

/// How a supervised task is restarted and stopped.
///
/// [`Shutdown::supervise`] runs a task made by a factory. When the task returns an error or
/// panics, the supervisor waits (exponential backoff with a cap) and calls the factory again,
/// up to a maximum number of restarts. When the shutdown starts, the task's
/// [`CancellationToken`] is cancelled; the supervisor waits for the task up to its stop
/// deadline, then aborts it.
///
/// What happened is visible while it happens and afterwards:
/// - [`Progress::tasks`](crate::report::Progress::tasks) has a line per supervised task with its
///   [`TaskState`] and restart count (`"supervised ticker: running, 2 restart(s)"`);
/// - the report has a hook record `supervised <name>` (in the `saving_state` phase), which
///   fails — and so appears in [`ShutdownReport::errors`](crate::report::ShutdownReport::errors) — when
///   the task had to be aborted at its stop deadline or gave up after too many restarts.
///
/// ```
/// use std::time::Duration;
/// use graceful::{Graceful, Supervise};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let graceful = Graceful::builder().signals([]).build().expect("valid configuration");
/// let outcome = graceful
///     .run(|shutdown| async move {
///         let ticker = shutdown.supervise_with(
///             "ticker",
///             Supervise::new().max_restarts(5).stop_timeout(Duration::from_secs(2)),
///             |stop| async move {
///                 loop {
///                     tokio::select! {
///                         _ = stop.cancelled() => return Ok::<_, std::io::Error>(()),
///                         _ = tokio::time::sleep(Duration::from_millis(10)) => { /* tick */ }
///                     }
///                 }
///             },
///         );
///         tokio::time::sleep(Duration::from_millis(30)).await;
///         assert_eq!(ticker.restarts(), 0);
///     })
///     .await;
/// assert!(outcome.report.errors().is_empty());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Supervise {
    initial_backoff: Duration,
    max_backoff: Duration,
    max_restarts: Option<u32>,
    stop_timeout: Duration,
    reset_after: Duration,
    fail_shutdown: bool,
}

impl Default for Supervise {
    fn default() -> Self {
        Supervise {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(30),
            max_restarts: Some(10),
            stop_timeout: Duration::from_secs(5),
            reset_after: Duration::from_secs(60),
            fail_shutdown: false,
        }
    }
}

impl Supervise {
    /// The defaults: backoff 100 ms doubling up to 30 s, at most 10 restarts, a 5 s stop
    /// deadline, the backoff reset after a run of 60 s, and a task that gives up does not stop
    /// the service.
    pub fn new() -> Self {
        Self::default()
    }

    /// The wait before the first restart; each further restart doubles it.
    pub fn initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// The cap of the backoff.
    pub fn max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// Gives up after `n` restarts (the task then has [`TaskState::Failed`]).
    pub fn max_restarts(mut self, n: u32) -> Self {
        self.max_restarts = Some(n);
        self
    }

    /// Restarts forever.
    pub fn unlimited_restarts(mut self) -> Self {
        self.max_restarts = None;
        self
    }

    /// How long a task may take to stop after its token is cancelled before it is aborted.
    pub fn stop_timeout(mut self, d: Duration) -> Self {
        self.stop_timeout = d;
        self
    }

    /// A run that lasted at least this long resets the backoff to its initial value.
    pub fn reset_after(mut self, d: Duration) -> Self {
        self.reset_after = d;
        self
    }

    /// When the task gives up (too many restarts), start a shutdown whose reason names it.
    pub fn fail_shutdown(mut self, yes: bool) -> Self {
        self.fail_shutdown = yes;
        self
    }

    /// The backoff before restart number `restart` (1-based).
    fn backoff(&self, restart: u32) -> Duration {
        let factor = 2u32.saturating_pow(restart.saturating_sub(1).min(31));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// Where a supervised task stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(
    feature = "serde",
    serde(tag = "state", content = "detail", rename_all = "snake_case")
)]
pub enum TaskState {
    /// Running.
    Running,
    /// Failed or panicked; waiting before the next restart.
    BackingOff(String),
    /// The shutdown started; waiting for the task to stop.
    Stopping,
    /// Stopped after cancellation, within its deadline.
    Stopped,
    /// Returned `Ok` by itself before any shutdown; not restarted.
    Finished,
    /// Gave up after the maximum number of restarts; the last error.
    Failed(String),
    /// Ignored cancellation and was aborted at its stop deadline.
    Aborted,
}

impl TaskState {
    /// `true` once the task will not run again.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            TaskState::Stopped | TaskState::Finished | TaskState::Failed(_) | TaskState::Aborted
        )
    }
}

impl std::fmt::Display for TaskState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TaskState::Running => f.write_str("running"),
            TaskState::BackingOff(e) => write!(f, "backing off after: {e}"),
            TaskState::Stopping => f.write_str("stopping"),
            TaskState::Stopped => f.write_str("stopped"),
            TaskState::Finished => f.write_str("finished"),
            TaskState::Failed(e) => write!(f, "failed: {e}"),
            TaskState::Aborted => f.write_str("aborted at its stop deadline"),
        }
    }
}

#[derive(Debug, Clone)]
struct Status {
    state: TaskState,
    restarts: u32,
}

/// A handle to a supervised task: its state and restart count.
#[derive(Debug, Clone)]
pub struct Supervised {
    name: Arc<str>,
    status: watch::Receiver<Status>,
}

impl Supervised {
    /// The task's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its state now.
    pub fn state(&self) -> TaskState {
        self.status.borrow().state.clone()
    }

    /// How many times it was restarted.
    pub fn restarts(&self) -> u32 {
        self.status.borrow().restarts
    }

    /// Resolves when the task will not run again, with its final state.
    pub async fn finished(&self) -> TaskState {
        let mut rx = self.status.clone();
        if let Ok(s) = rx.wait_for(|s| s.state.is_final()).await {
            return s.state.clone();
        }
        rx.borrow().state.clone()
    }
}

/// The supervised tasks of one engine: each is a line of progress for the life of the engine.
#[derive(Default)]
struct Supervisors(std::sync::Mutex<Vec<Supervised>>);

impl Extension for Supervisors {
    fn progress(&self) -> Vec<String> {
        lock(&self.0)
            .iter()
            .map(|t| {
                let s = t.status.borrow();
                format!(
                    "supervised {}: {}, {} restart(s)",
                    t.name, s.state, s.restarts
                )
            })
            .collect()
    }
}

impl Shutdown {
    /// Runs a supervised background task with the default [`Supervise`] policy; see
    /// [`supervise_with`](Shutdown::supervise_with).
    pub fn supervise<F, Fut, E>(&self, name: impl Into<String>, factory: F) -> Supervised
    where
        F: FnMut(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError> + Send + 'static,
    {
        self.supervise_with(name, Supervise::default(), factory)
    }

    /// Runs a supervised background task: `factory` makes one run of it from a
    /// [`CancellationToken`] that is cancelled when the shutdown starts. A run that returns an
    /// error or panics is restarted after a backoff; a run that returns `Ok` before the
    /// shutdown is done for good. At shutdown the run is awaited up to
    /// [`stop_timeout`](Supervise::stop_timeout), then aborted.
    ///
    /// The supervisor counts as in-flight work, so the drain waits for it (bounded by
    /// `drain_timeout`; a supervisor still running then is abandoned and reported).
    ///
    /// Each supervised task adds a line to progress and a record to the report for the life of
    /// the engine: supervise long-lived background tasks, not one task per request.
    pub fn supervise_with<F, Fut, E>(
        &self,
        name: impl Into<String>,
        policy: Supervise,
        factory: F,
    ) -> Supervised
    where
        F: FnMut(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError> + Send + 'static,
    {
        let name: Arc<str> = Arc::from(name.into());
        let (tx, rx) = watch::channel(Status {
            state: TaskState::Running,
            restarts: 0,
        });
        let handle = Supervised {
            name: name.clone(),
            status: rx,
        };

        lock(&self.extension::<Supervisors>().0).push(handle.clone());

        let for_report = handle.clone();
        let stop_timeout = policy.stop_timeout;
        self.on_phase(Phase::SavingState, format!("supervised {name}"), move |_| async move {
            let state = for_report.finished().await;
            let restarts = for_report.restarts();
            match state {
                TaskState::Aborted => Err(BoxError::from(format!(
                    "supervised task `{}` ignored cancellation and was aborted at its {} stop deadline \
                     ({restarts} restart(s))",
                    for_report.name,
                    crate::took::Took(stop_timeout)
                ))),
                TaskState::Failed(e) => Err(BoxError::from(format!(
                    "supervised task `{}` gave up after {restarts} restart(s): {e}",
                    for_report.name
                ))),
                // The supervisor itself was cancelled (the drain deadline expired first).
                state if !state.is_final() => Err(BoxError::from(format!(
                    "supervised task `{}` was abandoned at the drain deadline while {state}",
                    for_report.name
                ))),
                _ => Ok(()),
            }
        });

        let shutdown = self.clone();
        let task_name = name.clone();
        self.spawn(format!("supervisor {name}"), async move {
            run(shutdown, task_name, policy, factory, tx).await;
        });
        handle
    }
}

fn set(tx: &watch::Sender<Status>, state: TaskState) {
    tx.send_modify(|s| s.state = state);
}

async fn run<F, Fut, E>(
    shutdown: Shutdown,
    name: Arc<str>,
    policy: Supervise,
    mut factory: F,
    tx: watch::Sender<Status>,
) where
    F: FnMut(CancellationToken) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<BoxError> + Send + 'static,
{
    let mut streak = 0u32;
    loop {
        if shutdown.is_shutting_down() {
            set(&tx, TaskState::Stopped);
            return;
        }
        set(&tx, TaskState::Running);
        let token = CancellationToken::new();
        let began = Instant::now();
        let run = factory(token.clone());
        let mut task = tokio::spawn(async move { run.await.map_err(Into::into) });
        let joined = tokio::select! {
            joined = &mut task => Some(joined),
            _ = shutdown.requested() => None,
        };
        let error = match joined {
            None => {
                set(&tx, TaskState::Stopping);
                token.cancel();
                let state = match tokio::time::timeout(policy.stop_timeout, &mut task).await {
                    Ok(Ok(Ok(()))) => TaskState::Stopped,
                    Ok(Ok(Err(e))) => {
                        tracing::warn!(target: "graceful::supervise", task = %name, "task failed while stopping: {e}");
                        TaskState::Stopped
                    }
                    Ok(Err(j)) => {
                        tracing::warn!(target: "graceful::supervise", task = %name, "task panicked while stopping: {}", crate::describe::panic_message(j));
                        TaskState::Stopped
                    }
                    Err(_) => {
                        task.abort();
                        let _ = task.await;
                        tracing::error!(
                            target: "graceful::supervise",
                            task = %name,
                            deadline = %crate::took::Took(policy.stop_timeout),
                            "task ignored cancellation; aborted at its stop deadline"
                        );
                        TaskState::Aborted
                    }
                };
                set(&tx, state);
                return;
            }
            Some(Ok(Ok(()))) => {
                tracing::info!(target: "graceful::supervise", task = %name, "task finished");
                set(&tx, TaskState::Finished);
                return;
            }
            Some(Ok(Err(e))) => format!("error: {e}"),
            Some(Err(j)) => format!("panic: {}", crate::describe::panic_message(j)),
        };
        if began.elapsed() >= policy.reset_after {
            streak = 0;
        }
        let restarts = tx.borrow().restarts;
        if policy.max_restarts.is_some_and(|max| restarts >= max) {
            tracing::error!(target: "graceful::supervise", task = %name, restarts, "task gave up: {error}");
            set(&tx, TaskState::Failed(error.clone()));
            if policy.fail_shutdown {
                shutdown.fail(format!("supervised task {name}"), &error);
            }
            return;
        }
        streak = streak.saturating_add(1);
        let delay = policy.backoff(streak);
        tracing::warn!(target: "graceful::supervise", task = %name, restart = restarts + 1, delay = %crate::took::Took(delay), "task failed, restarting: {error}");
        tx.send_modify(|s| {
            s.state = TaskState::BackingOff(error);
            s.restarts += 1;
        });
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.requested() => {
                set(&tx, TaskState::Stopped);
                return;
            }
        }
    }
}
