//! The engine's default deadlines, in the one place both the engine (`Config::default`) and
//! the macros (which check `#[graceful::main(timeout = …)]` against them at compile time)
//! read them.

use std::time::Duration;

/// `timeout`: bounds the whole shutdown.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// `drain_timeout`: bounds the wait for in-flight work.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// `resource_close_timeout`: bounds each resource's close.
pub const RESOURCE_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
