//! [`Event`]: what [`Shutdown::events`](crate::Shutdown::events) broadcasts.

use crate::phase::Phase;
use crate::report::CloseOutcome;

/// Something that happened during a shutdown, as broadcast by
/// [`Shutdown::events`](crate::Shutdown::events).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "event", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Event {
    /// Every resource is built; `main` runs.
    Started,
    /// The phase changed.
    Phase {
        /// The new phase.
        phase: Phase,
    },
    /// A resource finished closing (or failed, or timed out).
    ResourceClosed {
        /// Its name.
        name: String,
        /// Its priority (its class: equal priorities close together).
        priority: i32,
        /// How it went.
        outcome: CloseOutcome,
        /// How long it took, in seconds.
        seconds: f64,
    },
    /// The closes of one priority class started, bounded by the class's deadline (sent only
    /// for a class with a close to await).
    CloseClass {
        /// The class's priority.
        priority: i32,
        /// How many of its closes are awaited.
        resources: usize,
        /// Seconds from now to the class's deadline: `resource_close_timeout`, or less when the
        /// class's budget or the overall timeout ends first.
        seconds: f64,
        /// Seconds since the shutdown's start.
        elapsed: f64,
    },
    /// A deadline expired.
    Deadline {
        /// What was waited for.
        what: String,
    },
    /// A successor took over the listeners; this process shuts down in its favour (feature
    /// `upgrade`).
    Upgraded {
        /// The successor's pid.
        successor: u32,
    },
    /// An upgrade failed; this process keeps serving (feature `upgrade`).
    UpgradeFailed {
        /// The successor's pid, when one was started.
        successor: Option<u32>,
        /// What went wrong.
        error: String,
    },
}
