//! The rules between core keys, written once: the engine checks them on the effective
//! configuration (naming each value's source), `#[graceful::main]` checks them on its
//! arguments at compile time (spanning the argument). Each side words the message for where
//! the values were written; the arithmetic is here.

use std::time::Duration;

/// The deadlines the rules relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// `timeout`.
    pub timeout: Duration,
    /// `drain_timeout`.
    pub drain_timeout: Duration,
    /// `readiness_delay`.
    pub readiness_delay: Duration,
    /// `resource_close_timeout`.
    pub resource_close_timeout: Duration,
}

impl std::default::Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            timeout: crate::defaults::TIMEOUT,
            drain_timeout: crate::defaults::DRAIN_TIMEOUT,
            readiness_delay: crate::defaults::READINESS_DELAY,
            resource_close_timeout: crate::defaults::RESOURCE_CLOSE_TIMEOUT,
        }
    }
}

/// A broken rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Broken {
    /// `timeout` is zero: no time to shut down.
    ZeroTimeout,
    /// `readiness_delay + drain_timeout` (the sum) is longer than `timeout`: the overall
    /// timeout bounds every phase.
    DrainPastTimeout {
        /// `readiness_delay + drain_timeout`.
        sum: Duration,
    },
    /// `resource_close_timeout` is longer than `timeout`: one close may not outlast the
    /// whole shutdown.
    ClosePastTimeout,
}

impl Deadlines {
    /// Every rule the deadlines break, in this order: zero timeout, the drain, the close.
    pub fn check(&self) -> Vec<Broken> {
        let mut out = Vec::new();
        if self.timeout.is_zero() {
            out.push(Broken::ZeroTimeout);
        }
        let sum = self.readiness_delay.saturating_add(self.drain_timeout);
        if sum > self.timeout {
            out.push(Broken::DrainPastTimeout { sum });
        }
        if self.resource_close_timeout > self.timeout {
            out.push(Broken::ClosePastTimeout);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn the_defaults_keep_every_rule() {
        assert_eq!(Deadlines::default().check(), []);
    }

    #[test]
    fn the_delay_and_the_drain_must_fit_in_the_timeout() {
        let d = Deadlines {
            timeout: S(10),
            drain_timeout: S(8),
            readiness_delay: S(3),
            resource_close_timeout: S(5),
        };
        assert_eq!(d.check(), [Broken::DrainPastTimeout { sum: S(11) }]);
        let fits = Deadlines {
            readiness_delay: S(2),
            ..d
        };
        assert_eq!(fits.check(), [], "equal is allowed");
    }

    #[test]
    fn a_close_past_the_timeout_and_a_zero_timeout_are_named() {
        let d = Deadlines {
            timeout: Duration::ZERO,
            drain_timeout: Duration::ZERO,
            readiness_delay: Duration::ZERO,
            resource_close_timeout: S(1),
        };
        assert_eq!(d.check(), [Broken::ZeroTimeout, Broken::ClosePastTimeout]);
    }
}
