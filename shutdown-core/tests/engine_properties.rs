//! The engine proven over random services: property-based runs of the real engine through the
//! test kit (`graceful::testing`) on a paused clock.
//!
//! Each case generates 1–30 resources over random priorities and dependencies, tracked tasks,
//! drain guards and phase hooks, a fault on each (none, slow, hang, error, panic), a trigger
//! (a signal, a second signal, the admin stop, `main` returning `Ok`/`Err`, `fail()`, `force()`,
//! a trigger with its own deadline) and random deadlines, runs it through both doors (the
//! builder's setters, and the configuration as `#[graceful::main]`'s arguments give it), and
//! checks the invariants in [`check`]. A failing case is shrunk by proptest and its seed kept
//! in `proptest-regressions/`; the ones that found engine bugs are also written out as tests
//! at the end of this file.
//!
//! `cargo test -p shutdown-core --features testing --test engine_properties -- --nocapture`
//! (`PROPERTY_CASES=N` changes the number of cases, 10 000 by default) prints the number of
//! cases and the time taken.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestCaseError, TestRunner};
use shutdown_core::ArgValue;
use shutdown_core::report::{CloseOutcome, MainOutcome};
use shutdown_core::testing::{Entry, Fault, Harness, Point, TestOutcome, Trigger};
use shutdown_core::{
    Config, Graceful, GracefulBuilder, Phase, Resource, ShutdownReason, Signal, exit,
};

// ---- the generated service ----------------------------------------------------------------

/// Thirty distinct resource types, so that dependencies (declared by type) can be random.
#[derive(Debug)]
struct R<const N: usize>;

macro_rules! by_index {
    ($i:expr, $f:ident, $arg:expr, [$($n:literal),*]) => {
        match $i { $( $n => $f::<$n>($arg), )* _ => unreachable!("at most 30 resources") }
    };
}
const ALL: usize = 30;

fn typed<const N: usize>(spec: &ResourceGen) -> Resource<R<N>> {
    let mut r = Resource::from_value(name(N), spec.priority, R::<N>);
    if spec.close_handler {
        r = r.close_with(|_| async {});
    }
    for &d in &spec.deps {
        r = depend(r, d);
    }
    r
}

fn depend<T: Send + Sync + 'static>(r: Resource<T>, on: usize) -> Resource<T> {
    fn one<const N: usize, T: Send + Sync + 'static>(r: Resource<T>) -> Resource<T> {
        r.depends_on::<R<N>>()
    }
    macro_rules! dep {
        ([$($n:literal),*]) => { match on { $( $n => one::<$n, T>(r), )* _ => unreachable!() } };
    }
    dep!([
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
        25, 26, 27, 28, 29
    ])
}

fn resource(i: usize, spec: &ResourceGen) -> shutdown_core::ResourceSpec {
    fn erased<const N: usize>(spec: &ResourceGen) -> shutdown_core::ResourceSpec {
        typed::<N>(spec).into_spec()
    }
    by_index!(
        i,
        erased,
        spec,
        [
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
            24, 25, 26, 27, 28, 29
        ]
    )
}

fn name(i: usize) -> String {
    format!("r{i}")
}

#[derive(Debug, Clone)]
struct ResourceGen {
    priority: i32,
    deps: Vec<usize>,
    close_handler: bool,
    build_fault: Option<Fault>,
    close_fault: Option<Fault>,
}

#[derive(Debug, Clone)]
enum MainGen {
    /// Waits for the shutdown, then returns `Ok` after this long.
    UntilRequested(Duration),
    /// Returns `Ok` after this long (that is the trigger).
    ReturnsOk(Duration),
    /// Returns `Err` after this long.
    ReturnsErr(Duration),
}

#[derive(Debug, Clone)]
struct Scenario {
    timeout: Duration,
    drain: Duration,
    close: Duration,
    forced_save: Duration,
    resources: Vec<ResourceGen>,
    tasks: Vec<Option<Fault>>,
    guards: Vec<Option<Fault>>,
    hooks: Vec<(Phase, Option<Fault>)>,
    triggers: Vec<(Duration, Trigger)>,
    main: MainGen,
}

fn ms(range: std::ops::Range<u64>) -> impl Strategy<Value = Duration> {
    range.prop_map(Duration::from_millis)
}

