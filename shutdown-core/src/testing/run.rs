//! [`Harness`]: configures a test run, wraps what the engine was given, runs it.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::fault::{Fault, Point};
use super::outcome::TestOutcome;
use super::task_faults::TaskFaults;
use super::timeline::{Entry, Log, Timeline};
use super::trigger::{Deliverer, Trigger, When};
use crate::config::{ConfigError, Env};
use crate::engine::{Graceful, GracefulBuilder, MainExit, MainOutput};
use crate::entry::MainArgs;
use crate::error::BoxError;
use crate::phase::Phase;
use crate::resource::{AnyArc, BoxFuture, CloseFn, ResourceSpec, Resources};
use crate::shutdown::{Hook, Shutdown};
use crate::sync::lock;

/// Why a test run could not be set up, or did not finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
    /// The engine's configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A fault names something the engine was not given.
    #[error("cannot inject `{fault}` into {point}: no {kind} of that name; known: {known}")]
    UnknownPoint {
        /// Where the fault was to go.
        point: Point,
        /// The fault.
        fault: Fault,
        /// What the name should have named.
        kind: &'static str,
        /// The names that exist, comma-separated (or `none`).
        known: String,
    },
    /// The fault cannot happen there.
    #[error(
        "cannot inject `{fault}` into {point}: a drain guard has no error to return; use slow, hang or panic"
    )]
    Unsupported {
        /// Where the fault was to go.
        point: Point,
        /// The fault.
        fault: Fault,
    },
    /// The engine did not finish within the kit's bound: a bug in the engine, or a test
    /// that never triggers the shutdown while its `main` waits for one.
    #[error(
        "the run did not finish within {bound:?} (no trigger, or a stuck engine)\ntimeline:\n{timeline}"
    )]
    Unfinished {
        /// The bound, on the run's clock.
        bound: Duration,
        /// What happened until then.
        timeline: Timeline,
    },
}

/// A test run of the real engine: what it is given, the faults, the triggers. See the
/// [module docs](super).
#[must_use = "a Harness does nothing until `run`"]
pub struct Harness {
    builder: Result<GracefulBuilder, ConfigError>,
    faults: Vec<(Point, Fault)>,
    triggers: Vec<(When, Trigger)>,
    tasks: Vec<String>,
    guards: Vec<String>,
    hooks: Vec<(Phase, String)>,
    bound: Option<Duration>,
    /// Apply every `#[graceful::state]` (the macro's door, feature `state`).
    registered_states: bool,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("builder", &self.builder)
            .field("faults", &self.faults)
            .field("triggers", &self.triggers)
            .field("tasks", &self.tasks)
            .field("guards", &self.guards)
            .field("hooks", &self.hooks)
            .finish()
    }
}

impl Harness {
    /// A run of the engine `builder` configures (the builder door). Signal handlers and the
    /// process-level safety nets are turned off: signals are delivered by [`trigger`](Self::trigger).
    pub fn new(builder: GracefulBuilder) -> Harness {
        Harness::from_builder(Ok(builder))
    }

    /// A run of the engine `#[graceful::main]` would start with these arguments (the macro
    /// door): its configuration (defaults < `args` < the configuration file; the environment
    /// is not read, so tests do not depend on it) and every `#[graceful::resource]` linked
    /// into the test binary (and, with the `state` feature, every `#[graceful::state]`).
    pub fn registered(args: MainArgs) -> Harness {
        let builder = args.config(&Env::None).map(|config| {
            Graceful::builder()
                .config(config)
                .registered_resources()
                .expect_resources(args.expect_resources)
        });
        Harness {
            registered_states: true,
            ..Harness::from_builder(builder)
        }
    }

    fn from_builder(builder: Result<GracefulBuilder, ConfigError>) -> Harness {
        Harness {
            builder,
            faults: Vec::new(),
            triggers: Vec::new(),
            tasks: Vec::new(),
            guards: Vec::new(),
            hooks: Vec::new(),
            bound: None,
            registered_states: false,
        }
    }

