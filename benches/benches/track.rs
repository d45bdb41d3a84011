//! Acquire + release of one in-flight guard: graceful's `Shutdown::track()` against
//! `tokio_util::task::TaskTracker::token()` and a `tokio_graceful::ShutdownGuard` clone, in
//! the same run.
//!
//! ```text
//! cargo bench -p graceful-benches --bench track -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! * `track/1-thread/*`: one thread, nothing else touching the tracker.
//! * `track/2-threads/*`: two OS threads each doing N acquire+release on the same tracker at
//!   the same time; the figure is the time of one acquire+release on one thread while the
//!   other thread hammers the same tracker. After each, a line says how much of that wall time
//!   the threads were actually on a CPU (Linux schedstat) and their on-CPU time per operation:
//!   on a shared machine the wall time includes waiting for a core. The row "one engine per
//!   thread" is the same harness with nothing shared, i.e. its floor on this machine.
//!
//! Before the timed part it counts the allocations of 1 000 000 acquire+release of each guard
//! (a counting global allocator) and fails if graceful's guard allocates.

use std::alloc::System;
use std::cell::Cell;
use std::hint::black_box;
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use criterion::Criterion;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const ALLOC_ROUNDS: u64 = 1_000_000;

/// The three trackers under test, each ready to hand out guards.
struct Peers {
    graceful: graceful::Shutdown,
    task_tracker: tokio_util::task::TaskTracker,
    tokio_graceful: tokio_graceful::ShutdownGuard,
    // Keeps the runtime that tokio-graceful's `Shutdown` spawned its signal task on.
    _tokio_graceful_shutdown: tokio_graceful::Shutdown,
    _runtime: tokio::runtime::Runtime,
}

impl Peers {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let tokio_graceful_shutdown = {
            let _enter = runtime.enter();
            tokio_graceful::Shutdown::new(std::future::pending::<()>())
        };
        let graceful = graceful::Graceful::builder()
            .signals([])
            .build()
            .expect("valid configuration")
            .shutdown();
        Peers {
            graceful,
            task_tracker: tokio_util::task::TaskTracker::new(),
            tokio_graceful: tokio_graceful_shutdown.guard(),
            _tokio_graceful_shutdown: tokio_graceful_shutdown,
            _runtime: runtime,
        }
    }
}

/// Allocations (all threads) during `ALLOC_ROUNDS` calls of `op`, after one warm-up call
/// (a thread's first guard may register its thread-local state).
fn allocations(op: impl Fn()) -> usize {
    op();
    let region = Region::new(GLOBAL);
    for _ in 0..ALLOC_ROUNDS {
        op();
    }
    region.change().allocations
}

fn check_allocations(p: &Peers) {
    let graceful = allocations(|| drop(black_box(p.graceful.track())));
    let task_tracker = allocations(|| drop(black_box(p.task_tracker.token())));
    let tokio_graceful = allocations(|| drop(black_box(p.tokio_graceful.clone())));
    println!("allocations during {ALLOC_ROUNDS} acquire+release:");
    println!("  graceful Shutdown::track()      {graceful}");
    println!("  tokio-util TaskTracker::token() {task_tracker}");
    println!("  tokio-graceful guard.clone()    {tokio_graceful}");
    assert_eq!(graceful, 0, "graceful's TrackGuard must not allocate");
}

/// Two long-lived OS threads that run `op` `iters` times each, starting together. They live
/// as long as the benchmark (like a runtime's worker threads), so no thread is created
/// inside the measurement.
struct Pair {
    jobs: Vec<mpsc::Sender<u64>>,
    done: mpsc::Receiver<(Duration, Option<Duration>)>,
    threads: Vec<JoinHandle<()>>,
    /// Totals over every `run`: operations per thread, wall time and on-CPU time (both
    /// threads summed).
    totals: Cell<(u64, Duration, Option<Duration>)>,
}

/// This thread's time on a CPU so far (Linux `/proc/thread-self/schedstat`, nanoseconds), or
/// `None` where that file does not exist.
fn on_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