fn fault(hang: bool, error: bool) -> impl Strategy<Value = Option<Fault>> {
    prop_oneof![
        6 => Just(None),
        1 => ms(1..20_000).prop_map(|d| Some(Fault::Slow(d))),
        (if hang { 1 } else { 0 }) => Just(Some(Fault::Hang)),
        (if error { 1 } else { 0 }) => Just(Some(Fault::error("injected error"))),
        1 => Just(Some(Fault::panic("injected panic"))),
    ]
}

fn resources() -> impl Strategy<Value = Vec<ResourceGen>> {
    (1..=ALL)
        .prop_flat_map(|n| {
            proptest::collection::vec(
                (
                    0..6i32,
                    proptest::collection::vec(0..n, 0..3),
                    any::<bool>(),
                    prop_oneof![12 => Just(None), 1 => fault(true, true)],
                    fault(true, true),
                    // A dependency on a lower priority is a start-up error: mostly not.
                    prop::bool::weighted(0.03),
                ),
                n,
            )
        })
        .prop_map(|gens| {
            gens.into_iter()
                .enumerate()
                .map(
                    |(i, (p, deps, close_handler, build_fault, close_fault, wrong))| {
                        let priority = p * 10;
                        let deps: Vec<usize> = deps.into_iter().filter(|&d| d != i).collect();
                        ResourceGen {
                            priority,
                            deps: if wrong { deps } else { Vec::new() },
                            close_handler,
                            build_fault,
                            close_fault,
                        }
                    },
                )
                .collect::<Vec<_>>()
        })
        .prop_flat_map(|gens| {
            // Valid dependencies: on resources of a strictly higher priority.
            let n = gens.len();
            proptest::collection::vec(proptest::collection::vec(0..n, 0..3), n).prop_map(
                move |deps| {
                    let mut gens = gens.clone();
                    for (i, d) in deps.into_iter().enumerate() {
                        let p = gens[i].priority;
                        let valid: Vec<usize> =
                            d.into_iter().filter(|&j| gens[j].priority > p).collect();
                        gens[i].deps.extend(valid);
                        gens[i].deps.sort_unstable();
                        gens[i].deps.dedup();
                    }
                    gens
                },
            )
        })
}

fn trigger() -> impl Strategy<Value = Trigger> {
    prop_oneof![
        3 => prop_oneof![Just(Signal::Term), Just(Signal::Int), Just(Signal::Hup)]
            .prop_map(Trigger::Signal),
        1 => (any::<bool>(), proptest::option::of(ms(1_000..60_000)))
            .prop_map(|(force, timeout)| Trigger::AdminStop { force, timeout }),
        1 => Just(Trigger::Request("test".into())),
        1 => ms(1_000..60_000).prop_map(Trigger::Deadline),
        1 => Just(Trigger::fail("queue", "broker gone")),
        1 => Just(Trigger::Force),
    ]
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        ms(1_000..60_000),
        (0.0..0.9f64, 0.05..1.0f64, 0.0..0.6f64),
        resources(),
        proptest::collection::vec(fault(true, true), 0..3),
        proptest::collection::vec(fault(true, false), 0..3),
        proptest::collection::vec(
            (
                prop_oneof![
                    Just(Phase::StoppingNewRequests),
                    Just(Phase::SavingState),
                    Just(Phase::FlushingBuffers)
                ],
                fault(true, true),
            ),
            0..4,
        ),
        proptest::collection::vec((ms(0..20_000), trigger()), 1..3),
        prop_oneof![
            3 => ms(0..5_000).prop_map(MainGen::UntilRequested),
            1 => ms(0..20_000).prop_map(MainGen::ReturnsOk),
            1 => ms(0..20_000).prop_map(MainGen::ReturnsErr),
        ],
    )
        .prop_map(
            |(timeout, (d, c, s), resources, tasks, guards, hooks, triggers, main)| {
                let round = |x: Duration| Duration::from_millis(x.as_millis() as u64);
                Scenario {
                    timeout,
                    drain: round(timeout.mul_f64(d)),
                    close: round(timeout.mul_f64(c)).max(Duration::from_millis(1)),
                    forced_save: round(timeout.mul_f64(s)),
                    resources,
                    tasks,
                    guards,
                    hooks,
                    triggers,
                    main,
                }
            },
        )
}