    /// Changes the engine's configuration: adds resources or hooks, sets deadlines.
    pub fn configure(mut self, f: impl FnOnce(GracefulBuilder) -> GracefulBuilder) -> Harness {
        self.builder = self.builder.map(f);
        self
    }

    /// Injects `fault` at `point`. A later fault at the same point replaces an earlier one.
    pub fn fault(mut self, point: Point, fault: Fault) -> Harness {
        self.faults.retain(|(p, _)| *p != point);
        self.faults.push((point, fault));
        self
    }

    /// Adds a tracked task ([`Shutdown::spawn`]) called `name`, started before `main`: it
    /// stops when the shutdown is requested, unless a fault at [`Point::Task`] changes that.
    pub fn task(mut self, name: impl Into<String>) -> Harness {
        self.tasks.push(name.into());
        self
    }

    /// Adds a unit of in-flight work ([`Shutdown::track`]) called `name`, taken before `main`:
    /// it is released when the drain starts, unless a fault at [`Point::Guard`] changes that.
    /// Named in the report's `abandoned` list if the drain deadline finds it held.
    pub fn guard(mut self, name: impl Into<String>) -> Harness {
        self.guards.push(name.into());
        self
    }

    /// Adds a phase hook called `name` that succeeds at once, unless a fault at
    /// [`Point::Hook`] changes that.
    pub fn hook(mut self, phase: Phase, name: impl Into<String>) -> Harness {
        self.hooks.push((phase, name.into()));
        self
    }

    /// Delivers `trigger` as soon as start-up has finished (when `main` starts).
    pub fn trigger(self, trigger: Trigger) -> Harness {
        self.trigger_after(Duration::ZERO, trigger)
    }

    /// Delivers `trigger` `after` start-up has finished; never, if start-up fails.
    pub fn trigger_after(mut self, after: Duration, trigger: Trigger) -> Harness {
        self.triggers.push((When::AfterStart(after), trigger));
        self
    }

    /// Delivers `trigger` `after` the run began, whether or not start-up has finished (a
    /// signal during a slow or hung start-up).
    pub fn trigger_during_startup(mut self, after: Duration, trigger: Trigger) -> Harness {
        self.triggers.push((When::FromLaunch(after), trigger));
        self
    }

    /// How long, on the run's clock, the kit waits for the engine to finish before giving up
    /// with [`HarnessError::Unfinished`] (default: ten times the overall timeout, plus the
    /// latest trigger, plus a minute). Instant under a paused clock.
    pub fn bound(mut self, bound: Duration) -> Harness {
        self.bound = Some(bound);
        self
    }

    /// Runs `main` under the engine and returns what happened. Panics with the error's
    /// message (and the timeline) when [`try_run`](Self::try_run) would return an error.
    #[track_caller]
    pub fn run<F, Fut>(self, main: F) -> impl Future<Output = TestOutcome>
    where
        F: FnOnce(Shutdown) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: MainOutput,
    {
        let caller = std::panic::Location::caller();
        let run = self.try_run(main);
        async move {
            match run.await {
                Ok(outcome) => outcome,
                Err(e) => panic!("graceful::testing at {caller}: {e}"),
            }
        }
    }

    /// [`run`](Self::run) with a `main` that waits for the shutdown and returns `Ok`.
    #[track_caller]
    pub fn run_until_requested(self) -> impl Future<Output = TestOutcome> {
        self.run(|shutdown: Shutdown| async move { shutdown.requested().await })
    }

    /// Runs `main` under the engine and returns what happened, or why it could not.
    pub async fn try_run<F, Fut>(self, main: F) -> Result<TestOutcome, HarnessError>
    where
        F: FnOnce(Shutdown) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: MainOutput,
    {
        let main: Box<dyn FnOnce(Shutdown) -> BoxFuture<MainExit> + '_> =
            Box::new(move |shutdown| {
                let fut = main(shutdown);
                Box::pin(async move { fut.await.into_main_exit() })
            });
        self.run_boxed(main).await
    }

