//! The phases a shutdown goes through, in order.

use std::fmt;

/// Where the service is in its life. Phases only move forward.
///
/// A shutdown walks `Running → Initiated → StoppingNewRequests → DrainingConnections →
/// SavingState → ClosingResources → FlushingBuffers` and ends in [`Phase::Completed`], or in
/// [`Phase::Forced`] when any deadline was hit. Every transition is a `tracing` event
/// (target `graceful::phase`) and an update of [`Shutdown::phase`](crate::Shutdown::phase).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Phase {
    /// Serving normally; readiness is true.
    Running,
    /// A trigger fired (signal, [`Shutdown::trigger`](crate::Shutdown::trigger), `main`
    /// returning, a failing resource). Exactly one shutdown starts.
    Initiated,
    /// Readiness is false. During `readiness_delay` listeners still accept, so load balancers
    /// that have not noticed yet lose nothing; then listeners stop accepting.
    StoppingNewRequests,
    /// Waiting, up to `drain_timeout`, for tracked in-flight work to reach zero.
    DrainingConnections,
    /// Save-state hooks write what must survive a restart.
    SavingState,
    /// Resources close in ascending priority; equal priorities close concurrently.
    ClosingResources,
    /// Flush hooks run (telemetry, logs, buffers).
    FlushingBuffers,
    /// The shutdown finished within every deadline.
    Completed,
    /// The shutdown finished, but at least one deadline expired or the shutdown was forced.
    Forced,
}

impl Phase {
    /// The phases a shutdown walks through after [`Phase::Running`], in order, excluding the
    /// terminal phase.
    pub const SEQUENCE: [Phase; 6] = [
        Phase::Initiated,
        Phase::StoppingNewRequests,
        Phase::DrainingConnections,
        Phase::SavingState,
        Phase::ClosingResources,
        Phase::FlushingBuffers,
    ];

    /// `true` for [`Phase::Completed`] and [`Phase::Forced`].
    pub fn is_finished(self) -> bool {
        matches!(self, Phase::Completed | Phase::Forced)
    }

    /// `true` once a shutdown has started (any phase after [`Phase::Running`]).
    pub fn is_shutting_down(self) -> bool {
        self != Phase::Running
    }

    /// The phase's name in `snake_case`, as used in logs, metrics and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Running => "running",
            Phase::Initiated => "initiated",
            Phase::StoppingNewRequests => "stopping_new_requests",
            Phase::DrainingConnections => "draining_connections",
            Phase::SavingState => "saving_state",
            Phase::ClosingResources => "closing_resources",
            Phase::FlushingBuffers => "flushing_buffers",
            Phase::Completed => "completed",
            Phase::Forced => "forced",
        }
    }

    /// A coarse state for operators: `RUNNING`, `STOPPING` or `STOPPED`.
    pub fn state(self) -> &'static str {
        match self {
            Phase::Running => "RUNNING",
            Phase::Completed | Phase::Forced => "STOPPED",
            _ => "STOPPING",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_is_ordered_and_excludes_ends() {
        let mut prev = Phase::Running;
        for p in Phase::SEQUENCE {
            assert!(p > prev, "{p} must come after {prev}");
            assert!(!p.is_finished());
            prev = p;
        }
        assert!(Phase::Completed > Phase::FlushingBuffers);
        assert!(Phase::Forced.is_finished());
        assert_eq!(Phase::DrainingConnections.state(), "STOPPING");
        assert_eq!(Phase::Running.to_string(), "running");
    }
}
