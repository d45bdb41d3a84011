//! Tracked tasks ([`Shutdown::spawn`], [`Shutdown::task`]) and what happens when one fails.
//!
//! A tracked task that panics or returns `Err` is a failure of the service, not a detail to
//! lose: it is logged, recorded by name in [`ShutdownReport::tasks`](crate::report::ShutdownReport::tasks)
//! and in [`Progress::errors`](crate::report::Progress::errors), and — unless the task was spawned with
//! [`TaskBuilder::fatal`]`(false)` — it starts an orderly shutdown whose reason names it
//! ([`ShutdownReason::TaskFailed`]), and the process exits non-zero (see [`crate::exit`]). That is
//! what tokio-graceful-shutdown does with a failing subsystem, and what a supervisor needs to
//! restart the service instead of leaving it running without the task.
//!
//! Cost: the panic is caught inside the task itself (no second task, no allocation beyond the
//! spawn); the output is checked once when the task ends. The task's [`JoinHandle`] sees the
//! same output or panic it would without the engine: a panic is resumed after it is recorded.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::task::Poll;

use tokio::task::JoinHandle;

use crate::reason::ShutdownReason;
use crate::report::{CloseOutcome, ShutdownReport};
use crate::shutdown::{Extension, Shutdown, spawn_tracked};
use crate::sync::lock;

/// What a tracked task may return: `()` (it cannot fail, apart from panicking), `!` (it never
/// returns: an endless `loop { interval.tick().await; … }`, or a body that ends in `panic!`), or
/// a `Result<T, E>`, whose `Err` (formatted with `Debug`, as for `main`) is a failure.
///
/// ```
/// # #[allow(dead_code)]
/// # async fn demo(shutdown: graceful::Shutdown) {
/// // Under edition 2024 this block's output is `!`: it is accepted like `()`.
/// shutdown.spawn("ticker", async move {
///     let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
///     loop {
///         every.tick().await;
///     }
/// });
/// # }
/// ```
///
/// A task that computes a value returns it in `Ok`: `Ok::<_, std::convert::Infallible>(n)`.
#[diagnostic::on_unimplemented(
    message = "a tracked task returns `()`, `Result<T, E>` or never returns, not `{Self}`",
    label = "this task's output is `{Self}`",
    note = "return the value in `Ok`: `Ok::<_, std::convert::Infallible>(value)` (an `Err` is a failure of the task), or end the task with `()`"
)]
pub trait TaskOutput: Send + 'static {
    /// The failure this output stands for, if any.
    fn failure(&self) -> Option<String>;
}

impl TaskOutput for () {
    fn failure(&self) -> Option<String> {
        None
    }
}

/// `!`: what a future whose body never ends (`loop { … }` without `break`, a final `panic!`)
/// outputs under edition 2024, where such a block's type falls back to `!` instead of `()`.
type Never = <fn() -> ! as crate::__private::Returns>::Output;

impl TaskOutput for Never {
    fn failure(&self) -> Option<String> {
        // A value of `!` cannot exist: a task that "returns" it has not returned.
        None
    }
}

impl<T: Send + 'static, E: std::fmt::Debug + Send + 'static> TaskOutput for Result<T, E> {
    fn failure(&self) -> Option<String> {
        self.as_ref().err().map(|e| format!("{e:?}"))
    }
}

/// A tracked task that failed, as the report records it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TaskRecord {
    /// The name it was spawned with.
    pub name: String,
    /// [`CloseOutcome::Failed`] (it returned `Err`) or [`CloseOutcome::Panicked`].
    pub outcome: CloseOutcome,
    /// Whether its failure started the shutdown (the default) or was only recorded
    /// ([`TaskBuilder::fatal`]`(false)`).
    pub fatal: bool,
}

/// The failures of one engine's tracked tasks, in the order they happened.
#[derive(Default)]
pub(crate) struct TaskFailures(Mutex<Vec<TaskRecord>>);

impl Extension for TaskFailures {
    /// The report's [`tasks`](crate::report::ShutdownReport::tasks): every failure so far.
    fn report(&self, report: &mut ShutdownReport) {
        report.tasks = lock(&self.0).clone();
    }
}