// ---- running it through both doors --------------------------------------------------------

/// The configuration through the builder's setters (the builder door).
fn by_setters(s: &Scenario) -> GracefulBuilder {
    Graceful::builder()
        .timeout(s.timeout)
        .drain_timeout(s.drain)
        .resource_close_timeout(s.close)
        .forced_save_timeout(s.forced_save)
}

/// The same configuration as `#[graceful::main]`'s arguments give it (the macro door).
fn by_arguments(s: &Scenario) -> GracefulBuilder {
    let config = Config::default()
        .apply_args(&[
            ("timeout", ArgValue::Duration(s.timeout)),
            ("drain_timeout", ArgValue::Duration(s.drain)),
            ("resource_close_timeout", ArgValue::Duration(s.close)),
            ("forced_save_timeout", ArgValue::Duration(s.forced_save)),
        ])
        .expect("generated arguments are valid");
    Graceful::builder().config(config)
}

fn harness(s: &Scenario, builder: GracefulBuilder) -> Harness {
    let mut builder = builder;
    for (i, r) in s.resources.iter().enumerate() {
        builder = builder.resource_spec(resource(i, r));
    }
    let mut h = Harness::new(builder);
    let hangs_at_start = s
        .resources
        .iter()
        .any(|r| matches!(r.build_fault, Some(Fault::Hang)));
    for (i, r) in s.resources.iter().enumerate() {
        if let Some(f) = &r.build_fault {
            h = h.fault(Point::constructor(name(i)), f.clone());
        }
        if let Some(f) = &r.close_fault {
            h = h.fault(Point::close(name(i)), f.clone());
        }
    }
    for (i, f) in s.tasks.iter().enumerate() {
        h = h.task(format!("t{i}"));
        if let Some(f) = f {
            h = h.fault(Point::task(format!("t{i}")), f.clone());
        }
    }
    for (i, f) in s.guards.iter().enumerate() {
        h = h.guard(format!("g{i}"));
        if let Some(f) = f {
            h = h.fault(Point::guard(format!("g{i}")), f.clone());
        }
    }
    for (i, (phase, f)) in s.hooks.iter().enumerate() {
        h = h.hook(*phase, format!("h{i}"));
        if let Some(f) = f {
            h = h.fault(Point::hook(format!("h{i}")), f.clone());
        }
    }
    for (at, t) in &s.triggers {
        h = if hangs_at_start {
            h.trigger_during_startup(*at, t.clone())
        } else {
            h.trigger_after(*at, t.clone())
        };
    }
    if hangs_at_start && s.triggers.is_empty() {
        h = h.trigger_during_startup(Duration::from_secs(1), Trigger::Signal(Signal::Term));
    }
    h
}

fn run(s: &Scenario, builder: GracefulBuilder) -> Result<TestOutcome, TestCaseError> {
    // `enable_all`: with feature `upgrade` on, the engine also listens for its upgrade signal.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let h = harness(s, builder);
    let main = s.main.clone();
    rt.block_on(
        h.try_run(move |shutdown: shutdown_core::Shutdown| async move {
            match main {
                MainGen::UntilRequested(after) => {
                    shutdown.requested().await;
                    tokio::time::sleep(after).await;
                    Ok(())
                }
                MainGen::ReturnsOk(after) => {
                    tokio::time::sleep(after).await;
                    Ok(())
                }
                MainGen::ReturnsErr(after) => {
                    tokio::time::sleep(after).await;
                    Err("main failed")
                }
            }
        }),
    )
    .map_err(|e| TestCaseError::fail(e.to_string()))
}

// ---- the invariants -----------------------------------------------------------------------

macro_rules! ensure {
    ($cond:expr, $o:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(TestCaseError::fail(format!("{}\n{}", format!($($msg)+), $o)));
        }
    };
}

