//! [`Graceful::run`]: build resources, run `main`, then walk the phases.

use std::future::Future;
use std::sync::Arc;
// The tokio clock, so that a test on a paused clock sees its deadlines land exactly.
use tokio::time::Instant;

use tokio::task::JoinHandle;

use super::builder::Graceful;
use super::close;
use super::ledger::RunState;
use super::outcome::{MainExit, MainOutput, RunOutcome};
#[cfg(feature = "serde")]
use super::recorder::write_report;
use super::recorder::{Busy, Recorder};
use super::startup::{self, Built};
use super::{save, signals, watchdog};
use crate::describe::{error_chain, panic_message};
use crate::phase::Phase;
use crate::reason::ShutdownReason;
use crate::report::{
    CloseOutcome, DrainRecord, EndedTask, HookRecord, MainOutcome, ResourceRecord,
};
use crate::resource::BoxFuture;
use crate::shutdown::{Event, FINISH_BOUND, Shutdown, start_features};

impl Graceful {
    /// Runs a program under this engine and returns when the shutdown has finished.
    ///
    /// This is the engine without the process around it: a service's `main` usually calls
    /// [`Entry::run`](crate::Entry::run) instead, which builds the runtime, calls this, bounds
    /// the runtime's own shutdown and returns the exit code. Call it directly in tests, or in
    /// programs that must own their runtime (then set
    /// [`process_owner(true)`](crate::GracefulBuilder::process_owner) and return
    /// [`RunOutcome::exit_code`]).
    ///
    /// 1. installs the signal handlers,
    /// 2. builds every resource in descending priority (a failure closes what was built and
    ///    ends the run with a start-up error),
    /// 3. runs `main` with a [`Shutdown`] handle, as a tracked task,
    /// 4. on the first trigger — a signal, [`Shutdown::trigger`], `main` returning — walks the
    ///    phases, each bounded by its deadline, and returns the [`RunOutcome`].
    pub async fn run<F, Fut>(self, main: F) -> RunOutcome
    where
        F: FnOnce(Shutdown) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: MainOutput,
    {
        // The generic part stays this small: the engine itself is compiled once, in this
        // crate, instead of again in every program (and at every edit of its `main`).
        self.run_boxed(move |shutdown| {
            let fut = main(shutdown);
            Box::pin(async move { fut.await.into_main_exit() })
        })
        .await
    }

    /// [`run`](Self::run) with `main`'s future boxed.
    pub(crate) async fn run_boxed(
        self,
        main: impl FnOnce(Shutdown) -> BoxFuture<MainExit>,
    ) -> RunOutcome {
        let started = match self.start().await {
            Ok(started) => started,
            Err(outcome) => return outcome,
        };
        let fut = main(started.shutdown.clone());
        started.finish(fut).await
    }

    /// Steps 1 and 2 of [`run`](Self::run): signals, the features' start hooks, the watchdog,
    /// the resources. `Err` is the finished run of a failed start-up.
    fn start(self) -> BoxFuture<Result<Started, RunOutcome>> {
        Box::pin(async move {
            let Graceful {
                shutdown,
                run,
                specs,
                process_owner,
                expect_resources,
            } = self;
            signals::listen(
                &shutdown,
                &shutdown.config().signals.value.clone(),
                process_owner,
            );
            // The features that must act from the first moment start through the seam.
            start_features(&shutdown);
            // Started now, armed at the trigger: no thread is created on the shutdown's path.
            let watchdog = if process_owner {
                watchdog::Watchdog::start()
            } else {
                None
            };
            let watchdog = process_owner.then_some(watchdog);
            let built = if specs.len() < expect_resources {
                let names: Vec<&str> = specs.iter().map(|s| s.name()).collect();
                Err(startup::StartupFailure {
                    error: Some(crate::StartupError::TooFewResources {
                        expected: expect_resources,
                        found: specs.len(),
                        names: if names.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", names.join(", "))
                        },
                    }),
                    built: Vec::new(),
                })
            } else {
                startup::build_all(&shutdown, specs).await
            };
            let built = match built {
                Ok(built) => built,
                Err(failure) => {
                    let error = failure.error.map(|e| error_chain(&e));
                    if let Some(e) = &error {
                        tracing::error!(target: "graceful::startup", "{e}");
                    }
                    let why = error
                        .clone()
                        .unwrap_or_else(|| "shutdown requested during start-up".into());
                    shutdown.trigger(ShutdownReason::StartupFailed { error: why });
                    return Err(phases(
                        &shutdown,
                        &run,
                        failure.built,
                        Vec::new(),
                        Main::NotStarted,
                        error,
                        watchdog,
                    )
                    .await);
                }
            };
            tracing::info!(target: "graceful::startup", resources = built.len(), "started");
            let room = Vec::with_capacity(built.len());
            run.mark_started();
            shutdown.control().emit(Event::Started);
            Ok(Started {
                shutdown,
                run,
                built,
                room,
                watchdog,
            })
        })
    }
}

