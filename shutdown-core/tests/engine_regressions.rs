//! Cases the property test (`engine_properties.rs`) found, shrunk, kept as tests. Each failed
//! before the engine change it names.

use std::time::Duration;

use shutdown_core::report::CloseOutcome;
use shutdown_core::testing::{Fault, Harness, Point, Trigger};
use shutdown_core::{Graceful, GracefulBuilder, Phase, Resource, Signal};

const S: fn(u64) -> Duration = Duration::from_secs;

#[derive(Debug)]
struct Db;
#[derive(Debug)]
struct Cache;

fn service() -> GracefulBuilder {
    Graceful::builder()
        .timeout(S(10))
        .resource(Resource::from_value("db", 100, Db).close_with(|_| async {}))
        .resource(Resource::from_value("cache", 50, Cache).close_with(|_| async {}))
}

/// A hung `StoppingNewRequests` hook was bounded by the overall deadline, so it used up the
/// time the engine keeps for a forced save: the save hooks then did not run at all.
#[tokio::test(start_paused = true)]
async fn a_hung_hook_before_the_save_leaves_the_save_its_time() {
    let o = Harness::new(service().forced_save_timeout(S(2)))
        .hook(Phase::StoppingNewRequests, "deregister")
        .hook(Phase::SavingState, "save")
        .fault(Point::hook("deregister"), Fault::Hang)
        .trigger(Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await;
    o.assert_forced().assert_total_at_most(S(10));
    let save = o.report().hooks.iter().find(|h| h.name == "save");
    assert_eq!(save.map(|h| &h.outcome), Some(&CloseOutcome::Closed), "{o}");
}

/// A shutdown requested while a constructor ran left that constructor running: it finished
/// later and its value was dropped without its close.
#[tokio::test(start_paused = true)]
async fn a_constructor_cut_by_a_shutdown_during_start_up_is_cancelled_not_leaked() {
    let o = Harness::new(service())
        .fault(Point::constructor("cache"), Fault::slow(S(3)))
        .hook(Phase::SavingState, "save")
        .fault(Point::hook("save"), Fault::slow(S(5)))
        .trigger_during_startup(S(1), Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await;
    assert_eq!(o.built(), ["db"], "{o}");
    assert_eq!(o.close_order(), ["db"], "{o}");
}

/// With `drain_timeout = 0` and nothing in flight, the drain's two ends (idle, deadline) were
/// both ready and tokio picked one at random: half the runs were reported forced.
#[tokio::test(start_paused = true)]
async fn an_empty_drain_with_a_zero_deadline_is_not_a_missed_deadline() {
    for _ in 0..32 {
        let o = Harness::new(service().drain_timeout(Duration::ZERO))
            .trigger(Trigger::Signal(Signal::Term))
            .run_until_requested()
            .await;
        o.assert_completed()
            .assert_within_deadline(Phase::DrainingConnections);
    }
}

/// The cancellation above must not wait for a constructor that blocks its thread: the
/// shutdown requested during start-up goes on while it is still blocked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_constructor_does_not_hold_up_a_shutdown_during_start_up() {
    let (release, blocked) = std::sync::mpsc::channel::<()>();
    let builder = Graceful::builder().timeout(S(10)).resource(Resource::new(
        "stuck",
        10,
        move |_| async move {
            // A synchronous client connecting, as a `fn` constructor does on a worker.
            let _ = blocked.recv();
            Ok::<_, std::io::Error>(Db)
        },
    ));
    let o = Harness::new(builder)
        .trigger_during_startup(Duration::from_millis(50), Trigger::Signal(Signal::Term))
        .bound(S(30))
        .try_run(|_| async {})
        .await;
    let _ = release.send(());
    let o = o.expect("the run ends while the constructor is blocked");
    assert!(o.built().is_empty(), "{o}");
}
