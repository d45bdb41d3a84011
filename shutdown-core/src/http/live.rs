//! The connection tasks of one [`serve`](crate::http::serve) that are still running, counted
//! so that the server wakes once, when the last one ends, instead of once per connection.
//!
//! Each connection task holds a [`LiveGuard`]; dropping the last one wakes the server. Costs one
//! uncontended atomic add when a connection opens and one subtraction when it ends; the
//! server's `Notify` is touched only when the count reaches zero.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

/// The count of running connection tasks, and the server waiting for it to reach zero.
#[derive(Default)]
pub(crate) struct Live {
    count: AtomicUsize,
    none: Notify,
}

impl Live {
    /// Counts one more connection task until the guard is dropped.
    pub(crate) fn enter(self: &Arc<Self>) -> LiveGuard {
        self.count.fetch_add(1, Ordering::Relaxed);
        LiveGuard(self.clone())
    }

    /// Connection tasks running now.
    pub(crate) fn len(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// Resolves once no connection task is running.
    pub(crate) async fn none(&self) {
        // `notify_one` keeps a permit when nobody waits yet, so a task that ends between the
        // load and the wait is not missed; a permit left from an earlier zero costs one loop.
        while self.len() != 0 {
            self.none.notified().await;
        }
    }
}

/// Held by one connection task for its whole life (see [`Live::enter`]).
pub(crate) struct LiveGuard(Arc<Live>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.none.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn resolves_when_the_last_guard_drops_and_not_before() {
        let live = Arc::new(Live::default());
        live.none().await;
        let (a, b) = (live.enter(), live.enter());
        let waiting = tokio::spawn({
            let live = live.clone();
            async move { live.none().await }
        });
        drop(a);
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "one connection is still running");
        assert_eq!(live.len(), 1);
        drop(b);
        waiting.await.expect("the wait ends");
        assert_eq!(live.len(), 0);
    }
}
