//! A job-queue worker that stops and resumes exactly where it left off.
//!
//! The worker holds a queue of pending jobs and a few repeating timers in a type marked
//! `#[graceful::state]`. On Ctrl-C (or `SIGTERM`) it finishes the job it is working on, then —
//! during the `SavingState` phase — the queue and each timer's remaining time are written
//! atomically to the state directory. The next start restores them before `main` runs: no job
//! is lost, none is done twice, and a timer that had 3.2 s left fires 3.2 s after the restart.
//! The program writes no file handling and builds no engine: `#[graceful::main]` and
//! `#[graceful::state]` do both.
//!
//! Run it, seeding 20 jobs (each takes 500 ms):
//!
//! ```text
//! SHUTDOWN_STATE_DIR=job-queue-state cargo run --example job_queue --features state -- --seed 20
//! ```
//!
//! Press Ctrl-C after a few jobs: it prints `stopping: N pending, …`, and the engine writes
//! `job-queue-state/job-queue.snapshot`. Run it again without `--seed`: it prints
//! `restored: N pending, …` with the same digest and timers, and continues with the next job.
//! Options: `--job-ms MS` (time per job; `0` = do no job, just hold the queue), `--seed N` (add
//! N jobs at start). The state directory is graceful's `state_dir` setting
//! (`SHUTDOWN_STATE_DIR`, or `state_dir` in the configuration file).

use std::collections::VecDeque;
use std::time::Duration;

use graceful::Shutdown;
use graceful::state::{Remaining, Restored, Saved};

/// One unit of work.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Job {
    id: u64,
    payload: String,
}

/// A repeating timer; `due` is saved as the time it had left.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Timer {
    name: String,
    every_ms: u64,
    due: Remaining,
}

/// Everything that must survive a restart: restored before `main` runs, saved in the
/// `SavingState` phase (after the drain, before any resource closes), as
/// `<state_dir>/job-queue.snapshot`.
#[graceful::state(name = "job-queue", version = 1)]
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct JobQueue {
    next_id: u64,
    done: u64,
    pending: VecDeque<Job>,
    timers: Vec<Timer>,
}

impl JobQueue {
    /// A fingerprint of the pending ids, to compare two runs.
    fn digest(&self) -> u64 {
        self.pending.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, j| {
            (h ^ j.id).wrapping_mul(0x0100_0000_01b3)
        })
    }

    fn summary(&self) -> String {
        let timers: Vec<String> = self
            .timers
            .iter()
            .map(|t| format!("{} in {:.1}s", t.name, t.due.left().as_secs_f64()))
            .collect();
        format!(
            "{} pending, {} done, digest {:016x}, timers [{}]",
            self.pending.len(),
            self.done,
            self.digest(),
            timers.join(", ")
        )
    }
}

/// The command-line options.
struct Options {
    seed: u64,
    job_ms: u64,
}

/// Reads the options from the arguments (without the program name).
fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut o = Options {
        seed: 0,
        job_ms: 500,
    };
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--seed" => o.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--job-ms" => o.job_ms = value()?.parse().map_err(|e| format!("--job-ms: {e}"))?,
            other => {
                return Err(format!(
                    "unknown argument `{other}`; accepted: --seed N, --job-ms MS \
                     (the state directory is SHUTDOWN_STATE_DIR)"
                ));
            }
        }
    }
    Ok(o)
}

/// The worker: takes the first pending job, works on it, removes it when done. A job in
/// progress is tracked, so the shutdown waits for it before saving.
async fn work(shutdown: Shutdown, queue: graceful::Res<Saved<JobQueue>>, job_ms: u64) {
    if job_ms == 0 {
        shutdown.requested().await;
        return;
    }
    loop {
        tokio::select! {
            _ = shutdown.requested() => return,
            _ = tokio::time::sleep(Duration::from_millis(10)) => {}
        }
        let _in_progress = shutdown.track();
        let Some(job) = queue.lock().await.pending.front().cloned() else {
            continue;
        };
        tokio::time::sleep(Duration::from_millis(job_ms)).await; // the work
        let mut q = queue.lock().await;
        q.pending.pop_front();
        q.done += 1;
        println!("done job {} ({})", job.id, job.payload);
    }
}

/// Fires due timers and reschedules them.
async fn timers(shutdown: Shutdown, queue: graceful::Res<Saved<JobQueue>>) {
    loop {
        tokio::select! {
            _ = shutdown.requested() => return,
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
        let mut q = queue.lock().await;
        for t in q.timers.iter_mut().filter(|t| t.due.is_due()) {
            println!("timer {} fired", t.name);
            t.due = Remaining::after(Duration::from_millis(t.every_ms));
        }
    }
}

// `pub(crate)`: the process tests run this `main` inside their fixture program.
#[graceful::main]
pub(crate) async fn main(shutdown: Shutdown) -> Result<(), String> {
    let o = parse(std::env::args().skip(1))?;
    let queue = graceful::get::<Saved<JobQueue>>().map_err(|e| e.to_string())?;
    {
        let mut q = queue.lock().await;
        match queue.restored() {
            Restored::FromSnapshot => println!("restored: {}", q.summary()),
            Restored::MovedAside { aside, .. } => println!(
                "started empty; the unusable snapshot is at {}",
                aside.display()
            ),
            _ => println!("fresh start"),
        }
        if q.timers.is_empty() {
            q.timers.push(Timer {
                name: "heartbeat".into(),
                every_ms: 5_000,
                due: Remaining::after(Duration::from_secs(5)),
            });
            q.timers.push(Timer {
                name: "hourly-report".into(),
                every_ms: 3_600_000,
                due: Remaining::after(Duration::from_secs(3600)),
            });
        }
        for _ in 0..o.seed {
            let id = q.next_id;
            q.next_id += 1;
            q.pending.push_back(Job {
                id,
                payload: format!("email #{id}"),
            });
        }
        println!("running: {}", q.summary());
    }
    shutdown.spawn("timers", timers(shutdown.clone(), queue.clone()));
    work(shutdown.clone(), queue.clone(), o.job_ms).await;
    // The worker stopped: this is what the SavingState phase writes after the drain.
    println!("stopping: {}", queue.lock().await.summary());
    Ok(())
}