    /// The kit's run, compiled once.
    async fn run_boxed(
        self,
        main: Box<dyn FnOnce(Shutdown) -> BoxFuture<MainExit> + '_>,
    ) -> Result<TestOutcome, HarnessError> {
        let Harness {
            builder,
            mut faults,
            triggers,
            tasks,
            guards,
            hooks,
            bound,
            registered_states,
        } = self;
        let mut graceful = builder?.signals([]).process_owner(false).build()?;
        #[cfg(feature = "state")]
        if registered_states {
            graceful = graceful.registered_states();
        }
        #[cfg(not(feature = "state"))]
        let _ = registered_states;
        let log = Log::new();
        let shutdown = graceful.shutdown();

        // Hooks: the engine's (given to the builder) and the kit's, all by name.
        let mut all_hooks: Vec<Hook> = Phase::SEQUENCE
            .iter()
            .flat_map(|p| graceful.run.take_hooks(*p))
            .collect();
        for (phase, name) in hooks {
            all_hooks.push(Hook::new(phase, name, |_| async { Ok::<(), BoxError>(()) }));
        }
        check_points(&faults, &graceful.specs, &all_hooks, &guards)?;
        let mut take = |point: &Point| -> Option<Fault> {
            let at = faults.iter().position(|(p, _)| p == point)?;
            Some(faults.swap_remove(at).1)
        };
        for spec in &mut graceful.specs {
            wrap_spec(
                spec,
                take(&Point::constructor(&spec.name)),
                take(&Point::close(&spec.name)),
                &log,
            );
        }
        let all_hooks: Vec<Hook> = all_hooks
            .into_iter()
            .map(|hook| match take(&Point::hook(&hook.name)) {
                Some(fault) => wrap_hook(hook, fault, &log),
                None => hook,
            })
            .collect();
        graceful.run.add_hooks(all_hooks);
        let tasks: Vec<(String, Option<Fault>)> = tasks
            .into_iter()
            .map(|t| {
                let f = take(&Point::task(&t));
                (t, f)
            })
            .collect();
        let guards: Vec<(String, Option<Fault>)> = guards
            .into_iter()
            .map(|g| {
                let f = take(&Point::guard(&g));
                (g, f)
            })
            .collect();

        // What is left at a task point names a task the service spawns.
        let user_tasks: Vec<(Point, Fault)> = std::mem::take(&mut faults);
        let armed = shutdown.extension::<TaskFaults>();
        for (point, fault) in &user_tasks {
            armed.arm(point.name().to_string(), fault.clone(), &log);
        }

        let events = collect_events(&shutdown, &log);
        let latest = triggers
            .iter()
            .map(|(w, _)| match w {
                When::AfterStart(d) | When::FromLaunch(d) => *d,
            })
            .max()
            .unwrap_or_default();
        let deliveries = deliver(&shutdown, triggers, &log);
        let bound = bound.unwrap_or_else(|| {
            shutdown.config().timeout.value * 10 + latest + Duration::from_secs(60)
        });

        let kit_log = log.clone();
        let main = move |s: Shutdown| -> BoxFuture<MainExit> {
            start_work(&s, tasks, guards, &kit_log);
            main(s)
        };
        let run = graceful.run_boxed(main);
        let finished = tokio::time::timeout(bound, run).await;
        for d in deliveries {
            d.abort();
        }
        let _ = events.0.send(());
        let _ = events.1.await;
        if let Some((unused, spawned)) = armed.unused() {
            let (point, fault) = user_tasks
                .into_iter()
                .find(|(p, _)| unused.iter().any(|u| u == p.name()))
                .expect("an unused fault was armed");
            return Err(HarnessError::UnknownPoint {
                point,
                fault,
                kind: "tracked task spawned during the run (nor one added with Harness::task)",
                known: if spawned.is_empty() {
                    "none".to_string()
                } else {
                    spawned.join(", ")
                },
            });
        }
        match finished {
            Ok(run) => Ok(TestOutcome {
                run,
                timeline: log.timeline(),
            }),
            Err(_) => Err(HarnessError::Unfinished {
                bound,
                timeline: log.timeline(),
            }),
        }
    }
}