/// An engine whose resources are built, ready to run `main`.
struct Started {
    shutdown: Shutdown,
    run: Arc<RunState>,
    built: Vec<Built>,
    // Room for the resources' records, allocated before the trigger.
    room: Vec<ResourceRecord>,
    // `Some` when the engine owns the process: the watchdog to arm (started with the engine).
    watchdog: Option<Option<watchdog::Watchdog>>,
}

impl Started {
    /// Steps 3 and 4 of [`Graceful::run`]: `main` as a tracked task, then the phases.
    fn finish(self, main: BoxFuture<MainExit>) -> BoxFuture<RunOutcome> {
        Box::pin(async move {
            let Started {
                shutdown,
                run,
                built,
                room,
                watchdog,
            } = self;
            // `main` runs as a task holding an in-flight guard, so the drain waits for it.
            let guard = shutdown.track();
            run.set_main_running(true);
            let running = MainRunning(run.clone());
            let mut task = tokio::spawn(async move {
                // Dropped in reverse order: the flag is cleared before the guard is released.
                let _guard = guard;
                let _running = running;
                main.await
            });
            let main = tokio::select! {
                _ = shutdown.requested() => Main::Running(task),
                joined = &mut task => {
                    let (outcome, code) = main_outcome(joined);
                    match &outcome {
                        // The reason is a log line: the message chain, not a backtrace.
                        MainOutcome::Error(e) => shutdown.trigger(ShutdownReason::MainFailed {
                            error: crate::describe::debug_message_chain(e),
                        }),
                        MainOutcome::Panicked(e) => {
                            shutdown.trigger(ShutdownReason::MainFailed { error: e.clone() })
                        }
                        _ => shutdown.trigger(ShutdownReason::MainReturned),
                    };
                    Main::Done(outcome, code)
                }
            };
            phases(&shutdown, &run, built, room, main, None, watchdog).await
        })
    }
}

/// Clears [`RunState::main_running`] when `main`'s task ends, returned, panicked or aborted.
struct MainRunning(Arc<RunState>);

impl Drop for MainRunning {
    fn drop(&mut self) {
        self.0.set_main_running(false);
    }
}

/// Where `main` is when the shutdown starts.
enum Main {
    /// Start-up failed; `main` never ran.
    NotStarted,
    /// Still running: the drain waits for it, and cancels it at the drain deadline.
    Running(JoinHandle<MainExit>),
    /// It returned (that was the trigger).
    Done(MainOutcome, Option<std::process::ExitCode>),
}

fn main_outcome(
    joined: Result<MainExit, tokio::task::JoinError>,
) -> (MainOutcome, Option<std::process::ExitCode>) {
    match joined {
        Ok(MainExit::Ok) => (MainOutcome::Ok, None),
        Ok(MainExit::Code(c)) => {
            if c == std::process::ExitCode::SUCCESS {
                (MainOutcome::Ok, None)
            } else {
                (MainOutcome::ExitCode, Some(c))
            }
        }
        Ok(MainExit::Error(e)) => (MainOutcome::Error(e), None),
        Err(j) if j.is_panic() => (MainOutcome::Panicked(panic_message(j)), None),
        Err(_) => (MainOutcome::Aborted, None),
    }
}

/// Why the drain stopped waiting for in-flight work.
#[derive(Clone, Copy)]
enum Abandon {
    /// `drain_timeout` expired.
    Deadline,
    /// The shutdown was forced before the work finished.
    Forced,
    /// `wait_for_connections = false`.
    Policy,
}

