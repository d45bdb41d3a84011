//! The engine behind [`graceful`](https://docs.rs/graceful): ordered shutdown phases,
//! allocation-free in-flight tracking, resources closed by priority, deadlines with a forced
//! fallback. Use it through the `graceful` facade crate.
#![doc(test(attr(deny(warnings))))]

pub mod config;
mod engine;
pub mod error;
pub mod exit;
pub mod fs;
mod phase;
mod reason;
pub mod report;
mod resource;
mod shutdown;
mod tracker;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
use __private as private;

pub use config::{Config, ConfigError, Env, Setting, Source};
pub use engine::{Graceful, GracefulBuilder, MainExit, MainOutput, RunOutcome};
pub use error::{BoxError, GetError, Location, StartupError};
pub use phase::Phase;
pub use reason::{ShutdownReason, Signal};
pub use report::{CloseOutcome, MainOutcome, Progress, ShutdownReport};
pub use resource::{Close, CloseKind, CloseOutput, Res, Resource, ResourceSpec, Resources};
pub use shutdown::{Event, Shutdown};
pub use tracker::TrackGuard;

/// A handle to the resource of type `T` built by the engine that `#[graceful::main]` started.
///
/// Errors name the type and say why it is missing (never registered — see the `inventory`
/// linking rule in the crate docs —, already closed, or no engine running).
pub fn get<T: Send + Sync + 'static>() -> Result<Res<T>, GetError> {
    private::get::<T>()
}

/// The [`Shutdown`] handle of the engine that `#[graceful::main]` started, if one runs.
pub fn current() -> Option<Shutdown> {
    private::global()
}
