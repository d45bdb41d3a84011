//! In-flight tracking: an RAII guard per unit of work, and a drain that wakes when the count
//! reaches zero.
//!
//! # Design
//!
//! The guard sits on every request's hot path, so it must not allocate and must not bounce a
//! shared cache line between cores. Like Linux's `percpu_ref`, counts are sharded while running:
//! each thread uses one shard (a cache-line-padded pair of monotonic counters `acquired` and
//! `released`). A guard adds to `acquired` of the thread that creates it and to `released` of
//! the thread that drops it, so a guard may move between threads freely. The number in flight
//! is `Σ acquired − Σ released`.
//!
//! Shard ownership: a thread claims one of `SHARDS` owned shard indices on its first guard and
//! gives it back when the thread exits (a thread-local destructor), so the indices of exited
//! threads (tokio's blocking pool starts and stops threads all the time) are reused. While a
//! thread owns index `i`, it is the only writer of `acquired` in shard `i` of every tracker,
//! which is what makes the plain load + store (no read-modify-write) on the acquire path
//! correct; the index changes hands under a mutex, so the next owner sees the last value. A
//! thread that finds every index taken (more than `SHARDS` threads alive at once), or whose
//! thread-locals are already being destroyed, uses the shared overflow shard, which is only
//! ever written with atomic read-modify-writes. `released` is always written with an atomic
//! read-modify-write (the drain's handshake below needs one anyway), so it never depends on
//! ownership.
//!
//! The drain sets `draining` and then scans, reading every `released` before every `acquired`.
//! Because both counters only grow, an equal pair of sums proves that, at an instant between the
//! two passes, no guard was outstanding: a release the scan counts synchronises with it (every
//! write to `released` is a read-modify-write, so the release sequence is unbroken), so the
//! matching acquire, which happened before that release, is counted too. A guard dropped while
//! draining wakes the drain through a `Notify`; the scan and the flag form a Dekker pair
//! (`SeqCst` on both sides), so no wake-up is lost. There is no polling interval.
//!
//! Waking the drain at every drop would cost a wake-up and a scan per guard, and a system call
//! each when the drain runs outside the runtime's workers (the engine's run is `block_on`'s
//! future): 10 000 connections closing together made 10 000 `futex` calls. So while draining
//! (and only then) every drop also counts itself in one shared counter, `drain_releases`, and
//! wakes the drain only once that counter reaches `wake_at`. A scan that finds `n` guards
//! outstanding sets `wake_at` to the counter's value before the scan plus `n`: each of those
//! `n` guards is released after the scan began, and such a release sees `draining` (the flag
//! is set before the counter is read) and so is counted, so the count cannot reach zero
//! before the counter reaches `wake_at`. A guard acquired while draining only makes a wake-up
//! come early, which a new scan corrects. `wake_at` and the counter are a second Dekker pair:
//! the drain re-reads the counter after setting `wake_at`, so a crossing it raced with is seen.
//!
//! The cost that remains on the hot path is that one read-modify-write per guard drop: a
//! `SeqCst` store→load pair needs a full fence on x86 and ARM alike. Linux's `percpu_ref`
//! avoids it with RCU (the switch to atomic mode waits for a grace period); a process-wide
//! barrier (`membarrier(2)`) would do the same in user space, at the price of a syscall
//! wrapper this crate does not have.
//!
//! Guards do not hold an `Arc` (cloning one would be exactly the shared atomic we avoid). They
//! hold a `&'static` reference to a slot from a process-wide pool: a slot goes back to the pool
//! when its engine is dropped with nothing in flight, and is kept (never freed, never reused)
//! if guards outlive their engine. No `unsafe` is involved.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::sync::Notify;

use crate::sync::lock;

/// Number of owned shards per tracker; the shared overflow shard comes after them.
const SHARDS: usize = 64;
/// Index of the overflow shard, used by threads that own no shard (atomic RMW only).
const OVERFLOW: usize = SHARDS;

#[repr(align(128))]
#[derive(Default)]
struct Shard {
    acquired: AtomicU64,
    released: AtomicU64,
}

struct Slot {
    shards: [Shard; SHARDS + 1],
    draining: AtomicBool,
    /// Guards dropped while draining (see "Design").
    drain_releases: AtomicU64,
    /// The value of `drain_releases` at which a drop wakes the drain.
    wake_at: AtomicU64,
    notify: Notify,
}

impl Slot {
    fn new() -> Self {
        Slot {
            shards: std::array::from_fn(|_| Shard::default()),
            draining: AtomicBool::new(false),
            drain_releases: AtomicU64::new(0),
            wake_at: AtomicU64::new(0),
            notify: Notify::new(),
        }
    }

