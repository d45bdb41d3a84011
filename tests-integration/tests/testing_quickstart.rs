//! The walk-through of `docs/testing.md`: the quickstart's resources, as
//! `examples/quickstart.rs` declares them, under the test kit. A hung close of the cache forces
//! the shutdown; the metrics sink and the database still close, the database after the cache's
//! deadline.

use std::time::{Duration, Instant};

use graceful::testing::{Fault, Harness, Point, Trigger};
use graceful::{ArgValue, MainArgs};
use graceful::{Close, Graceful, Res, Resource, Signal};

/// A database connection pool. Closed through the method named in `close = "…"`.
pub struct Database;

impl Database {
    async fn disconnect(&self) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A cache warmed from the database. Closed through its `Close` implementation.
pub struct Cache;

impl Close for Cache {
    async fn close(&self) -> Result<(), graceful::BoxError> {
        Ok(())
    }
}

/// A metrics sink; `flush` is synchronous and returns a `Result`.
pub struct Metrics;

impl Metrics {
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}

#[graceful::resource(priority = 100, close = "disconnect")]
async fn database() -> Result<Database, std::io::Error> {
    Ok(Database)
}

#[graceful::resource(priority = 50)]
fn cache(_db: Res<Database>) -> Cache {
    Cache
}

#[graceful::resource(priority = 50, close = "flush")]
fn metrics() -> Metrics {
    Metrics
}

#[tokio::test(start_paused = true)]
async fn a_hung_cache_close_forces_the_shutdown_and_the_rest_still_close() {
    let wall = Instant::now();
    // The same arguments as `#[graceful::main(timeout = "10s", drain = "5s")]`.
    let args = MainArgs {
        settings: vec![
            ("timeout", ArgValue::Duration(Duration::from_secs(10))),
            ("drain_timeout", ArgValue::Duration(Duration::from_secs(5))),
        ],
        ..MainArgs::default()
    };
    let outcome = Harness::registered(args)
        .fault(Point::close("cache"), Fault::Hang)
        .trigger(Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await;
    outcome
        .assert_forced()
        .assert_exit_code(graceful::exit::FORCED)
        .assert_abandoned("cache")
        .assert_closed("metrics")
        .assert_closed_before("cache", "database");
    // The cache's 5-second close deadline passed on the paused clock, exactly.
    let cache = outcome.report().resource("cache").expect("cache");
    assert_eq!(
        cache.finished - cache.started,
        Duration::from_secs(5),
        "{outcome}"
    );
    // Printed, not asserted (CI machines are loaded): the whole run is a matter of milliseconds.
    eprintln!("wall time of the run: {:?}", wall.elapsed());
}

/// The same service through the builder door gives the same outcome.
#[tokio::test(start_paused = true)]
async fn the_builder_door_agrees() {
    let builder = Graceful::builder()
        .timeout(Duration::from_secs(10))
        .drain_timeout(Duration::from_secs(5))
        .resource(
            Resource::new("database", 100, |_| database())
                .close_with(|db: Res<Database>| async move { db.disconnect().await }),
        )
        .resource(
            Resource::new("cache", 50, |_| async {
                Ok::<_, graceful::BoxError>(Cache)
            })
            .depends_on::<Database>()
            .close_trait(),
        )
        .resource(
            Resource::new("metrics", 50, |_| async {
                Ok::<_, graceful::BoxError>(metrics())
            })
            .close_with(|m: Res<Metrics>| async move { m.flush() }),
        );
    let outcome = Harness::new(builder)
        .fault(Point::close("cache"), Fault::Hang)
        .trigger(Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await;
    outcome
        .assert_forced()
        .assert_exit_code(graceful::exit::FORCED)
        .assert_abandoned("cache")
        .assert_closed("metrics")
        .assert_closed_before("cache", "database");
}

/// Without the injected fault the same service completes: the fault is what the first test
/// measures.
#[tokio::test(start_paused = true)]
async fn without_the_fault_the_shutdown_completes() {
    Harness::registered(MainArgs::default())
        .trigger(Trigger::Signal(Signal::Term))
        .run_until_requested()
        .await
        .assert_completed()
        .assert_exit_code(0)
        .assert_closed("cache")
        .assert_closed_before("cache", "database");
}
