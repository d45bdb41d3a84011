//! # graceful
//!
//! Make Rust services shut down correctly: on SIGTERM stop taking new work, finish what was
//! accepted, save what must survive, close resources in a declared order, and exit within a
//! deadline — saying at every moment where the shutdown is.
//!
//! You make three gestures: annotate `main`, annotate resource constructors, derive close
//! handlers. Everything else is the engine's job.
//!
//! ```no_run
//! use graceful::{Close, Res, Shutdown};
//!
//! pub struct Db;
//! impl Db {
//!     async fn disconnect(&self) { /* … */ }
//! }
//!
//! pub struct Cache { db: Res<Db> }
//! impl Close for Cache {
//!     async fn close(&self) -> Result<(), graceful::BoxError> { Ok(()) }
//! }
//!
//! #[graceful::resource(priority = 100, close = "disconnect")] // built first, closed last
//! async fn db() -> Result<Db, std::io::Error> { Ok(Db) }
//!
//! #[graceful::resource(priority = 90)] // `Close` impl used; closed before `db`
//! fn cache(db: Res<Db>) -> Cache { Cache { db } }
//!
//! #[graceful::main(timeout = "30s", drain = "10s")]
//! async fn main(shutdown: Shutdown) -> Result<(), graceful::GetError> {
//!     let cache = graceful::get::<Cache>()?;
//!     let _db: &Db = &cache.db;
//!     shutdown.requested().await; // SIGTERM, SIGINT, SIGHUP, trigger(), …
//!     Ok(())
//! }
//! ```
//!
//! ## The phases
//!
//! [`Phase::Running`] → [`Phase::Initiated`] → [`Phase::StoppingNewRequests`] (readiness false,
//! listeners keep accepting for `readiness_delay`) → [`Phase::DrainingConnections`] (until every
//! [`Shutdown::track`] guard is dropped, up to `drain_timeout`) → [`Phase::SavingState`] →
//! [`Phase::ClosingResources`] (ascending priority, equal priorities concurrently, each bounded by
//! `resource_close_timeout`) → [`Phase::FlushingBuffers`] → [`Phase::Completed`] or
//! [`Phase::Forced`]. Watch them with [`Shutdown::events`] or [`Shutdown::phase`]; read the
//! outcome in the [`report::ShutdownReport`].
//!
//! ## Taking part in the shutdown
//!
//! ```
//! # #[allow(dead_code)]
//! # async fn handler(shutdown: graceful::Shutdown) {
//! // A unit of work the drain waits for (allocation-free, cheap under contention):
//! let _guard = shutdown.track();
//! // A task that is told to stop and awaited; aborted and named at the drain deadline:
//! let s = shutdown.clone();
//! shutdown.spawn("ticker", async move { s.requested().await });
//! // Start the shutdown yourself (exactly one shutdown runs, whoever asks first):
//! shutdown.trigger("maintenance");
//! # }
//! ```
//!
//! ## What `#[graceful::main]` writes
//!
//! A call of [`Entry`], the engine's public composition root (the real expansion differs only
//! in names):
//!
//! ```no_run
//! # use graceful::Shutdown;
//! fn main() -> std::process::ExitCode {
//!     async fn user_main(shutdown: Shutdown) { shutdown.requested().await }
//!     // Each argument, checked at compile time, arrives typed under its configuration key.
//!     let args = graceful::MainArgs {
//!         settings: vec![(
//!             "timeout",
//!             graceful::ArgValue::Duration(std::time::Duration::from_secs(30)),
//!         )],
//!         ..Default::default()
//!     };
//!     // Loads the configuration layers, builds the tokio runtime, installs the signal
//!     // handlers and the watchdog, builds every registered resource, runs `user_main`, walks
//!     // the phases, prints `main`'s error and what failed, bounds the runtime's own shutdown,
//!     // and returns the exit code the report decides.
//!     graceful::Entry::from_args(args).run(user_main)
//! }
//! ```
//!
//! ## Without macros
//!
//! [`Graceful::builder`] configures an engine explicitly — no `inventory`, no globals. A
//! program runs it with [`Entry::new`]`(builder).run(main)`, the same entry the macro calls,
//! with the same guarantees (watchdog, bounded runtime shutdown, exit codes, `Error: …` on
//! stderr). Tests run it on their own runtime with [`Graceful::run`], engines in parallel:
//!
//! ```
//! use std::time::Duration;
//! use graceful::{Graceful, Res, Resource};
//!
//! struct Pool;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let outcome = Graceful::builder()
//!     .signals([])
//!     .timeout(Duration::from_secs(5))
//!     .drain_timeout(Duration::from_secs(2)) // must fit in the timeout
//!     .resource(Resource::from_value("pool", 100, Pool).close_with(|_p: Res<Pool>| async {}))
//!     .build()
//!     .expect("valid configuration")
//!     .run(|shutdown| async move { shutdown.trigger("done") ; })
//!     .await;
//! assert_eq!(outcome.report.result, graceful::Phase::Completed);
//! assert_eq!(outcome.code(), Some(0));
//! # }
//! ```
//!
//! ## Resources in other crates
//!
//! Registration goes through `inventory`, and the linker drops crates nothing references — with
//! their registrations. If your `#[resource]` constructors live in a library the binary never
//! names, add `use my_resources as _;` to the binary. [`get`] names the type and this rule when a
//! resource is missing.
//!
//! ## Configuration, exit codes
//!
//! See [`Config`] (defaults < macro arguments < TOML file < environment, every value with its
//! source) and [`exit`] (the report's outcome decides the code: 0 completed, 1 `main` failed,
//! 69 a fatal failure, 70 start-up failed, 74 completed with errors, 78 bad configuration, 101
//! `main` panicked, 124 forced, 128+n a second signal).
//!
//! ## Features
//!
//! A default build compiles no serde: the configuration file is read with the `toml` crate's
//! parser alone. The `serde` feature adds `serde::Serialize` to the public types
//! ([`report::ShutdownReport`], [`report::Progress`], [`ShutdownReason`], [`Signal`], [`Phase`], [`Event`],
//! [`Source`] …), `ShutdownReport::to_json`, `report::read_last` and the JSON report
//! written to `state_dir` (without it, a `state_dir` is a configuration error naming the
//! feature). `axum`, `admin`, `metrics` and `state` turn it on. The README's feature table lists
//! every integration.
// Doc examples may define a function only to show a snippet in context; anything else
// that warns is an error.
#![doc(test(attr(deny(warnings), allow(dead_code))))]
// docs.rs marks every feature-gated item with the feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[doc(inline)]
pub use shutdown_core::*;
/// Declares a type as saved state, restored before `main` and saved during `SavingState`
/// (feature `state`); see [`state`](mod@state) for what happens when.
#[cfg(feature = "state")]
#[cfg_attr(docsrs, doc(cfg(feature = "state")))]
pub use shutdown_macros::state;
#[doc(inline)]
pub use shutdown_macros::{Close, main, resource};
// Without the feature, `#[graceful::state]` still resolves, to an error naming the feature.
#[cfg(not(feature = "state"))]
#[doc(hidden)]
pub use shutdown_macros::state_without_feature as state;

#[doc(hidden)]
pub use shutdown_core::__private;

/// Guides that go deeper than the crate docs. Their examples are compiled and run as
/// doctests.
pub mod guide {
    #[doc = include_str!("../docs/macros.md")]
    pub mod macros {}
    #[cfg(feature = "testing")]
    #[doc = include_str!("../docs/testing.md")]
    pub mod testing {}
}
