//! A job-queue worker that stops and resumes exactly where it left off.
//!
//! The worker holds a queue of pending jobs and a few repeating timers in a
//! [`graceful::state::Saved`] resource. On Ctrl-C (or `SIGTERM`) it finishes the job it is
//! working on, then — during the `SavingState` phase — the queue and each timer's remaining time
//! are written atomically to the state directory. The next start restores them before the
//! worker runs: no job is lost, none is done twice, and a timer that had 3.2 s left fires 3.2 s
//! after the restart. The program writes no file handling; it only declares the state type.
//!
//! Run it, seeding 20 jobs (each takes 500 ms):
//!
//! ```text
//! cargo run --example job_queue --features state -- --seed 20
//! ```
//!
//! Press Ctrl-C after a few jobs: it prints `stopping: N pending, …` and `saved to
//! job-queue-state`. Run it again without `--seed`: it prints `restored: N pending, …` with the
//! same digest and timers, and continues with the next job. Options:
//! `--state-dir DIR` (default `./job-queue-state`), `--job-ms MS` (time per job; `0` = do no
//! job, just hold the queue), `--seed N` (add N jobs at start).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use graceful::state::{Remaining, Restored, Saved, Snapshot};
use graceful::{Graceful, Shutdown};

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

/// Everything that must survive a restart.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct JobQueue {
    next_id: u64,
    done: u64,
    pending: VecDeque<Job>,
    timers: Vec<Timer>,
}

impl Snapshot for JobQueue {
    const NAME: &'static str = "job-queue";
    const VERSION: u32 = 1;
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

struct Options {
    state_dir: PathBuf,
    seed: u64,
    job_ms: u64,
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut o = Options {
        state_dir: PathBuf::from("job-queue-state"),
        seed: 0,
        job_ms: 500,
    };
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--state-dir" => o.state_dir = PathBuf::from(value()?),
            "--seed" => o.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--job-ms" => o.job_ms = value()?.parse().map_err(|e| format!("--job-ms: {e}"))?,
            other => {
                return Err(format!(
                    "unknown argument `{other}`; accepted: --state-dir DIR, --seed N, --job-ms MS"
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

async fn main_task(shutdown: Shutdown, o: Options) -> Result<(), String> {
    let queue = shutdown
        .resources()
        .get::<Saved<JobQueue>>()
        .map_err(|e| e.to_string())?;
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

/// The program, from its arguments (without the program name).
pub(crate) fn run(args: impl IntoIterator<Item = String>) -> ExitCode {
    let o = match parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("job_queue: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("job_queue: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let graceful = match Graceful::builder()
        .state_dir(&o.state_dir)
        .load_file_and_env(None, graceful::Env::Process)
        .process_owner(true)
        .build()
    {
        Ok(g) => g.saved_state::<JobQueue>(100),
        Err(e) => {
            eprintln!("job_queue: {e}");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = graceful.shutdown();
    let outcome = runtime.block_on(graceful.run(move |s| main_task(s, o)));
    let save_hook = format!("save state {}", JobQueue::NAME);
    let saved = outcome.report.hooks.iter().find(|h| h.name == save_hook);
    match (&outcome.report.startup_error, saved) {
        (Some(e), _) => eprintln!("job_queue: start-up failed: {e}"),
        (None, Some(h)) if h.outcome.is_ok() => {
            if let Some(dir) = shutdown.config().state_dir.value.as_ref() {
                println!("saved to {}", dir.display());
            }
        }
        (None, Some(h)) => eprintln!("job_queue: the state was NOT saved: {:?}", h.outcome),
        (None, None) => eprintln!("job_queue: the state was not saved (no SavingState phase)"),
    }
    outcome.exit_code()
}

fn main() -> ExitCode {
    run(std::env::args().skip(1))
}
