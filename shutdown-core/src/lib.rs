//! The engine behind [`graceful`](https://docs.rs/gracefully): ordered shutdown phases,
//! allocation-free in-flight tracking, resources closed by priority, deadlines with a forced
//! fallback. Use it through the facade: the `gracefully` package, whose library is `graceful`.
// Doc examples may define a function only to show a snippet in context; anything else
// that warns is an error.
#![doc(test(attr(deny(warnings), allow(dead_code))))]
// docs.rs marks every feature-gated item with the feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "admin")]
#[cfg_attr(docsrs, doc(cfg(feature = "admin")))]
pub mod admin;
mod blockers;
mod config;
mod describe;
mod engine;
mod entry;
mod error;
pub mod exit;
pub mod fs;
#[cfg(feature = "hyper")]
#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
pub mod http;
mod ids;
pub mod integrations;
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub mod metrics;
mod panics;
mod phase;
mod platform;
#[cfg(feature = "process")]
#[cfg_attr(docsrs, doc(cfg(feature = "process")))]
pub mod process;
mod readiness;
mod reason;
pub mod report;
mod requests;
mod resource;
#[cfg(feature = "serde")]
mod seconds;
mod shutdown;
#[cfg(feature = "state")]
#[cfg_attr(docsrs, doc(cfg(feature = "state")))]
pub mod state;
mod supervise;
mod sync;
#[cfg(feature = "systemd")]
#[cfg_attr(docsrs, doc(cfg(feature = "systemd")))]
pub mod systemd;
mod task;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
#[cfg(feature = "timeline")]
#[cfg_attr(docsrs, doc(cfg(feature = "timeline")))]
pub mod timeline;
mod took;
mod tracker;
#[cfg(all(feature = "upgrade", unix))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "upgrade", unix))))]
pub mod upgrade;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use blockers::Blocker;
/// Layers, from weakest to strongest: defaults < builder < `#[graceful::main]` arguments <
/// TOML file < environment. Every value remembers its [`Source`], so `println!("{config}")`
/// shows operators the effective values and where each came from. The file's path comes from
/// `#[graceful::main(config = "…")]` or [`CONFIG_ENV`] (the environment wins); the tables of
/// feature modules (`[admin]`, `[http]`, `[systemd]`, `[state]`, `[upgrade]`) are read by the
/// feature, and any other unknown key is an error naming the line.
pub use config::Config;
pub use config::{
    CONFIG_ENV, ConfigError, ConfigIssue, DurationError, Env, Setting, Source, parse_duration,
};
pub use engine::{Graceful, GracefulBuilder, MainExit, MainOutput, RunOutcome};
pub use entry::{ArgValue, Entry, Flavor, MainArgs};
pub use error::{BoxError, GetError, Location, LocationText, StartupError};
pub use phase::Phase;
pub use readiness::{Readiness, ReadinessHold};
pub use reason::{ShutdownReason, Signal};
pub use resource::{
    Close, CloseKind, CloseOutput, Res, Resource, ResourceInfo, ResourceSpec, ResourceState,
    Resources,
};
pub use shutdown::{Event, Shutdown};
pub use supervise::{Supervise, Supervised, TaskState};
pub use task::{TaskBuilder, TaskOutput, TaskRecord};
pub use tracker::TrackGuard;

/// A handle to the resource of type `T` built by the engine that `#[graceful::main]` (or an
/// [`Entry`]) started.
///
/// Errors name the type and say why it is missing (never registered — see the `inventory`
/// linking rule in the crate docs —, already closed, or no engine running).
pub fn get<T: Send + Sync + 'static>() -> Result<Res<T>, GetError> {
    entry::get::<T>()
}

/// The [`Shutdown`] handle of the engine that `#[graceful::main]` (or an [`Entry`]) started,
/// if one runs.
pub fn current() -> Option<Shutdown> {
    entry::current()
}