    /// In flight now: `Σ acquired − Σ released`, reading `released` first (so the result is
    /// never below the true count at the moment between the passes).
    fn count(&self) -> u64 {
        let released: u64 = self
            .shards
            .iter()
            .map(|s| s.released.load(Ordering::SeqCst))
            .sum();
        let acquired: u64 = self
            .shards
            .iter()
            .map(|s| s.acquired.load(Ordering::SeqCst))
            .sum();
        acquired.saturating_sub(released)
    }

    fn reset(&self) {
        for s in &self.shards {
            s.acquired.store(0, Ordering::SeqCst);
            s.released.store(0, Ordering::SeqCst);
        }
        self.draining.store(false, Ordering::SeqCst);
        self.drain_releases.store(0, Ordering::SeqCst);
        self.wake_at.store(0, Ordering::SeqCst);
    }
}

static POOL: Mutex<Vec<&'static Slot>> = Mutex::new(Vec::new());

/// Owned shard indices: never handed out yet (`next..SHARDS`) and given back by exited threads.
struct Indices {
    next: usize,
    free: Vec<usize>,
}

static INDICES: Mutex<Indices> = Mutex::new(Indices {
    next: 0,
    free: Vec::new(),
});

/// The shard index a thread uses; an owned one goes back to [`INDICES`] when the thread exits.
struct ThreadShard(usize);

impl ThreadShard {
    fn claim() -> Self {
        let mut indices = lock(&INDICES);
        if let Some(i) = indices.free.pop() {
            return ThreadShard(i);
        }
        if indices.next < SHARDS {
            indices.next += 1;
            return ThreadShard(indices.next - 1);
        }
        ThreadShard(OVERFLOW)
    }
}

impl Drop for ThreadShard {
    fn drop(&mut self) {
        // After this the thread-local is gone: any later guard on this thread (from another
        // thread-local's destructor) uses the overflow shard, so the index has one writer.
        if self.0 < SHARDS {
            lock(&INDICES).free.push(self.0);
        }
    }
}

thread_local! {
    /// This thread's shard index; below `SHARDS` only this thread writes that shard's
    /// `acquired`.
    static THREAD_SHARD: ThreadShard = ThreadShard::claim();
}

#[inline]
fn thread_index() -> usize {
    THREAD_SHARD.try_with(|s| s.0).unwrap_or(OVERFLOW)
}

/// Counts units of in-flight work. Owned by the engine; hand out [`TrackGuard`]s.
pub(crate) struct Tracker {
    slot: &'static Slot,
}

impl Tracker {
    pub(crate) fn new() -> Self {
        let reused = lock(&POOL).pop();
        let slot = reused.unwrap_or_else(|| Box::leak(Box::new(Slot::new())));
        Tracker { slot }
    }