/// Every fault names something that exists, and can happen there.
fn check_points(
    faults: &[(Point, Fault)],
    specs: &[ResourceSpec],
    hooks: &[Hook],
    guards: &[String],
) -> Result<(), HarnessError> {
    for (point, fault) in faults {
        let (kind, names): (&'static str, Vec<&str>) = match point {
            Point::Constructor(_) | Point::Close(_) => {
                ("resource", specs.iter().map(|s| s.name.as_str()).collect())
            }
            Point::Hook(_) => ("hook", hooks.iter().map(|h| h.name.as_str()).collect()),
            // A task the service spawns is known only once it is spawned: checked after the
            // run ([`user_tasks_used`]).
            Point::Task(_) => continue,
            Point::Guard(_) => (
                "guard added with Harness::guard",
                guards.iter().map(String::as_str).collect(),
            ),
        };
        if !names.contains(&point.name()) {
            let known: BTreeSet<&str> = names.into_iter().collect();
            let known = if known.is_empty() {
                "none".to_string()
            } else {
                known.into_iter().collect::<Vec<_>>().join(", ")
            };
            return Err(HarnessError::UnknownPoint {
                point: point.clone(),
                fault: fault.clone(),
                kind,
                known,
            });
        }
        if matches!((point, fault), (Point::Guard(_), Fault::Error(_))) {
            return Err(HarnessError::Unsupported {
                point: point.clone(),
                fault: fault.clone(),
            });
        }
    }
    Ok(())
}

/// Pushes `entry` when dropped unless disarmed: records a constructor that panicked.
struct OnUnwind(Option<(Log, Entry)>);

impl Drop for OnUnwind {
    fn drop(&mut self) {
        if let Some((log, entry)) = self.0.take() {
            log.push(entry);
        }
    }
}

/// Wraps a resource's constructor and close: each logs to the timeline and runs its fault.
fn wrap_spec(spec: &mut ResourceSpec, build: Option<Fault>, close: Option<Fault>, log: &Log) {
    let name = spec.name.clone();
    let original = std::mem::replace(
        &mut spec.build,
        Box::new(|_| Box::pin(async { Err("replaced".into()) })),
    );
    let log_b = log.clone();
    let name_b = name.clone();
    spec.build = Box::new(
        move |res: Resources| -> BoxFuture<Result<AnyArc, BoxError>> {
            Box::pin(async move {
                log_b.push(Entry::Building(name_b.clone()));
                let mut unwind =
                    OnUnwind(Some((log_b.clone(), Entry::BuildFailed(name_b.clone()))));
                let built = match build {
                    Some(fault) => {
                        log_b.push(Entry::Fault(format!("{fault} in constructor `{name_b}`")));
                        fault.around(original(res)).await
                    }
                    None => original(res).await,
                };
                unwind.0 = None;
                log_b.push(match &built {
                    Ok(_) => Entry::Built(name_b),
                    Err(_) => Entry::BuildFailed(name_b),
                });
                built
            })
        },
    );
    let original: Option<CloseFn> = spec.close.take();
    if original.is_none() && close.is_none() {
        // Dropped in place by the engine; nothing to wrap.
        return;
    }
    let log = log.clone();
    spec.close = Some(Box::new(
        move |value: AnyArc| -> BoxFuture<Result<(), BoxError>> {
            Box::pin(async move {
                log.push(Entry::Closing(name.clone()));
                let then = async move {
                    match original {
                        Some(close) => close(value).await,
                        None => {
                            drop(value);
                            Ok(())
                        }
                    }
                };
                let closed = match close {
                    Some(fault) => {
                        log.push(Entry::Fault(format!("{fault} in close `{name}`")));
                        fault.around(then).await
                    }
                    None => then.await,
                };
                log.push(Entry::Closed(name));
                closed
            })
        },
    ));
}

