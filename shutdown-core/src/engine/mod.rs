//! The engine: builder, start-up, the phases, and process-level safety nets.

mod builder;
mod close;
mod graph;
mod ledger;
mod os_event;
mod outcome;
mod recorder;
mod run;
mod save;
mod signals;
mod startup;
mod watchdog;

pub use builder::{Graceful, GracefulBuilder};
pub use outcome::{MainExit, MainOutput, RunOutcome};
#[cfg(feature = "testing")]
pub(crate) use signals::Deliveries;
pub(crate) use watchdog::deadline as watchdog_deadline;

#[cfg(test)]
mod seam_tests;
#[cfg(test)]
mod tests;
