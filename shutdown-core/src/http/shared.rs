//! What every connection of one [`serve`](crate::http::serve) shares: the drain flag and
//! the late-request and panic policies.

use std::sync::atomic::{AtomicBool, Ordering};

use http::HeaderValue;

use super::config::{HttpConfig, LateRequests};

/// Settings and state of one `serve`, shared by its connections.
pub(crate) struct Shared {
    /// Set when the listener closed (the phase reached `DrainingConnections`).
    draining: AtomicBool,
    pub(crate) late: LateRequests,
    pub(crate) retry_after: HeaderValue,
    /// `[http] fatal_panics`: a panicking handler starts the shutdown (see `panic`).
    pub(crate) fatal_panics: bool,
}

impl Shared {
    pub(crate) fn new(config: &HttpConfig) -> Self {
        Shared {
            draining: AtomicBool::new(false),
            late: config.late_requests,
            retry_after: HeaderValue::from(config.retry_after_secs()),
            fatal_panics: config.fatal_panics,
        }
    }

    pub(crate) fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }

    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }
}
