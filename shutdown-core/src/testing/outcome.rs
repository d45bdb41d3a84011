//! [`TestOutcome`]: what a test gets back, and assertions that print the timeline.

use std::sync::Arc;
use std::time::Duration;

use super::timeline::{Entry, Timeline};
use crate::engine::RunOutcome;
use crate::phase::Phase;
use crate::report::{CloseOutcome, PhaseRecord, ShutdownReport};

/// A finished test run: the engine's [`ShutdownReport`], the exit code the process would have
/// had, and the [`Timeline`] of what the kit and the engine did. Its `Display` (used by every
/// `assert_*` method's failure message) prints the report and the timeline.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    pub(crate) run: RunOutcome,
    pub(crate) timeline: Timeline,
}

impl TestOutcome {
    /// The engine's report.
    pub fn report(&self) -> &Arc<ShutdownReport> {
        &self.run.report
    }

    /// What [`Graceful::run`](crate::Graceful::run) returned.
    pub fn run_outcome(&self) -> &RunOutcome {
        &self.run
    }

    /// The exit code the process would have had ([`RunOutcome::code`]); `None` when `main`
    /// returned its own non-zero `ExitCode`.
    pub fn exit_code(&self) -> Option<u8> {
        self.run.code()
    }

    /// What the kit and the engine did, in order.
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// The names of the resources whose constructor returned a value, in build order.
    pub fn built(&self) -> Vec<&str> {
        self.timeline.names(|e| match e {
            Entry::Built(n) => Some(n.as_str()),
            _ => None,
        })
    }

    /// The names of the resources whose close handler the engine started, in order (a
    /// resource without a handler is dropped and appears only in the report).
    pub fn close_calls(&self) -> Vec<&str> {
        self.timeline.names(|e| match e {
            Entry::Closing(n) => Some(n.as_str()),
            _ => None,
        })
    }

    /// The resources in the report's order: class by class, lowest priority first; within a
    /// class (closed concurrently), in the order their closes ended.
    pub fn close_order(&self) -> Vec<&str> {
        self.report()
            .resources
            .iter()
            .map(|r| r.name.as_str())
            .collect()
    }

    fn with_outcome(&self, f: impl Fn(&CloseOutcome) -> bool) -> Vec<&str> {
        self.report()
            .resources
            .iter()
            .filter(|r| f(&r.outcome))
            .map(|r| r.name.as_str())
            .collect()
    }

    /// The resources that closed.
    pub fn closed(&self) -> Vec<&str> {
        self.with_outcome(CloseOutcome::is_ok)
    }

    /// The resources whose close returned an error or panicked.
    pub fn failed(&self) -> Vec<&str> {
        self.with_outcome(|o| matches!(o, CloseOutcome::Failed(_) | CloseOutcome::Panicked(_)))
    }

    /// The resources abandoned: their close timed out, or was skipped because the shutdown
    /// was forced.
    pub fn abandoned(&self) -> Vec<&str> {
        self.with_outcome(|o| matches!(o, CloseOutcome::TimedOut | CloseOutcome::Skipped))
    }

    /// The record of `phase`, if the shutdown went through it.
    pub fn phase(&self, phase: Phase) -> Option<&PhaseRecord> {
        self.report().phases.iter().find(|p| p.phase == phase)
    }

    /// From the trigger to the end of the last phase.
    pub fn total(&self) -> Duration {
        self.report().total
    }

    /// Panics, printing the report and the timeline, unless the shutdown completed.
    #[track_caller]
    pub fn assert_completed(&self) -> &Self {
        self.check(
            self.report().result == Phase::Completed,
            "the shutdown to complete",
        )
    }

    /// Panics, printing the report and the timeline, unless the shutdown was forced.
    #[track_caller]
    pub fn assert_forced(&self) -> &Self {
        self.check(self.report().is_forced(), "the shutdown to be forced")
    }

    /// Panics, printing the report and the timeline, unless the exit code is `code`.
    #[track_caller]
    pub fn assert_exit_code(&self, code: u8) -> &Self {
        self.check(
            self.exit_code() == Some(code),
            &format!("exit code {code}, got {:?}", self.exit_code()),
        )
    }

    /// Panics unless the resources closed (started closing) in exactly this order.
    #[track_caller]
    pub fn assert_close_order(&self, names: &[&str]) -> &Self {
        self.check(
            self.close_order() == names,
            &format!("close order {names:?}, got {:?}", self.close_order()),
        )
    }

    /// Panics unless `name` closed.
    #[track_caller]
    pub fn assert_closed(&self, name: &str) -> &Self {
        self.assert_outcome(name, "closed", CloseOutcome::is_ok)
    }

    /// Panics unless `name`'s close failed (returned an error or panicked).
    #[track_caller]
    pub fn assert_failed(&self, name: &str) -> &Self {
        self.assert_outcome(name, "failed", |o| {
            matches!(o, CloseOutcome::Failed(_) | CloseOutcome::Panicked(_))
        })
    }

    /// Panics unless `name` was abandoned (timed out, or skipped by a forced shutdown).
    #[track_caller]
    pub fn assert_abandoned(&self, name: &str) -> &Self {
        self.assert_outcome(name, "abandoned", |o| {
            matches!(o, CloseOutcome::TimedOut | CloseOutcome::Skipped)
        })
    }

    /// Panics unless `first`'s close had ended (closed, failed or abandoned) before `then`'s
    /// began.
    #[track_caller]
    pub fn assert_closed_before(&self, first: &str, then: &str) -> &Self {
        let r = self.report();
        let (a, b) = (r.resource(first), r.resource(then));
        self.check(
            matches!((a, b), (Some(a), Some(b)) if a.finished <= b.started),
            &format!("`{first}` to have closed before `{then}` began closing"),
        )
    }

    /// Panics unless `phase` ran and ended within its deadline.
    #[track_caller]
    pub fn assert_within_deadline(&self, phase: Phase) -> &Self {
        self.check(
            self.phase(phase).is_some_and(|p| p.within_deadline),
            &format!("phase {phase} to end within its deadline"),
        )
    }

    /// Panics unless the whole shutdown took at most `limit` (on the run's clock).
    #[track_caller]
    pub fn assert_total_at_most(&self, limit: Duration) -> &Self {
        self.check(
            self.total() <= limit,
            &format!(
                "the shutdown to take at most {limit:?}, took {:?}",
                self.total()
            ),
        )
    }

    #[track_caller]
    fn assert_outcome(&self, name: &str, what: &str, f: impl Fn(&CloseOutcome) -> bool) -> &Self {
        let record = self.report().resource(name);
        let expected = match record {
            Some(r) => format!("resource `{name}` {what}, got {:?}", r.outcome),
            None => format!("resource `{name}` {what}, but it is not in the report"),
        };
        self.check(record.is_some_and(|r| f(&r.outcome)), &expected)
    }

    #[track_caller]
    fn check(&self, ok: bool, expected: &str) -> &Self {
        if !ok {
            panic!("expected {expected}\n{self}");
        }
        self
    }
}

impl std::fmt::Display for TestOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.report())?;
        writeln!(f, "  exit code {:?}", self.exit_code())?;
        writeln!(f, "timeline:")?;
        write!(f, "{}", self.timeline)
    }
}