/// Walks the phases after the trigger.
async fn phases(
    shutdown: &Shutdown,
    run: &RunState,
    built: Vec<Built>,
    // Room for the resources' records, allocated before the trigger.
    room: Vec<ResourceRecord>,
    main: Main,
    startup_error: Option<String>,
    // `Some` when the engine owns the process: the watchdog to arm (started with the engine).
    watchdog: Option<Option<watchdog::Watchdog>>,
) -> RunOutcome {
    let config = shutdown.config();
    let start = Instant::from_std(shutdown.control().shutdown_start());
    let mut rec = Recorder::new(start, shutdown.timeout());
    rec.set_startup_error(startup_error.clone());
    if let Some(watchdog) = watchdog {
        watchdog::Watchdog::arm(watchdog, shutdown.clone(), rec.clone());
    }
    run.set_resources_total(built.len());
    rec.use_room(room);
    // The phases before SavingState leave time for a forced save.
    let before_save = save::before(rec.deadline, save::reserve(shutdown, run));

    rec.enter(shutdown, Phase::Initiated);

    rec.enter(shutdown, Phase::StoppingNewRequests);
    run_hooks(shutdown, run, Phase::StoppingNewRequests, &mut rec).await;
    let delay = config
        .readiness_delay
        .value
        .min(before_save.saturating_duration_since(Instant::now()));
    // When another process keeps serving the same sockets (a feature says so of the reason),
    // nobody needs time to stop sending here.
    let served_elsewhere = shutdown
        .reason()
        .is_some_and(|reason| shutdown.control().extensions().continues_serving(&reason));
    if !delay.is_zero() && startup_error.is_none() && !served_elsewhere {
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.control().forced() => rec.missed("readiness_delay (forced)", delay, shutdown),
        }
    }

    rec.enter(shutdown, Phase::DrainingConnections);
    let drain_began = Instant::now();
    let in_flight = shutdown.in_flight();
    let running_tasks = shutdown.control().tasks().names();
    let drain_limit = config.drain_timeout.value;
    let drain_deadline = (drain_began + drain_limit).min(before_save);
    // `wait_for_connections = false`: the drain does not wait for in-flight work; what is
    // still running is abandoned by policy, which is not a missed deadline.
    let wait = config.wait_for_connections.value;
    let drained = wait
        && tokio::select! {
            // Nothing in flight at the deadline (a zero drain_timeout, work that ends as it
            // expires) is a drain that succeeded, not a missed deadline.
            biased;
            _ = shutdown.control().wait_idle() => true,
            _ = tokio::time::sleep_until(drain_deadline) => false,
            _ = shutdown.control().forced() => false,
        };
    let drain_ended = rec.offset(Instant::now());
    if wait {
        let allowed = drain_deadline.saturating_duration_since(drain_began);
        rec.limit("drain_timeout", drain_began, allowed, drained);
    }
    rec.set_drain(DrainRecord {
        in_flight,
        tasks: running_tasks,
        ended: shutdown
            .control()
            .tasks()
            .take_ended()
            .into_iter()
            .map(|(name, at)| EndedTask { name, at })
            .collect(),
        drained_at: drained.then_some(drain_ended),
        abandoned_at: (!drained).then_some(drain_ended),
    });
    // Why the drain stopped waiting, if it did: its deadline, a forced shutdown (`force`,
    // `DELETE /shutdown`, a second signal) or the policy. Each is said as it is.
    let why = match (drained, wait, shutdown.is_forced()) {
        (true, _, _) => None,
        (false, false, _) => Some(Abandon::Policy),
        (false, true, true) => Some(Abandon::Forced),
        (false, true, false) => Some(Abandon::Deadline),
    };
    let mut abandoned = Vec::new();
    if let Some(why) = why {
        abandoned = shutdown.control().extensions().abandoned();
        abandoned.extend(shutdown.control().tasks().abort_all());
        match why {
            Abandon::Deadline => rec.missed("drain", drain_limit, shutdown),
            // No deadline expired: the result is Forced, and nothing more is recorded.
            Abandon::Forced => rec.set_forced(),
            Abandon::Policy => {
                tracing::info!(target: "graceful::drain", "wait_for_connections = false: not waiting for in-flight work")
            }
        }
    }
    let (main, main_code) = match main {
        Main::NotStarted => (MainOutcome::NotStarted, None),
        Main::Done(outcome, code) => (outcome, code),
        Main::Running(mut task) => {
            // `main` dropped its guard when it returned, so after a successful drain this
            // resolves at once; otherwise `main` is cancelled, unless it already returned
            // (another unit of work missed the drain deadline, not `main`).
            let waited = if drained || !wait || task.is_finished() {
                tokio::time::timeout(rec.remaining(), &mut task).await.ok()
            } else {
                None
            };
            match waited {
                Some(joined) => main_outcome(joined),
                None => {
                    task.abort();
                    abandoned.insert(0, "main".to_string());
                    (MainOutcome::Aborted, None)
                }
            }
        }
    };
    if let Some(why) = why {
        // Each named entry (`main`, a task, a blocker, a request) stands for one guard: only
        // the units nobody named (`track()` guards, …) are counted here. Requests sharing an
        // HTTP/2 connection share its guard, so this can undercount, never count twice.
        let named = u64::try_from(abandoned.len()).unwrap_or(u64::MAX);
        let anonymous = shutdown.in_flight().saturating_sub(named);
        if anonymous > 0 {
            abandoned.push(format!("{anonymous} other tracked unit(s) of work"));
        }
        for a in &abandoned {
            match why {
                Abandon::Deadline => {
                    tracing::warn!(target: "graceful::drain", "abandoned at the drain deadline: {a}")
                }
                Abandon::Forced => {
                    tracing::warn!(target: "graceful::drain", "abandoned: the shutdown was forced: {a}")
                }
                Abandon::Policy => {
                    tracing::warn!(target: "graceful::drain", "not waited for (wait_for_connections = false): {a}")
                }
            }
        }
    }
    rec.set_main(main.clone());
    rec.set_abandoned(abandoned);

    rec.enter(shutdown, Phase::SavingState);
    run_hooks(shutdown, run, Phase::SavingState, &mut rec).await;

    rec.enter(shutdown, Phase::ClosingResources);
    close::close_all(shutdown, run, built, &mut rec).await;

    rec.enter(shutdown, Phase::FlushingBuffers);
    run_hooks(shutdown, run, Phase::FlushingBuffers, &mut rec).await;
    rec.finish_current();

    let result = if rec.is_forced() || shutdown.is_forced() {
        Phase::Forced
    } else {
        Phase::Completed
    };
    let report = rec.finish(shutdown, result, |kept| run.set_report(kept));
    #[cfg(feature = "serde")]
    write_report(shutdown, &report);
    shutdown.control().set_phase(result);
    // Let integrations deliver the final phase (admin event streams, systemd), briefly and never
    // past the overall deadline.
    let left = (start + shutdown.timeout()).saturating_duration_since(Instant::now());
    shutdown
        .control()
        .extensions()
        .finish(left.min(FINISH_BOUND))
        .await;
    // What must happen before the process exits (a PID file removed, a picture drawn) is done
    // here, on the engine's task, before `run` returns: never by a task that races the
    // runtime's end.
    shutdown.control().extensions().end_of_run(&report);
    tracing::info!(target: "graceful::report", result = result.as_str(), total = %crate::took::Took(report.total), "shutdown finished");
    RunOutcome { report, main_code }
}