    #[inline]
    pub(crate) fn track(&self) -> TrackGuard {
        let i = thread_index();
        let shard = &self.slot.shards[i];
        if i < SHARDS {
            // This thread owns index `i`: it is the only writer of this `acquired`, so a plain
            // load + store suffices (see "Shard ownership" above).
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
    /// dropped guards are also counted in one shared counter, and wake the waiters once as
    /// many have been dropped as the last scan found outstanding.
    pub(crate) async fn wait_idle(&self) {
        self.slot.draining.store(true, Ordering::SeqCst);
        loop {
            let notified = self.slot.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let before = self.slot.drain_releases.load(Ordering::SeqCst);
            let outstanding = self.slot.count();
            if outstanding == 0 {
                return;
            }
            let wake_at = before + outstanding;
            self.slot.wake_at.store(wake_at, Ordering::SeqCst);
            // The drop that reached `wake_at` may have read the previous value: scan again.
            if self.slot.drain_releases.load(Ordering::SeqCst) >= wake_at {
                continue;
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
            lock(&POOL).push(self.slot);
        }
    }
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracker")
            .field("in_flight", &self.count())
            .finish()
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
        let shard = &self.slot.shards[thread_index()];
        // SeqCst RMW + SeqCst load pairs with the drain's SeqCst store + scan (Dekker).
        shard.released.fetch_add(1, Ordering::SeqCst);
        if self.slot.draining.load(Ordering::SeqCst) {
            let dropped = self.slot.drain_releases.fetch_add(1, Ordering::SeqCst) + 1;
            if dropped >= self.slot.wake_at.load(Ordering::SeqCst) {
                self.slot.notify.notify_waiters();
            }
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
        std::thread::spawn(move || drop(moved))
            .join()
            .expect("thread");
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

    /// Guards dropped one by one, with the drain polled between two drops (as when it runs on
    /// another thread), wake it once, when the last one goes, not once per guard.
    #[test]
    fn dropping_guards_one_by_one_wakes_the_drain_once() {
        struct Wakes(std::sync::atomic::AtomicUsize);
        impl std::task::Wake for Wakes {
            fn wake(self: Arc<Self>) {
                self.wake_by_ref();
            }
            fn wake_by_ref(self: &Arc<Self>) {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
        const GUARDS: usize = 1000;
        let t = Tracker::new();
        let mut guards: Vec<TrackGuard> = (0..GUARDS).map(|_| t.track()).collect();
        let wakes = Arc::new(Wakes(std::sync::atomic::AtomicUsize::new(0)));
        let waker = std::task::Waker::from(wakes.clone());
        let mut cx = std::task::Context::from_waker(&waker);
        let idle = t.wait_idle();
        tokio::pin!(idle);
        assert!(idle.as_mut().poll(&mut cx).is_pending());
        while let Some(g) = guards.pop() {
            drop(g);
            let polled = idle.as_mut().poll(&mut cx);
            assert_eq!(
                polled.is_ready(),
                guards.is_empty(),
                "{} left",
                guards.len()
            );
        }
        assert_eq!(
            wakes.0.load(Ordering::Relaxed),
            1,
            "wake-ups for {GUARDS} drops"
        );
    }

    #[tokio::test]
    async fn wait_idle_returns_at_once_when_idle() {
        let t = Tracker::new();
        tokio::time::timeout(Duration::from_secs(5), t.wait_idle())
            .await
            .expect("idle");
    }

    /// More threads alive at once than there are owned shards: the extra ones share the
    /// overflow shard, and no increment is lost to an owner's plain store.
    #[test]
    fn more_threads_than_shards_lose_no_count() {
        const THREADS: usize = SHARDS + 16;
        let t = Arc::new(Tracker::new());
        let start = Arc::new(std::sync::Barrier::new(THREADS + 1));
        let hold = Arc::new(std::sync::Barrier::new(THREADS + 1));
        let release = Arc::new(std::sync::Barrier::new(THREADS + 1));
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (t, start, hold, release) =
                    (t.clone(), start.clone(), hold.clone(), release.clone());
                std::thread::spawn(move || {
                    start.wait();
                    for _ in 0..2_000 {
                        drop(t.track());
                    }
                    let g = t.track();
                    hold.wait();
                    release.wait();
                    drop(g);
                })
            })
            .collect();
        start.wait();
        hold.wait();
        assert_eq!(t.count(), THREADS as u64, "every held guard is counted");
        release.wait();
        for h in handles {
            h.join().expect("thread");
        }
        assert_eq!(t.count(), 0);
    }

    /// A thread started after many others came and went must not write the `acquired` of a
    /// shard a live thread owns: two writers there lose increments, the count drops below
    /// what is in flight, and the drain would end with work still running.
    #[test]
    fn late_thread_never_shares_a_live_threads_shard() {
        const N: u64 = 1_000_000;
        let t = Arc::new(Tracker::new());
        let go = Arc::new(std::sync::Barrier::new(2));
        let hammer = |t: Arc<Tracker>, go: Arc<std::sync::Barrier>| {
            move || {
                drop(t.track()); // claims this thread's shard
                go.wait();
                for _ in 0..N {
                    // Held forever: the count must end at exactly 2 N.
                    std::mem::forget(t.track());
                }
            }
        };
        let early = std::thread::spawn(hammer(t.clone(), go.clone()));
        // With indices handed out round-robin and never reused, the thread started after
        // `SHARDS - 1` others would land on the early thread's shard.
        for _ in 0..(SHARDS - 1) {
            let t = t.clone();
            std::thread::spawn(move || drop(t.track()))
                .join()
                .expect("thread");
        }
        let late = std::thread::spawn(hammer(t.clone(), go));
        early.join().expect("thread");
        late.join().expect("thread");
        assert_eq!(t.count(), 2 * N, "no increment may be lost");
    }

    /// Threads come and go (like tokio's blocking pool): their shard indices are reused, and
    /// counts written under an index by an exited thread stay correct for the next owner.
    #[test]
    fn shard_indices_of_exited_threads_are_reused() {
        let t = Arc::new(Tracker::new());
        let mut held = Vec::new();
        for _ in 0..(SHARDS * 3) {
            let t = t.clone();
            let (g, index) = std::thread::spawn(move || {
                drop(t.track());
                (t.track(), thread_index())
            })
            .join()
            .expect("thread");
            assert!(index <= OVERFLOW);
            held.push(g);
        }
        assert_eq!(t.count(), (SHARDS * 3) as u64);
        // Far more threads than shards have run; with reuse they did not all end up in the
        // overflow shard (other tests of this binary may hold some indices meanwhile).
        let overflow = t.slot.shards[OVERFLOW].acquired.load(Ordering::SeqCst);
        assert!(
            overflow < (SHARDS * 3 * 2) as u64,
            "exited threads' indices are reused"
        );
        drop(held);
        assert_eq!(t.count(), 0);
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
