//! The kit tested: each fault kind and each trigger, on a paused clock, each with an
//! assertion that fails when the fault or the trigger is left out.

use std::time::Duration;

use super::{Entry, Fault, Harness, HarnessError, Point, Trigger};
use crate::report::{CloseOutcome, MainOutcome};
use crate::{BoxError, Graceful, GracefulBuilder, Phase, Resource};
use crate::{ShutdownReason, Signal, exit};

macro_rules! newtype {
    ($($name:ident),*) => { $( #[derive(Debug)] struct $name; )* };
}
newtype!(Db, Cache, Http);

const S: fn(u64) -> Duration = Duration::from_secs;

/// Three resources with close handlers: http (10) closes first, then cache (50), then db (100).
fn service() -> GracefulBuilder {
    let ok = || async { Ok::<(), BoxError>(()) };
    Graceful::builder()
        .timeout(S(30))
        .drain_timeout(S(10))
        .resource_close_timeout(S(5))
        .resource(Resource::from_value("db", 100, Db).close_with(move |_| ok()))
        .resource(Resource::from_value("cache", 50, Cache).close_with(move |_| ok()))
        .resource(Resource::from_value("http", 10, Http).close_with(move |_| ok()))
}

fn harness() -> Harness {
    Harness::new(service())
}

#[tokio::test(start_paused = true)]
async fn without_faults_everything_closes_in_order_and_exits_0() {
    let o = harness()
        .trigger(Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await;
    o.assert_completed()
        .assert_exit_code(0)
        .assert_close_order(&["http", "cache", "db"]);
    assert_eq!(o.built(), ["db", "cache", "http"]);
    assert_eq!(o.close_calls(), ["http", "cache", "db"]);
    assert_eq!(
        o.total(),
        Duration::ZERO,
        "paused clock: nothing waited\n{o}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_hanging_close_is_cut_at_its_deadline_exactly_and_the_rest_close() {
    let o = harness()
        .fault(Point::close("cache"), Fault::Hang)
        .trigger(Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await;
    o.assert_forced()
        .assert_exit_code(exit::FORCED)
        .assert_abandoned("cache")
        .assert_closed("http")
        .assert_closed("db")
        .assert_close_order(&["http", "cache", "db"]);
    let cache = o.report().resource("cache").expect("cache");
    assert_eq!(cache.finished - cache.started, S(5), "{o}");
    assert_eq!(o.total(), S(5), "{o}");
    assert!(
        !o.phase(Phase::ClosingResources)
            .expect("phase")
            .within_deadline
    );
}

#[tokio::test(start_paused = true)]
async fn a_slow_close_takes_exactly_that_long() {
    let o = harness()
        .fault(Point::close("db"), Fault::slow(S(3)))
        .trigger(Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await;
    o.assert_completed().assert_exit_code(0).assert_closed("db");
    let db = o.report().resource("db").expect("db");
    assert_eq!(db.finished - db.started, S(3), "{o}");
}

#[tokio::test(start_paused = true)]
async fn an_erroring_and_a_panicking_close_are_reported_and_exit_74() {
    let o = harness()
        .fault(Point::close("db"), Fault::error("disk full"))
        .fault(Point::close("http"), Fault::panic("boom"))
        .trigger(Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await;
    o.assert_completed()
        .assert_exit_code(exit::COMPLETED_WITH_ERRORS)
        .assert_failed("db")
        .assert_failed("http")
        .assert_closed("cache");
    assert_eq!(
        o.report().resource("db").expect("db").outcome,
        CloseOutcome::Failed("disk full".into())
    );
    assert_eq!(
        o.report().resource("http").expect("http").outcome,
        CloseOutcome::Panicked("boom".into())
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_constructor_stops_start_up_and_only_what_was_built_closes() {
    for fault in [Fault::error("refused"), Fault::panic("bad config")] {
        let o = harness()
            .fault(Point::constructor("cache"), fault.clone())
            .trigger(Trigger::Signal(Signal::Term))
            .run_until_requested()
            .await;
        o.assert_exit_code(exit::STARTUP_FAILED);
        assert_eq!(o.built(), ["db"], "{fault}: {o}");
        assert_eq!(o.close_order(), ["db"], "{fault}: {o}");
        assert_eq!(o.report().main, MainOutcome::NotStarted);
    }
}

#[tokio::test(start_paused = true)]
async fn a_slow_constructor_delays_start_up_by_exactly_that_long() {
    let o = harness()
        .fault(Point::constructor("db"), Fault::slow(S(7)))
        .run(|_| async {})
        .await;
    o.assert_completed();
    let built = o
        .timeline()
        .entries()
        .iter()
        .find(|(_, e)| *e == Entry::Built("db".into()))
        .map(|(at, _)| *at);
    assert_eq!(built, Some(S(7)), "{o}");
}

#[tokio::test(start_paused = true)]
async fn a_hanging_constructor_is_interrupted_by_a_signal_during_start_up() {
    let o = harness()
        .fault(Point::constructor("cache"), Fault::Hang)
        .trigger_during_startup(S(2), Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await;
    assert_eq!(o.built(), ["db"], "{o}");
    assert_eq!(o.close_order(), ["db"], "{o}");
    assert_eq!(o.report().main, MainOutcome::NotStarted);
    assert_eq!(o.report().reason, Some(Signal::Term.into()), "{o}");
    // A stop asked for during start-up is a clean stop, not a failed start.
    assert_eq!(o.exit_code(), Some(0), "{o}");
}

#[tokio::test(start_paused = true)]
async fn hook_faults_hang_error_panic_and_slow() {
    let o = harness()
        .hook(Phase::SavingState, "save")
        .hook(Phase::FlushingBuffers, "flush")
        .hook(Phase::StoppingNewRequests, "deregister")
        .fault(Point::hook("save"), Fault::error("no space"))
        .fault(Point::hook("flush"), Fault::panic("flush exploded"))
        .fault(Point::hook("deregister"), Fault::slow(S(2)))
        .trigger(Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await;
    o.assert_completed()
        .assert_exit_code(exit::COMPLETED_WITH_ERRORS);
    let hook = |n: &str| {
        o.report()
            .hooks
            .iter()
            .find(|h| h.name == n)
            .expect(n)
            .clone()
    };
    assert_eq!(
        hook("save").outcome,
        CloseOutcome::Failed("no space".into())
    );
    assert_eq!(
        hook("flush").outcome,
        CloseOutcome::Panicked("flush exploded".into())
    );
    assert_eq!(hook("deregister").duration, S(2), "{o}");

    let hung = harness()
        .hook(Phase::FlushingBuffers, "flush")
        .fault(Point::hook("flush"), Fault::Hang)
        .trigger(Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await;
    hung.assert_forced().assert_exit_code(exit::FORCED);
    let flush = &hung.report().hooks[0];
    assert_eq!(flush.outcome, CloseOutcome::TimedOut, "{hung}");
}

#[tokio::test(start_paused = true)]
async fn a_fault_reaches_a_hook_given_to_the_builder_by_name() {
    let o = Harness::new(service().on_phase(Phase::SavingState, "snapshot", |_| async { Ok(()) }))
        .fault(Point::hook("snapshot"), Fault::error("read-only"))
        .trigger(Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await;
    assert_eq!(
        o.report().hooks[0].outcome,
        CloseOutcome::Failed("read-only".into()),
        "{o}"
    );
}

#[tokio::test(start_paused = true)]
async fn task_faults_hang_until_the_drain_deadline_or_fail_the_run() {
    let hung = harness()
        .task("consumer")
        .fault(Point::task("consumer"), Fault::Hang)
        .trigger(Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await;
    hung.assert_forced().assert_exit_code(exit::FORCED);
    assert!(
        hung.report().abandoned.contains(&"consumer".to_string()),
        "{hung}"
    );
    let drain = hung.phase(Phase::DrainingConnections).expect("drain");
    assert_eq!(drain.duration, S(10), "the drain deadline, exactly\n{hung}");

    for fault in [Fault::error("lost connection"), Fault::panic("poisoned")] {
        let o = harness()
            .task("consumer")
            .fault(Point::task("consumer"), fault.clone())
            .trigger(Trigger::Signal(Signal::Term))
            .run_until_requested()
            .await;
        o.assert_completed().assert_exit_code(exit::FAILED);
        let task = o.report().failed_task().expect("a failed task");
        assert_eq!(task.name, "consumer", "{fault}: {o}");
    }

    let slow = harness()
        .task("consumer")
        .fault(Point::task("consumer"), Fault::slow(S(4)))
        .trigger(Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await;
    slow.assert_completed().assert_exit_code(0);
    let drain = slow.phase(Phase::DrainingConnections).expect("drain");
    assert_eq!(drain.duration, S(4), "{slow}");
}

#[tokio::test(start_paused = true)]
async fn guard_faults_hold_the_drain_and_are_named_when_abandoned() {
    let hung = harness()
        .guard("GET /export")
        .fault(Point::guard("GET /export"), Fault::Hang)
        .trigger(Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await;
    hung.assert_forced();
    assert!(
        hung.report()
            .abandoned
            .contains(&"guard `GET /export`".to_string()),
        "{hung}"
    );
    let slow = harness()
        .guard("GET /export")
        .fault(Point::guard("GET /export"), Fault::slow(S(6)))
        .trigger(Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await;
    slow.assert_completed();
    assert_eq!(
        slow.phase(Phase::DrainingConnections)
            .expect("drain")
            .duration,
        S(6),
        "{slow}"
    );
    let panicked = harness()
        .guard("GET /export")
        .fault(
            Point::guard("GET /export"),
            Fault::panic("handler panicked"),
        )
        .trigger(Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await;
    panicked.assert_completed();
    assert!(panicked.report().abandoned.is_empty(), "{panicked}");
}

#[tokio::test(start_paused = true)]
async fn a_second_signal_forces_and_a_copy_within_the_window_does_not() {
    let slow_close = || harness().fault(Point::close("cache"), Fault::slow(S(4)));
    let forced = slow_close()
        .trigger(Trigger::Signal(Signal::Term))
        .trigger_after(S(1), Trigger::Signal(Signal::Int))
        .run_until_requested()
        .await;
    forced.assert_forced().assert_exit_code(exit::FORCED);
    assert!(
        forced.total() <= S(1) + S(2),
        "cut short by the second signal\n{forced}"
    );

    let copy = slow_close()
        .trigger(Trigger::Signal(Signal::Term))
        .trigger_after(Duration::from_millis(100), Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await;
    copy.assert_completed().assert_exit_code(0);
    assert_eq!(copy.total(), S(4), "{copy}");
}

#[tokio::test(start_paused = true)]
async fn the_admin_stop_starts_forces_or_sets_its_own_deadline() {
    let graceful = harness()
        .trigger(Trigger::admin_stop())
        .run_until_requested()
        .await;
    graceful.assert_completed().assert_exit_code(0);
    assert_eq!(
        graceful.report().reason,
        Some(ShutdownReason::requested("admin API request"))
    );

    let forced = harness()
        .trigger(Trigger::AdminStop {
            force: true,
            timeout: None,
        })
        .run_until_requested()
        .await;
    forced.assert_forced().assert_exit_code(exit::FORCED);
    assert_eq!(
        forced.abandoned(),
        ["http", "cache", "db"],
        "skipped\n{forced}"
    );

    let bounded = harness()
        .fault(Point::close("db"), Fault::Hang)
        .configure(|b| b.resource_close_timeout(S(25)))
        .trigger(Trigger::AdminStop {
            force: false,
            timeout: Some(S(8)),
        })
        .run_until_requested()
        .await;
    bounded.assert_forced();
    assert!(
        bounded.total() <= S(8),
        "the request's own deadline\n{bounded}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_trigger_with_a_deadline_bounds_the_whole_shutdown() {
    let o = harness()
        .configure(|b| b.resource_close_timeout(S(25)))
        .fault(Point::close("db"), Fault::Hang)
        .trigger(Trigger::Deadline(S(12)))
        .run_until_requested()
        .await;
    o.assert_forced();
    assert!(o.total() <= S(12) && o.total() > S(11), "{o}");
}

#[tokio::test(start_paused = true)]
async fn fail_request_and_force_are_triggers_with_their_exit_codes() {
    let failed = harness()
        .trigger_after(S(3), Trigger::fail("queue", "broker gone"))
        .run_until_requested()
        .await;
    failed.assert_completed().assert_exit_code(exit::FAILED);
    let requested = harness()
        .trigger(Trigger::Request("maintenance".into()))
        .run_until_requested()
        .await;
    requested.assert_completed().assert_exit_code(0);
    assert_eq!(
        requested.report().reason,
        Some(ShutdownReason::requested("maintenance"))
    );
    let forced = harness()
        .trigger(Trigger::Force)
        .run_until_requested()
        .await;
    forced.assert_forced().assert_exit_code(exit::FORCED);
}

#[tokio::test(start_paused = true)]
async fn main_returning_ok_or_err_is_the_trigger() {
    let ok = harness().run(|_| async {}).await;
    ok.assert_completed().assert_exit_code(0);
    assert_eq!(ok.report().reason, Some(ShutdownReason::MainReturned));
    let err = harness().run(|_| async { Err::<(), _>("bad input") }).await;
    err.assert_completed().assert_exit_code(exit::MAIN_ERROR);
    assert!(matches!(
        err.report().reason,
        Some(ShutdownReason::MainFailed { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn triggers_are_delivered_at_their_moment() {
    let o = harness()
        .trigger_after(S(42), Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await;
    let delivered = o
        .timeline()
        .entries()
        .iter()
        .find(|(_, e)| matches!(e, Entry::Delivered(_)))
        .map(|(at, _)| *at);
    assert_eq!(delivered, Some(S(42)), "{o}");
}

#[tokio::test(start_paused = true)]
async fn a_fault_naming_nothing_is_an_error_listing_what_exists() {
    let err = harness()
        .fault(Point::close("dbb"), Fault::Hang)
        .try_run(|_| async {})
        .await
        .expect_err("unknown name");
    let text = err.to_string();
    assert!(
        text.contains("close `dbb`") && text.contains("known: cache, db, http"),
        "{text}"
    );
    let err = harness()
        .guard("g")
        .fault(Point::guard("g"), Fault::error("x"))
        .try_run(|_| async {})
        .await
        .expect_err("unsupported");
    assert!(matches!(err, HarnessError::Unsupported { .. }), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_run_that_is_never_triggered_ends_with_its_timeline() {
    let err = harness()
        .bound(S(100))
        .try_run(|s: crate::Shutdown| async move { s.requested().await })
        .await
        .expect_err("never triggered");
    let text = err.to_string();
    assert!(
        text.contains("did not finish within 100s") && text.contains("built     `http`"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_assertion_failure_prints_the_report_and_the_timeline() {
    let o = harness()
        .fault(Point::close("cache"), Fault::Hang)
        .trigger(Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await;
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        o.assert_completed();
    }))
    .expect_err("the shutdown was forced");
    let message = panic.downcast_ref::<String>().expect("a message");
    assert!(
        message.contains("expected the shutdown to complete"),
        "{message}"
    );
    assert!(message.contains("timeline:"), "{message}");
    assert!(
        message.contains("fault     hang in close `cache`"),
        "{message}"
    );
    assert!(message.contains("deliver   signal SIGTERM"), "{message}");
}

#[tokio::test]
async fn the_real_clock_works_too() {
    let o = harness()
        .configure(|b| b.resource_close_timeout(Duration::from_millis(200)))
        .fault(Point::close("cache"), Fault::Hang)
        .trigger(Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await;
    o.assert_forced()
        .assert_abandoned("cache")
        .assert_closed("db");
    assert!(o.total() >= Duration::from_millis(200), "{o}");
}

#[tokio::test(start_paused = true)]
async fn a_main_that_returned_is_not_abandoned_when_a_task_misses_the_drain() {
    // `main` returns during the drain (so the engine saw it running at the trigger); the
    // task that hangs is what misses the drain deadline.
    let o = harness()
        .task("consumer")
        .fault(Point::task("consumer"), Fault::Hang)
        .trigger(Trigger::Signal(Signal::Term))
        .run(|s: crate::Shutdown| async move {
            s.requested().await;
            tokio::time::sleep(S(1)).await;
        })
        .await;
    assert_eq!(o.report().main, MainOutcome::Ok, "{o}");
    assert_eq!(o.report().abandoned[0], "consumer", "{o}");
}

#[tokio::test(start_paused = true)]
async fn faults_reach_the_services_own_tracked_tasks_by_name() {
    let main = |s: crate::Shutdown| async move {
        let worker = s.clone();
        s.spawn("worker", async move { worker.requested().await });
        s.requested().await;
    };
    let hung = harness()
        .fault(Point::task("worker"), Fault::Hang)
        .trigger(Trigger::Signal(Signal::Term))
        .run(main)
        .await;
    hung.assert_forced();
    assert!(
        hung.report().abandoned.contains(&"worker".to_string()),
        "{hung}"
    );
    let failing = harness()
        .fault(Point::task("worker"), Fault::error("lost the queue"))
        .trigger(Trigger::Signal(Signal::Term))
        .run(main)
        .await;
    failing.assert_exit_code(exit::FAILED);
    let task = failing.report().failed_task().expect("the worker failed");
    assert_eq!(
        task.outcome,
        CloseOutcome::Failed("lost the queue".into()),
        "{failing}"
    );
    let slow = harness()
        .fault(Point::task("worker"), Fault::slow(S(3)))
        .trigger(Trigger::Signal(Signal::Term))
        .run(main)
        .await;
    slow.assert_completed();
    assert_eq!(
        slow.phase(Phase::DrainingConnections)
            .expect("drain")
            .duration,
        S(3),
        "{slow}"
    );
    let misspelt = harness()
        .fault(Point::task("wroker"), Fault::Hang)
        .trigger(Trigger::Signal(Signal::Term))
        .try_run(main)
        .await
        .expect_err("no such task");
    assert!(misspelt.to_string().contains("known: worker"), "{misspelt}");
}
