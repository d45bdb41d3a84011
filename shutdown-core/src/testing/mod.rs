//! A test kit (feature `testing`, meant as a dev-dependency): run the real engine over the
//! service's real resources in a unit test, inject the faults production will throw, trigger
//! the shutdown the way production does, and assert on what happened.
//!
//! ```
//! use graceful::testing::{Fault, Harness, Point, Trigger};
//! use graceful::{Graceful, Resource, Signal};
//!
//! struct Db;
//! struct Cache;
//!
//! // In a test: `#[tokio::test(start_paused = true)] async fn hung_db_close_forces() { … }`
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let outcome = Harness::new(
//!     Graceful::builder()
//!         .resource(Resource::from_value("db", 100, Db).close_with(|_| async {}))
//!         .resource(Resource::from_value("cache", 50, Cache).close_with(|_| async {})),
//! )
//! .fault(Point::close("db"), Fault::Hang)
//! .trigger(Trigger::Signal(Signal::Term))
//! .run_until_requested()
//! .await;
//! outcome
//!     .assert_forced()
//!     .assert_exit_code(graceful::exit::FORCED)
//!     .assert_close_order(&["cache", "db"])
//!     .assert_abandoned("db");
//! # }
//! ```
//!
//! What the kit is, in the engine's terms:
//!
//! - **the real engine** ([`Graceful::run`](crate::Graceful::run)), in-process, on the test's
//!   runtime, with no OS signal handlers, no watchdog and no process exit
//!   ([`process_owner(false)`](crate::GracefulBuilder::process_owner)), so any number of tests
//!   run in parallel. Two doors: [`Harness::new`] takes a builder,
//!   [`Harness::registered`] reads the configuration from `#[graceful::main]`'s arguments and
//!   adds every `#[graceful::resource]` the test binary links, as the macro does;
//! - **faults injected by name** ([`Fault`] at a [`Point`]) by wrapping the resources'
//!   constructors and closes and the phase hooks the engine was given, and at the end of the
//!   tracked tasks the service spawns: the service's code is not changed. The kit's own
//!   tracked tasks ([`Harness::task`]) and drain guards ([`Harness::guard`]) stand for more
//!   work in flight;
//! - **triggers** ([`Trigger`]) delivered to the engine: a signal goes through the engine's
//!   signal policy (a second one forces), the admin stop does what `POST /shutdown` does;
//!   `main` returning `Ok`/`Err` is the test's `main` doing it;
//! - **a value to assert on** ([`TestOutcome`]): the report, the exit code the process would
//!   have had, the close order, the [`Timeline`]; every `assert_*` prints both on failure.
//!
//! # Time
//!
//! The engine reads tokio's clock. Under `#[tokio::test(start_paused = true)]` a 30-second
//! shutdown runs in milliseconds and deadlines land exactly. But tokio moves a paused clock
//! forward whenever the runtime has nothing to do: a close that waits on real I/O (a socket,
//! a database, a child process, `spawn_blocking` excepted) looks idle to tokio, so the clock
//! jumps to the next deadline and the close "times out" although nothing is stuck. Under a
//! paused clock, only the kit's faults, timers and in-process work are safe to wait on; a
//! test whose resources talk to real services runs on the real clock (a plain
//! `#[tokio::test]`), where the kit works the same, only in real time. See
//! `docs/testing.md`.

mod fault;
mod outcome;
mod run;
mod task_faults;
mod timeline;
mod trigger;

pub use fault::{Fault, Point};
pub use outcome::TestOutcome;
pub use run::{Harness, HarnessError};
pub(crate) use task_faults::wrap_task;
pub use timeline::{Entry, Timeline};
pub use trigger::Trigger;

#[cfg(test)]
mod tests;
