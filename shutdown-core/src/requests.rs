//! The HTTP requests the drain waited for or refused, one list per engine: written by
//! [`http::serve`](crate::http::serve) and read by the report
//! ([`ShutdownReport::requests`](crate::report::ShutdownReport::requests)). It lives outside `http` so
//! that the report has the field in every build; without the `hyper` feature it stays empty.
//!
//! Cost: nothing per request while the service runs. When a `serve`'s listener closes, it
//! lists the requests it is still answering (one lock, one entry each); the end of each
//! listed request, and each refusal during the drain, takes the lock once more. The list
//! keeps at most [`REQUESTS_KEPT`] entries; refusals past that are only counted.

use std::time::{Duration, Instant};

use crate::report::{DrainedRequest, REQUESTS_KEPT, RequestOutcome};
use crate::shutdown::Extension;
use crate::sync::lock;

/// Where a listed request's entry is, to record its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "hyper"), allow(dead_code, reason = "only serve lists"))]
pub(crate) struct Slot(usize);

/// The engine's list of drained and refused requests.
#[derive(Default)]
pub(crate) struct DrainedRequests(std::sync::Mutex<Book>);

#[derive(Default)]
struct Book {
    /// The shutdown's start, the origin of every offset (set by the first entry).
    origin: Option<Instant>,
    entries: Vec<DrainedRequest>,
    not_kept: u64,
}

impl Book {
    fn offset(&self, at: Instant) -> Duration {
        self.origin
            .map_or(Duration::ZERO, |o| at.saturating_duration_since(o))
    }
}

impl Extension for DrainedRequests {
    /// The report's [`requests`](crate::report::ShutdownReport::requests) and
    /// [`requests_not_kept`](crate::report::ShutdownReport::requests_not_kept).
    fn report(&self, report: &mut crate::report::ShutdownReport) {
        (report.requests, report.requests_not_kept) = self.list();
    }
}

#[cfg_attr(not(feature = "hyper"), allow(dead_code, reason = "only serve lists"))]
impl DrainedRequests {
    /// Lists a request that started at `since`, of a shutdown that started at `origin`;
    /// `ended` says how it already ended (a refusal), else it runs. `None` when the list is
    /// full (the request is then counted, not listed).
    pub(crate) fn add(
        &self,
        origin: Instant,
        method: &str,
        path: &str,
        since: Instant,
        ended: Option<RequestOutcome>,
    ) -> Option<Slot> {
        let mut book = lock(&self.0);
        if book.entries.len() >= REQUESTS_KEPT {
            book.not_kept += 1;
            return None;
        }
        let origin = *book.origin.get_or_insert(origin);
        let started = since.saturating_duration_since(origin);
        let now = book.offset(Instant::now());
        book.entries.push(DrainedRequest {
            method: method.to_string(),
            path: path.to_string(),
            started,
            ended: ended.map(|_| now),
            outcome: ended.unwrap_or(RequestOutcome::Running),
        });
        Some(Slot(book.entries.len() - 1))
    }

    /// Records how the request at `slot` ended, unless it already has an end (an abandoned
    /// request that is dropped afterwards stays abandoned).
    pub(crate) fn end(&self, slot: Slot, outcome: RequestOutcome) {
        let mut book = lock(&self.0);
        let now = book.offset(Instant::now());
        if let Some(e) = book.entries.get_mut(slot.0)
            && e.outcome == RequestOutcome::Running
        {
            e.outcome = outcome;
            e.ended = Some(now);
        }
    }

    /// Marks every request still running as abandoned, now (the drain stopped waiting).
    pub(crate) fn abandon_running(&self) {
        let mut book = lock(&self.0);
        let now = book.offset(Instant::now());
        for e in &mut book.entries {
            if e.outcome == RequestOutcome::Running {
                e.outcome = RequestOutcome::Abandoned;
                e.ended = Some(now);
            }
        }
    }

    /// The list as it stands, and how many requests were only counted.
    pub(crate) fn list(&self) -> (Vec<DrainedRequest>, u64) {
        let book = lock(&self.0);
        (book.entries.clone(), book.not_kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_ends_abandons_and_counts_past_the_cap() {
        let book = DrainedRequests::default();
        let origin = Instant::now();
        let before = origin.checked_sub(Duration::from_secs(1)).unwrap_or(origin);
        let a = book
            .add(origin, "GET", "/slow", before, None)
            .expect("listed");
        let b = book
            .add(origin, "POST", "/upload", origin, None)
            .expect("listed");
        book.add(
            origin,
            "GET",
            "/late",
            origin,
            Some(RequestOutcome::Refused),
        );
        book.end(a, RequestOutcome::Served);
        book.abandon_running();
        book.end(b, RequestOutcome::Dropped);
        let (list, not_kept) = book.list();
        let outcomes: Vec<_> = list.iter().map(|r| (r.path.as_str(), r.outcome)).collect();
        assert_eq!(
            outcomes,
            [
                ("/slow", RequestOutcome::Served),
                ("/upload", RequestOutcome::Abandoned),
                ("/late", RequestOutcome::Refused),
            ]
        );
        assert_eq!(
            list[0].started,
            Duration::ZERO,
            "started before the shutdown"
        );
        assert!(list.iter().all(|r| r.ended.is_some()));
        assert_eq!(not_kept, 0);
        for _ in 0..REQUESTS_KEPT {
            book.add(origin, "GET", "/", origin, Some(RequestOutcome::Refused));
        }
        assert_eq!(book.list().0.len(), REQUESTS_KEPT);
        assert_eq!(book.list().1, 3, "the three past the cap are counted");
    }
}
