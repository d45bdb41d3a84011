//! How many request handlers panicked and were answered `500` by
//! [`http::serve`](crate::http::serve): one count per engine, read by the report
//! ([`ShutdownReport::http_panics`](crate::report::ShutdownReport::http_panics)) and the admin API's
//! `/status`. It lives outside `http` so that the report has the field in every build; without
//! the `hyper` feature it stays 0.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::report::ShutdownReport;
use crate::shutdown::Extension;

/// The engine's count of caught handler panics.
#[derive(Default)]
pub(crate) struct HandlerPanics(AtomicU64);

impl Extension for HandlerPanics {
    /// The report's [`http_panics`](crate::report::ShutdownReport::http_panics).
    fn report(&self, report: &mut ShutdownReport) {
        report.http_panics = self.count();
    }
}

impl HandlerPanics {
    /// Counts one more; returns the new total.
    #[cfg_attr(
        not(feature = "hyper"),
        allow(dead_code, reason = "only serve catches")
    )]
    pub(crate) fn add(&self) -> u64 {
        self.0.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The count so far.
    pub(crate) fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}