/// The overall deadline of the run: the configured one, or the one of the trigger that
/// started the shutdown (the first delivered, when it started it).
fn overall(s: &Scenario, o: &TestOutcome) -> Duration {
    let first = o.timeline().entries().iter().find_map(|(_, e)| match e {
        Entry::Delivered(what) => s.triggers.iter().find(|(_, t)| t.to_string() == *what),
        _ => None,
    });
    let own = match first.map(|(_, t)| t) {
        Some(Trigger::Deadline(d)) => Some(*d),
        Some(Trigger::AdminStop {
            force: false,
            timeout: Some(d),
        }) => Some(*d),
        _ => None,
    };
    match (&o.report().reason, own) {
        (Some(ShutdownReason::Requested { .. }), Some(d)) => d,
        _ => s.timeout,
    }
}

/// The exit code the documented table gives for this report (`graceful::exit`), derived here
/// independently of `exit::code`.
fn expected_code(o: &TestOutcome) -> Option<u8> {
    let r = o.report();
    if r.startup_error.is_some() {
        return Some(exit::STARTUP_FAILED);
    }
    if r.result == Phase::Forced {
        return Some(exit::FORCED);
    }
    match &r.main {
        MainOutcome::Panicked(_) => return Some(exit::MAIN_PANICKED),
        MainOutcome::Error(_) => return Some(exit::MAIN_ERROR),
        _ => {}
    }
    let failed_task = r.tasks.iter().any(|t| t.fatal);
    if matches!(r.reason, Some(ShutdownReason::ResourceFailed { .. })) || failed_task {
        return Some(exit::FAILED);
    }
    let bad = |o: &CloseOutcome| matches!(o, CloseOutcome::Failed(_) | CloseOutcome::Panicked(_));
    if r.resources.iter().any(|x| bad(&x.outcome)) || r.hooks.iter().any(|h| bad(&h.outcome)) {
        return Some(exit::COMPLETED_WITH_ERRORS);
    }
    Some(0)
}

fn check(s: &Scenario, o: &TestOutcome) -> Result<(), TestCaseError> {
    let r = o.report();
    let built: Vec<&str> = o.built();
    let built_set: BTreeSet<&str> = built.iter().copied().collect();
    ensure!(
        built.len() == built_set.len(),
        o,
        "a constructor ran twice: {built:?}"
    );

    // Every resource built is in the report exactly once (closed, failed or abandoned), and
    // nothing that was not built is closed.
    let mut records: BTreeMap<&str, usize> = BTreeMap::new();
    for x in &r.resources {
        *records.entry(x.name.as_str()).or_default() += 1;
    }
    for name in &built_set {
        ensure!(
            records.get(name) == Some(&1),
            o,
            "`{name}` was built but has {:?} close records",
            records.get(name)
        );
    }
    for name in records.keys() {
        ensure!(
            built_set.contains(name),
            o,
            "`{name}` was not built but has a close record"
        );
    }
    let mut calls: BTreeMap<&str, usize> = BTreeMap::new();
    for c in o.close_calls() {
        *calls.entry(c).or_default() += 1;
    }
    for (name, n) in &calls {
        ensure!(*n == 1, o, "the close handler of `{name}` ran {n} times");
        ensure!(
            built_set.contains(name),
            o,
            "`{name}` was closed but never built"
        );
    }

    // Close order: a lower priority class has ended before a higher one starts; a dependent
    // has ended before what it depends on starts.
    for a in &r.resources {
        for b in &r.resources {
            if a.priority < b.priority {
                ensure!(
                    a.finished <= b.started,
                    o,
                    "`{}` ({}) still closing when `{}` ({}) started",
                    a.name,
                    a.priority,
                    b.name,
                    b.priority
                );
            }
        }
    }
    for (i, g) in s.resources.iter().enumerate() {
        for &d in &g.deps {
            if let (Some(a), Some(b)) = (r.resource(&name(i)), r.resource(&name(d))) {
                ensure!(
                    a.finished <= b.started,
                    o,
                    "`{}` depends on `{}` but closed after it started",
                    a.name,
                    b.name
                );
            }
        }
    }

    // Save hooks run even when forced (forced_save_timeout > 0): each has a record, and one
    // without a fault saved.
    for (i, (phase, fault)) in s.hooks.iter().enumerate() {
        if *phase != Phase::SavingState || s.forced_save.is_zero() {
            continue;
        }
        let hook = r.hooks.iter().find(|h| h.name == format!("h{i}"));
        ensure!(hook.is_some(), o, "save hook h{i} did not run");
        if fault.is_none() {
            ensure!(
                hook.is_some_and(|h| h.outcome == CloseOutcome::Closed),
                o,
                "save hook h{i} without a fault did not save"
            );
        }
    }

    // The exit code is the one the report's outcome gives.
    ensure!(
        o.exit_code() == expected_code(o),
        o,
        "exit code {:?}, the table gives {:?}",
        o.exit_code(),
        expected_code(o)
    );
    ensure!(r.result.is_finished(), o, "the run ended in {:?}", r.result);
    ensure!(
        (r.result == Phase::Forced) == r.is_forced(),
        o,
        "is_forced disagrees"
    );
    if !r.deadlines.is_empty() {
        ensure!(
            r.is_forced(),
            o,
            "a deadline expired but the result is {:?}",
            r.result
        );
    }

    // Time: the shutdown stays within its overall deadline (the engine's own deadline is a
    // margin before it; the watchdog acts at the deadline).
    let limit = overall(s, o);
    ensure!(
        r.total <= limit,
        o,
        "the shutdown took {:?}, over its deadline {limit:?}",
        r.total
    );
    Ok(())
}