/// Spawns one tracked task with options; from [`Shutdown::task`].
#[derive(Debug)]
#[must_use = "a TaskBuilder does nothing until `spawn` is called"]
pub struct TaskBuilder<'a> {
    shutdown: &'a Shutdown,
    name: String,
    fatal: bool,
}

impl Shutdown {
    /// Spawns a named, tracked task. It counts as in flight until it finishes; it should
    /// watch [`requested`](Shutdown::requested) and stop. If it is still running when
    /// `drain_timeout` expires it is aborted and named in the report. If it panics or returns
    /// `Err`, the failure is recorded by name in the report and starts an orderly shutdown
    /// whose exit code is non-zero; [`Shutdown::task`] spawns one whose failure is only
    /// recorded. The task may end with `()`, a `Result`, or never (an endless `loop`, a final
    /// `panic!`): see [`TaskOutput`].
    pub fn spawn<F>(&self, name: impl Into<String>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: TaskOutput,
    {
        self.task(name).spawn(future)
    }

    /// Starts describing a tracked task called `name`; [`spawn`](TaskBuilder::spawn) runs it.
    /// [`Shutdown::spawn`] is `shutdown.task(name).spawn(future)`.
    ///
    /// ```
    /// # #[allow(dead_code)]
    /// # async fn demo(shutdown: graceful::Shutdown) {
    /// // A cache refresher the service can live without: its failure is recorded in the
    /// // report, but does not stop the service.
    /// shutdown.task("cache-refresh").fatal(false).spawn(async {
    ///     Err::<(), _>("upstream unavailable")
    /// });
    /// # }
    /// ```
    pub fn task(&self, name: impl Into<String>) -> TaskBuilder<'_> {
        TaskBuilder {
            shutdown: self,
            name: name.into(),
            fatal: true,
        }
    }
}

impl TaskBuilder<'_> {
    /// Whether the task's failure (a panic or an `Err`) starts a shutdown (default `true`).
    /// With `false` the failure is still logged and recorded in the report, and the service
    /// goes on without the task.
    pub fn fatal(mut self, fatal: bool) -> Self {
        self.fatal = fatal;
        self
    }

    /// Spawns the task: it counts as in flight until it finishes, should watch
    /// [`requested`](Shutdown::requested) and stop, and is aborted and named in the report if
    /// it still runs when `drain_timeout` expires.
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: TaskOutput,
    {
        let TaskBuilder {
            shutdown,
            name,
            fatal,
        } = self;
        let engine = shutdown.clone();
        let label = name.clone();
        // A test may inject a fault at the task's end (`graceful::testing`).
        #[cfg(feature = "testing")]
        let future = crate::testing::wrap_task(shutdown, &name, future);
        #[cfg(not(feature = "testing"))]
        let future = async move { (future.await, None::<String>) };
        spawn_tracked(shutdown, name, async move {
            let mut future = std::pin::pin!(future);
            let caught = std::future::poll_fn(|cx| {
                match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
                    Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
                    Ok(Poll::Pending) => Poll::Pending,
                    Err(payload) => Poll::Ready(Err(payload)),
                }
            })
            .await;
            match caught {
                Ok((output, injected)) => {
                    if let Some(error) = injected.or_else(|| output.failure()) {
                        failed(&engine, label, CloseOutcome::Failed(error), fatal);
                    }
                    output
                }
                Err(payload) => {
                    let message = crate::describe::payload_message(&*payload);
                    failed(&engine, label, CloseOutcome::Panicked(message), fatal);
                    std::panic::resume_unwind(payload)
                }
            }
        })
    }
}

/// Records a failed task and, when it is fatal, starts the shutdown.
fn failed(shutdown: &Shutdown, name: String, outcome: CloseOutcome, fatal: bool) {
    let error = match &outcome {
        CloseOutcome::Failed(e) => format!("returned an error: {e}"),
        CloseOutcome::Panicked(e) => format!("panicked: {e}"),
        other => format!("{other:?}"),
    };
    tracing::error!(target: "graceful::task", task = %name, fatal, "tracked task {error}");
    shutdown
        .control()
        .run_view()
        .error(format!("task `{name}` {error}"));
    lock(&shutdown.extension::<TaskFailures>().0).push(TaskRecord {
        name: name.clone(),
        outcome,
        fatal,
    });
    if fatal {
        shutdown.trigger(ShutdownReason::TaskFailed { task: name, error });
    }
}
