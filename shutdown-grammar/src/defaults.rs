//! The engine's default values, in the one place both the engine (`Config::default`) and the
//! macros (which check `#[graceful::main(timeout = …)]` against them at compile time) read
//! them; the rows of [`keys`](crate::keys) name them.

use std::time::Duration;

/// `timeout`: bounds the whole shutdown.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// `drain_timeout`: bounds the wait for in-flight work.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// `resource_close_timeout`: bounds each resource's close.
pub const RESOURCE_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// `readiness_delay`: none.
pub const READINESS_DELAY: Duration = Duration::ZERO;
/// `signal_repeat_window`: a copy of a signal within it is the same request.
pub const SIGNAL_REPEAT_WINDOW: Duration = Duration::from_millis(300);
/// `forced_save_timeout`: how long the save still runs when the shutdown is forced.
pub const FORCED_SAVE_TIMEOUT: Duration = Duration::from_secs(2);