/// What both doors must agree on: the exit code, the result, each resource's close outcome
/// (by name), the resources built.
#[derive(Debug, PartialEq)]
struct Summary<'a>(Option<u8>, Phase, Vec<(String, CloseOutcome)>, Vec<&'a str>);

fn summary(o: &TestOutcome) -> Summary<'_> {
    let mut closes: Vec<(String, CloseOutcome)> = o
        .report()
        .resources
        .iter()
        .map(|r| (r.name.clone(), r.outcome.clone()))
        .collect();
    closes.sort_by(|a, b| a.0.cmp(&b.0));
    Summary(o.exit_code(), o.report().result, closes, o.built())
}

fn case(s: &Scenario) -> Result<(), TestCaseError> {
    let a = run(s, by_setters(s))?;
    check(s, &a)?;
    let b = run(s, by_arguments(s))?;
    check(s, &b)?;
    ensure!(
        summary(&a) == summary(&b),
        format!("builder door:\n{a}\nmacro door:\n{b}"),
        "the two doors disagree"
    );
    Ok(())
}

#[test]
fn the_engine_keeps_its_invariants_over_random_services() {
    let cases: usize = std::env::var("PROPERTY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        // CI runs the release build with 10 000 (see .ci/run); an ordinary debug `cargo test`
        // runs a tenth of that.
        .unwrap_or(if cfg!(debug_assertions) {
            1_000
        } else {
            10_000
        });
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(cases.max(1));
    let base = base_seed();
    let done = AtomicUsize::new(0);
    let began = Instant::now();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let mine = cases / threads + usize::from(t < cases % threads);
                let done = &done;
                scope.spawn(move || {
                    let config = RunnerConfig {
                        cases: mine as u32,
                        failure_persistence: Some(Box::new(
                            proptest::test_runner::FileFailurePersistence::WithSource(
                                "regressions",
                            ),
                        )),
                        ..RunnerConfig::default()
                    };
                    let mut runner = TestRunner::new_with_rng(
                        config,
                        proptest::test_runner::TestRng::from_seed(
                            proptest::test_runner::RngAlgorithm::ChaCha,
                            &seed(base, t),
                        ),
                    );
                    runner
                        .run(&scenario(), |s| {
                            done.fetch_add(1, Ordering::Relaxed);
                            case(&s)
                        })
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        for h in handles {
            if let Err(e) = h.join().expect("a runner thread") {
                panic!("{e}\nreproduce with PROPERTY_SEED={base}");
            }
        }
    });
    let secs = began.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    eprintln!(
        "engine properties: {cases} cases ({n} with shrinking; each through both doors) on {threads} threads in {secs:.1}s: {:.0} cases/s, 0 violations (PROPERTY_SEED={base})",
        cases as f64 / secs
    );
}

/// `PROPERTY_SEED`, or the clock: each CI run explores new cases, and prints the seed that
/// reproduces them.
fn base_seed() -> u64 {
    std::env::var("PROPERTY_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        })
}

/// One seed per runner thread.
fn seed(base: u64, thread: usize) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[..8].copy_from_slice(&base.to_le_bytes());
    out[8..16].copy_from_slice(&(thread as u64).to_le_bytes());
    out
}
