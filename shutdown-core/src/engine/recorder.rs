//! Bookkeeping shared by the phases of one shutdown.

use std::time::Instant;

use crate::error::DeadlineExceeded;
use crate::phase::Phase;
use crate::report::PhaseRecord;
use crate::shutdown::Shutdown;

/// Clocks and records of the running shutdown.
pub(crate) struct Recorder {
    /// When the shutdown was triggered.
    pub(crate) start: Instant,
    /// The engine's own deadline: a little before the overall timeout, so the engine
    /// finishes and reports before the watchdog would exit the process.
    pub(crate) deadline: Instant,
    pub(crate) phases: Vec<PhaseRecord>,
    pub(crate) deadlines: Vec<DeadlineExceeded>,
    pub(crate) forced: bool,
    current: Option<(Phase, Instant, bool)>,
}

impl Recorder {
    pub(crate) fn new(start: Instant, timeout: std::time::Duration) -> Self {
        let margin = (timeout / 10).min(std::time::Duration::from_millis(500));
        Recorder {
            start,
            deadline: start + timeout.saturating_sub(margin),
            phases: Vec::new(),
            deadlines: Vec::new(),
            forced: false,
            current: None,
        }
    }

    /// Ends the current phase and enters `phase`.
    pub(crate) fn enter(&mut self, shutdown: &Shutdown, phase: Phase) {
        self.finish_current();
        self.current = Some((phase, Instant::now(), true));
        shutdown.set_phase(phase);
    }

    /// Marks the current phase as having missed a deadline.
    pub(crate) fn missed(
        &mut self,
        what: impl Into<String>,
        limit: std::time::Duration,
        shutdown: &Shutdown,
    ) {
        let what = what.into();
        self.forced = true;
        if let Some((phase, _, within)) = self.current.as_mut() {
            *within = false;
            self.deadlines.push(DeadlineExceeded {
                phase: *phase,
                what: what.clone(),
                limit,
            });
        }
        shutdown.emit(crate::shutdown::Event::Deadline { what });
    }

    pub(crate) fn finish_current(&mut self) {
        if let Some((phase, began, within)) = self.current.take() {
            self.phases.push(PhaseRecord {
                phase,
                started: began.duration_since(self.start),
                duration: began.elapsed(),
                within_deadline: within,
            });
        }
    }

    /// Time left before the engine's deadline.
    pub(crate) fn remaining(&self) -> std::time::Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}
