//! The grammar of configuration values, in one place for every crate of `graceful`.
//!
//! The engine reads values from a TOML file and from environment variables, the
//! `#[graceful::main(...)]` macro checks its arguments at compile time, and `gracefulctl` reads
//! its command line and manifest. All three accept exactly the same words because all three
//! call this crate:
//!
//! - [`duration`]: `30`, `1.5` (seconds), `30s`, `1m30s`, `250ms`, `2h`;
//! - [`signal`]: `SIGTERM`, `TERM`, `term`, `15`, …;
//! - [`boolean`]: `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`;
//! - [`suggest`]: the "did you mean" rule every error message uses;
//! - [`keys`]: the core keys (names, variables, `#[graceful::main]` arguments, aliases, kinds,
//!   defaults), one table for the engine and the macro;
//! - [`rules`]: the rules between those keys (`readiness_delay + drain_timeout ≤ timeout`);
//! - [`defaults`]: the default values the table names.
//!
//! The crate has no runtime and depends only on `humantime`, so the proc-macro crate can use
//! it without compiling tokio into the macro build.

#![deny(missing_docs)]

pub mod boolean;
pub mod defaults;
pub mod duration;
pub mod keys;
pub mod rules;
pub mod signal;
pub mod suggest;

pub use boolean::{BoolError, parse_bool};
pub use duration::{DurationError, parse_duration};
pub use keys::{ArgValue, Kind};
pub use signal::{SignalError, parse_signal};
pub use suggest::{did_you_mean, hint};
