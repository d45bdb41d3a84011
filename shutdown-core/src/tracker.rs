//! In-flight tracking: an RAII guard per unit of work, and a drain that wakes when the count
//! reaches zero.
//!
//! # Design
//!
//! The guard sits on every request's hot path, so it must not allocate and must not bounce a
//! shared cache line between cores. Like Linux's `percpu_ref`, counts are sharded while running:
//! each thread owns one shard (a cache-line-padded pair of monotonic counters `acquired` and
//! `released`). A guard adds to `acquired` of the thread that creates it and to `released` of
//! the thread that drops it, so a guard may move between threads freely. The number in flight
//! is `Σ acquired − Σ released`.
//!
//! The drain sets `draining` and then scans, reading every `released` before every `acquired`.
//! Because both counters only grow, an equal pair of sums proves that, at an instant between the
//! two passes, no guard was outstanding. A guard dropped while draining wakes the drain through a
//! `Notify`; the scan and the flag form a Dekker pair (`SeqCst` on both sides), so no wake-up is
//! lost. There is no polling interval.
//!
//! Guards do not hold an `Arc` (cloning one would be exactly the shared atomic we avoid). They
//! hold a `&'static` reference to a slot from a process-wide pool: a slot goes back to the pool
//! when its engine is dropped with nothing in flight, and is kept (never freed, never reused)
//! if guards outlive their engine. No `unsafe` is involved.

use std::cell::Cell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use tokio::sync::Notify;

/// Number of shards per tracker. Threads beyond this share shards (with atomic RMW).
const SHARDS: usize = 64;

#[repr(align(128))]
#[derive(Default)]
struct Shard {
    acquired: AtomicU64,
    released: AtomicU64,
}

struct Slot {
    shards: [Shard; SHARDS],
    draining: AtomicBool,
    notify: Notify,
}

impl Slot {
    fn new() -> Self {
        Slot {
            shards: std::array::from_fn(|_| Shard::default()),
            draining: AtomicBool::new(false),
            notify: Notify::new(),
        }
    }

    /// In flight now: `Σ acquired − Σ released`, reading `released` first (so the result is
    /// never below the true count at the moment between the passes).
    fn count(&self) -> u64 {
        let released: u64 = self.shards.iter().map(|s| s.released.load(Ordering::SeqCst)).sum();
        let acquired: u64 = self.shards.iter().map(|s| s.acquired.load(Ordering::SeqCst)).sum();
        acquired.saturating_sub(released)
    }

    fn reset(&self) {
        for s in &self.shards {
            s.acquired.store(0, Ordering::SeqCst);
            s.released.store(0, Ordering::SeqCst);
        }
        self.draining.store(false, Ordering::SeqCst);
    }
}

static POOL: Mutex<Vec<&'static Slot>> = Mutex::new(Vec::new());
static NEXT_THREAD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's shard index; below `SHARDS` the shard is written by this thread only.
    static THREAD_INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
}

#[inline]
fn thread_index() -> usize {
    THREAD_INDEX.with(|c| {
        let i = c.get();
        if i != usize::MAX {
            return i;
        }
        let i = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
        c.set(i);
        i
    })
}

/// Counts units of in-flight work. Owned by the engine; hand out [`TrackGuard`]s.
pub(crate) struct Tracker {
    slot: &'static Slot,
}

impl Tracker {
    pub(crate) fn new() -> Self {
        let reused = POOL.lock().ok().and_then(|mut pool| pool.pop());
        let slot = reused.unwrap_or_else(|| Box::leak(Box::new(Slot::new())));
        Tracker { slot }
    }

    #[inline]
    pub(crate) fn track(&self) -> TrackGuard {
        let i = thread_index();
        let shard = &self.slot.shards[i % SHARDS];
        if i < SHARDS {
            // Only this thread writes `acquired` of its own shard: a plain load/store suffices.
            let v = shard.acquired.load(Ordering::Relaxed);
            shard.acquired.store(v + 1, Ordering::Release);
        } else {
            shard.acquired.fetch_add(1, Ordering::Release);
        }
        TrackGuard { slot: self.slot }
    }

    /// Units currently in flight (exact when nothing is being acquired concurrently).
    pub(crate) fn count(&self) -> u64 {
        self.slot.count()
    }

    /// Resolves as soon as nothing is in flight. Switches the tracker to draining mode, in which
    /// every dropped guard wakes the waiters.
    pub(crate) async fn wait_idle(&self) {
        self.slot.draining.store(true, Ordering::SeqCst);
        loop {
            let notified = self.slot.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.slot.count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        // With no handle left nobody can acquire; if nothing is outstanding the slot is quiet
        // for good and can serve another engine. Otherwise live guards still point at it.
        if self.slot.count() == 0 {
            self.slot.reset();
            if let Ok(mut pool) = POOL.lock() {
                pool.push(self.slot);
            }
        }
    }
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracker").field("in_flight", &self.count()).finish()
    }
}

/// Marks one unit of in-flight work (a request, a job, a connection) until dropped.
///
/// Returned by [`Shutdown::track`](crate::Shutdown::track). `DrainingConnections` waits until
/// every guard is dropped (up to `drain_timeout`). Creating and dropping a guard does not
/// allocate and touches only the current thread's counters; it can be sent to other threads.
#[must_use = "the work counts as in flight only while the guard is alive"]
pub struct TrackGuard {
    slot: &'static Slot,
}

impl Drop for TrackGuard {
    #[inline]
    fn drop(&mut self) {
        let shard = &self.slot.shards[thread_index() % SHARDS];
        // SeqCst RMW + SeqCst load pairs with the drain's SeqCst store + scan (Dekker).
        shard.released.fetch_add(1, Ordering::SeqCst);
        if self.slot.draining.load(Ordering::SeqCst) {
            self.slot.notify.notify_waiters();
        }
    }
}

impl std::fmt::Debug for TrackGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackGuard").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn counts_guards_across_threads() {
        let t = Arc::new(Tracker::new());
        let guards: Vec<TrackGuard> = (0..10).map(|_| t.track()).collect();
        assert_eq!(t.count(), 10);
        // Drop half of them on other threads.
        let mut guards = guards.into_iter();
        let moved: Vec<TrackGuard> = guards.by_ref().take(5).collect();
        std::thread::spawn(move || drop(moved)).join().expect("thread");
        assert_eq!(t.count(), 5);
        drop(guards);
        assert_eq!(t.count(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wait_idle_wakes_when_the_last_guard_drops() {
        let t = Arc::new(Tracker::new());
        let g1 = t.track();
        let g2 = t.track();
        let waiter = {
            let t = t.clone();
            tokio::spawn(async move { t.wait_idle().await })
        };
        tokio::task::yield_now().await;
        drop(g1);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "one guard is still alive");
        std::thread::spawn(move || drop(g2)).join().expect("thread");
        tokio::time::timeout(Duration::from_secs(10), waiter)
            .await
            .expect("drain must end once the count is zero")
            .expect("join");
        assert_eq!(t.count(), 0);
    }

    #[tokio::test]
    async fn wait_idle_returns_at_once_when_idle() {
        let t = Tracker::new();
        tokio::time::timeout(Duration::from_secs(5), t.wait_idle()).await.expect("idle");
    }

    #[test]
    fn many_threads_balance_out() {
        let t = Arc::new(Tracker::new());
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let t = t.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        let g = t.track();
                        drop(g);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("thread");
        }
        assert_eq!(t.count(), 0);
    }
}