/// Runs the hooks registered for `phase`, concurrently, bounded by the engine's deadline.
async fn run_hooks(shutdown: &Shutdown, run: &RunState, phase: Phase, rec: &mut Recorder) {
    let mine = run.take_hooks(phase);
    if mine.is_empty() {
        return;
    }
    // Hooks before SavingState leave the time reserved for a forced save, as the drain does.
    let deadline = if phase < Phase::SavingState {
        save::before(rec.deadline, save::reserve(shutdown, run))
    } else {
        rec.deadline
    };
    let mut set = tokio::task::JoinSet::new();
    for hook in mine {
        let shutdown = shutdown.clone();
        let rec = rec.clone();
        set.spawn(async move {
            let _busy = rec.busy(Busy::Hook {
                phase,
                name: hook.name.clone(),
            });
            let began = Instant::now();
            let task = tokio::spawn((hook.run)(shutdown.clone()));
            let outcome = if phase == Phase::SavingState {
                save::bounded(task, deadline, &shutdown).await
            } else {
                close::bounded(task, deadline, &shutdown).await
            };
            HookRecord {
                phase,
                name: hook.name,
                outcome,
                started: began.saturating_duration_since(rec.start),
                duration: began.elapsed(),
            }
        });
    }
    while let Some(Ok(record)) = set.join_next().await {
        if record.outcome == CloseOutcome::TimedOut {
            let limit = deadline.saturating_duration_since(rec.start);
            rec.missed(format!("hook {}", record.name), limit, shutdown);
        } else if !record.outcome.is_ok() {
            tracing::error!(target: "graceful::hook", hook = %record.name, phase = phase.as_str(), outcome = ?record.outcome, "hook failed");
        }
        rec.hook(record);
    }
}