/// Wraps a phase hook with its fault.
fn wrap_hook(hook: Hook, fault: Fault, log: &Log) -> Hook {
    let Hook { phase, name, run } = hook;
    let log = log.clone();
    let label = name.clone();
    Hook {
        phase,
        name,
        run: Box::new(move |shutdown| {
            Box::pin(async move {
                log.push(Entry::Fault(format!("{fault} in hook `{label}`")));
                fault.around(run(shutdown)).await
            })
        }),
    }
}

/// An injected failure of a kit task, printed as its message (a task's `Err` is formatted
/// with `Debug`).
struct Injected(String);

impl std::fmt::Debug for Injected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Starts the kit's tasks and guards, before `main`.
fn start_work(
    shutdown: &Shutdown,
    tasks: Vec<(String, Option<Fault>)>,
    guards: Vec<(String, Option<Fault>)>,
    log: &Log,
) {
    for (name, fault) in tasks {
        let requested = shutdown.requested();
        let log = log.clone();
        let label = name.clone();
        shutdown.spawn(name, async move {
            requested.await;
            match fault {
                None => Ok(()),
                Some(fault) => {
                    log.push(Entry::Fault(format!("{fault} in task `{label}`")));
                    fault
                        .around(async { Ok(()) })
                        .await
                        .map_err(|e| Injected(e.to_string()))
                }
            }
        });
    }
    if guards.is_empty() {
        return;
    }
    let held: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let names = held.clone();
    shutdown.on_abandon(move || {
        lock(&names)
            .iter()
            .map(|n| format!("guard `{n}`"))
            .collect()
    });
    for (name, fault) in guards {
        let guard = shutdown.track();
        lock(&held).insert(name.clone());
        let drain = shutdown.drain_started();
        let held = held.clone();
        let log = log.clone();
        tokio::spawn(async move {
            let _release = Release {
                held,
                name: name.clone(),
                _guard: guard,
            };
            drain.await;
            if let Some(fault) = fault {
                log.push(Entry::Fault(format!("{fault} in guard `{name}`")));
                let _ = fault.around(async { Ok(()) }).await;
            }
        });
    }
}

/// A kit guard: releases the in-flight unit and its name together (also on panic).
struct Release {
    held: Arc<Mutex<BTreeSet<String>>>,
    name: String,
    _guard: crate::TrackGuard,
}

impl Drop for Release {
    fn drop(&mut self) {
        lock(&self.held).remove(&self.name);
    }
}

/// Copies the engine's events into the timeline until told to stop (then takes what is left).
fn collect_events(
    shutdown: &Shutdown,
    log: &Log,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    use tokio::sync::broadcast::error::{RecvError, TryRecvError};
    let mut rx = shutdown.events();
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let log = log.clone();
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                biased;
                event = rx.recv() => match event {
                    Ok(e) => log.push(Entry::Engine(e)),
                    Err(RecvError::Lagged(n)) => log.push(Entry::Fault(format!("{n} engine events lost (the timeline lagged)"))),
                    Err(RecvError::Closed) => return,
                },
                _ = &mut stopped => loop {
                    match rx.try_recv() {
                        Ok(e) => log.push(Entry::Engine(e)),
                        Err(TryRecvError::Lagged(_)) => {}
                        Err(_) => return,
                    }
                },
            }
        }
    });
    (stop, task)
}

/// Spawns one task per trigger, each waiting for its moment.
fn deliver(
    shutdown: &Shutdown,
    triggers: Vec<(When, Trigger)>,
    log: &Log,
) -> Vec<tokio::task::JoinHandle<()>> {
    let deliverer = Deliverer::new(shutdown);
    triggers
        .into_iter()
        .map(|(when, trigger)| {
            let deliverer = deliverer.clone();
            let shutdown = shutdown.clone();
            let log = log.clone();
            tokio::spawn(async move {
                match when {
                    When::FromLaunch(after) => tokio::time::sleep_until(log.start() + after).await,
                    When::AfterStart(after) => {
                        shutdown.started().await;
                        tokio::time::sleep(after).await;
                    }
                }
                log.push(Entry::Delivered(trigger.to_string()));
                deliverer.deliver(&trigger);
            })
        })
        .collect()
}
