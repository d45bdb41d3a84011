//! What every connection of one [`serve`](crate::http::serve) shares: the stage of the
//! shutdown the server is in, and the settings read once per server
//! (late requests, the grace, the panic policy).

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use http::HeaderValue;

use super::config::{HttpConfig, LateRequests};

/// Where one `serve` is in the shutdown, as its connections see it. Only moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Stage {
    /// Serving normally.
    Running = 0,
    /// The lame-duck window (`readiness_delay`, when `lame_duck` is on): still accepting,
    /// but each HTTP/1 response carries `Connection: close` and HTTP/2 connections get GOAWAY.
    LameDuck = 1,
    /// The listener is closed (the phase reached `DrainingConnections`); connections have
    /// the request grace to send their next request.
    Draining = 2,
    /// The request grace is over: connections that are still open close (after the request
    /// they are reading, if any).
    GraceOver = 3,
    /// The drain deadline passed, or the server's future was dropped: connections still open
    /// end at once, whatever they were doing.
    Aborted = 4,
}

/// Settings and state of one `serve`, shared by its connections.
pub(crate) struct Shared {
    stage: AtomicU8,
    pub(crate) late: LateRequests,
    pub(crate) retry_after: HeaderValue,
    /// [`HttpConfig::request_grace`], already bounded by the drain deadline.
    pub(crate) grace: Duration,
    /// `[http] fatal_panics`: a panicking handler starts the shutdown (see `panic`).
    pub(crate) fatal_panics: bool,
}

impl Shared {
    /// `drain_timeout` bounds the grace (see [`HttpConfig::grace_within`]).
    pub(crate) fn new(config: &HttpConfig, drain_timeout: Duration) -> Self {
        Shared {
            stage: AtomicU8::new(Stage::Running as u8),
            late: config.late_requests,
            retry_after: HeaderValue::from(config.retry_after_secs()),
            grace: config.grace_within(drain_timeout),
            fatal_panics: config.fatal_panics,
        }
    }

    /// Moves to `stage` (never back). The caller then wakes the connections.
    pub(crate) fn enter(&self, stage: Stage) {
        self.stage.fetch_max(stage as u8, Ordering::AcqRel);
    }

    /// The stage now: one atomic load.
    #[inline]
    pub(crate) fn stage(&self) -> Stage {
        match self.stage.load(Ordering::Acquire) {
            0 => Stage::Running,
            1 => Stage::LameDuck,
            2 => Stage::Draining,
            3 => Stage::GraceOver,
            _ => Stage::Aborted,
        }
    }

    /// Whether the listener is closed.
    #[inline]
    pub(crate) fn is_draining(&self) -> bool {
        self.stage() >= Stage::Draining
    }

    /// Whether an HTTP/1 response should close its connection (lame duck or draining).
    #[inline]
    pub(crate) fn closes_connections(&self) -> bool {
        self.stage() != Stage::Running
    }
}