impl Pair {
    /// Both threads run the same `op`.
    fn new<F: Fn() + Send + Sync + 'static>(op: F) -> Self {
        let op = Arc::new(op);
        Self::new_per_thread(move || {
            let op = op.clone();
            move || op()
        })
    }

    /// Each thread runs the op that `make` returns when that thread starts.
    fn new_per_thread<M, F>(make: M) -> Self
    where
        M: Fn() -> F + Send + Sync + 'static,
        F: Fn(),
    {
        let make = Arc::new(make);
        let barrier = Arc::new(Barrier::new(2));
        let (done_tx, done) = mpsc::channel();
        let mut jobs = Vec::new();
        let mut threads = Vec::new();
        for _ in 0..2 {
            let (tx, rx) = mpsc::channel::<u64>();
            let (make, barrier, done_tx) = (make.clone(), barrier.clone(), done_tx.clone());
            threads.push(std::thread::spawn(move || {
                let op = make();
                while let Ok(iters) = rx.recv() {
                    barrier.wait();
                    let cpu = on_cpu();
                    let start = Instant::now();
                    for _ in 0..iters {
                        op();
                    }
                    let wall = start.elapsed();
                    let cpu = on_cpu().zip(cpu).map(|(after, before)| after - before);
                    let _ = done_tx.send((wall, cpu));
                }
            }));
            jobs.push(tx);
        }
        Pair {
            jobs,
            done,
            threads,
            totals: Cell::new((0, Duration::ZERO, Some(Duration::ZERO))),
        }
    }

    /// The mean of the two threads' times for `iters` operations each.
    fn run(&self, iters: u64) -> Duration {
        for j in &self.jobs {
            j.send(iters).expect("worker alive");
        }
        let (wall_a, cpu_a) = self.done.recv().expect("worker result");
        let (wall_b, cpu_b) = self.done.recv().expect("worker result");
        let (ops, wall, cpu) = self.totals.get();
        let cpu = cpu.zip(cpu_a).zip(cpu_b).map(|((t, a), b)| t + a + b);
        self.totals.set((ops + iters, wall + wall_a + wall_b, cpu));
        (wall_a + wall_b) / 2
    }

    /// How much of the wall time the two threads actually ran, and their on-CPU time per
    /// operation: on a loaded machine a thread waits for a core, and that wait is in the wall
    /// time that criterion reports.
    fn report(&self, name: &str) {
        let (ops, wall, cpu) = self.totals.get();
        if let (Some(cpu), true) = (cpu, ops > 0) {
            println!(
                "  {name}: threads were on a CPU {:.0}% of the wall time; on-CPU time {:.1} ns per op",
                100.0 * cpu.as_secs_f64() / wall.as_secs_f64(),
                cpu.as_secs_f64() * 1e9 / (2 * ops) as f64
            );
        }
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        self.jobs.clear();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn bench(c: &mut Criterion, p: &Peers) {
    let mut g = c.benchmark_group("track/1-thread");
    g.bench_function("graceful", |b| {
        b.iter(|| drop(black_box(p.graceful.track())))
    });
    g.bench_function("tokio-util TaskTracker", |b| {
        b.iter(|| drop(black_box(p.task_tracker.token())))
    });
    g.bench_function("tokio-graceful", |b| {
        b.iter(|| drop(black_box(p.tokio_graceful.clone())))
    });
    g.finish();

    let mut g = c.benchmark_group("track/2-threads");
    {
        let s = p.graceful.clone();
        let pair = Pair::new(move || drop(black_box(s.track())));
        g.bench_function("graceful", |b| b.iter_custom(|n| pair.run(n)));
        pair.report("graceful");
    }
    {
        // The floor of this harness on this machine: the same two threads, each on its own
        // engine, so nothing at all is shared. Any gap between this row and `graceful` is
        // contention; the rest is the machine (both threads share the cores with everything
        // else that runs, and a preempted thread's wall time still counts).
        let engines: Vec<graceful::Shutdown> = (0..2)
            .map(|_| {
                graceful::Graceful::builder()
                    .signals([])
                    .build()
                    .expect("valid configuration")
                    .shutdown()
            })
            .collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let pair = Pair::new_per_thread(move || {
            let s = engines[next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 2].clone();
            move || drop(black_box(s.track()))
        });
        g.bench_function("graceful, one engine per thread (no sharing)", |b| {
            b.iter_custom(|n| pair.run(n))
        });
        pair.report("graceful, one engine per thread");
    }
    {
        let t = p.task_tracker.clone();
        let pair = Pair::new(move || drop(black_box(t.token())));
        g.bench_function("tokio-util TaskTracker", |b| b.iter_custom(|n| pair.run(n)));
        pair.report("tokio-util TaskTracker");
    }
    {
        let guard = p.tokio_graceful.clone();
        let pair = Pair::new(move || drop(black_box(guard.clone())));
        g.bench_function("tokio-graceful", |b| b.iter_custom(|n| pair.run(n)));
        pair.report("tokio-graceful");
    }
    g.finish();
}

fn main() {
    let peers = Peers::new();
    check_allocations(&peers);
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &peers);
    c.final_summary();
}
