//! [`Event`]: what [`Shutdown::events`](crate::Shutdown::events) broadcasts.

use crate::phase::Phase;
use crate::report::CloseOutcome;

/// Something that happened during a shutdown, as broadcast by
/// [`Shutdown::events`](crate::Shutdown::events).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
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
        /// How it went.
        outcome: CloseOutcome,
        /// How long it took, in seconds.
        seconds: f64,
    },
    /// A deadline expired.
    Deadline {
        /// What was waited for.
        what: String,
    },
}
