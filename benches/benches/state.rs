//! Saved state and supervision: what they cost.
//!
//! ```text
//! cargo bench -p graceful-benches --bench state -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! * `state/save/N`: serialize N pending jobs and write them with
//!   `graceful::state::save` (temporary file, `fsync`, rename, `fsync` of the directory) —
//!   what the `SavingState` phase does. N = 1 000, 10 000, 100 000, 1 000 000.
//! * `state/restore/N`: read the file, check length and checksum, deserialize.
//! * `supervise/1000-tasks/{graceful,tokio-spawn}`: start 1 000 tasks that return at once and
//!   wait for all of them, supervised (`Shutdown::supervise`) against a bare `tokio::spawn` +
//!   `JoinHandle` await. The difference divided by 1 000 is the overhead per supervised task.
//!
//! The state directory is a fresh directory under the system temporary directory (set
//! `TMPDIR` to measure another file system).

use std::collections::VecDeque;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use graceful::Graceful;
use graceful::state::{Snapshot, load, save};

/// A pending job, as in `examples/job_queue.rs`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Job {
    id: u64,
    payload: String,
    attempts: u32,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Queue {
    pending: VecDeque<Job>,
}

impl Snapshot for Queue {
    const NAME: &'static str = "bench-queue";
    const VERSION: u32 = 1;
}

fn queue(n: u64) -> Queue {
    Queue {
        pending: (0..n)
            .map(|id| Job {
                id,
                payload: format!("send invoice #{id} to customer {}", id % 9_973),
                attempts: (id % 3) as u32,
            })
            .collect(),
    }
}

fn state_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("graceful-bench-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("state dir");
    dir
}

fn bench_state(c: &mut Criterion) {
    let dir = state_dir();
    let mut group = c.benchmark_group("state");
    for n in [1_000u64, 10_000, 100_000, 1_000_000] {
        let q = queue(n);
        if n >= 100_000 {
            group.sample_size(10);
        }
        group.throughput(Throughput::Elements(n));
        group.bench_with_input(BenchmarkId::new("save", n), &q, |b, q| {
            b.iter(|| save(&dir, q).expect("save"));
        });
        save(&dir, &q).expect("save");
        let bytes = std::fs::metadata(dir.join("bench-queue.snapshot"))
            .map(|m| m.len())
            .unwrap_or(0);
        eprintln!("state/{n}: snapshot file is {:.1} MB", bytes as f64 / 1e6);
        group.bench_function(BenchmarkId::new("restore", n), |b| {
            b.iter(|| {
                let q: Queue = load(&dir).expect("load").expect("present");
                black_box(q.pending.len())
            });
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

const TASKS: usize = 1_000;

fn bench_supervise(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("supervise");
    group.throughput(Throughput::Elements(TASKS as u64));
    group.bench_function("1000-tasks/graceful", |b| {
        b.iter_batched(
            || {
                Graceful::builder()
                    .signals([])
                    .build()
                    .expect("engine")
                    .shutdown()
            },
            |shutdown| {
                rt.block_on(async {
                    let tasks: Vec<_> = (0..TASKS)
                        .map(|i| {
                            shutdown.supervise(format!("task {i}"), |_stop| async {
                                Ok::<_, std::io::Error>(())
                            })
                        })
                        .collect();
                    for t in &tasks {
                        black_box(t.finished().await);
                    }
                })
            },
            criterion::BatchSize::LargeInput,
        );
    });
    group.bench_function("1000-tasks/tokio-spawn", |b| {
        b.iter(|| {
            rt.block_on(async {
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| tokio::spawn(async { Ok::<_, std::io::Error>(()) }))
                    .collect();
                for t in tasks {
                    let _ = black_box(t.await);
                }
            })
        });
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    bench_state(&mut c);
    bench_supervise(&mut c);
    c.final_summary();
}
