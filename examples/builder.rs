//! # builder — graceful without macros
//!
//! The same engine `#[graceful::main]` drives, configured in code: no attributes, no
//! `inventory`, no globals. `graceful::Entry` runs it exactly as the macro does — it builds
//! the runtime, runs `main`, bounds the runtime's own shutdown, prints what failed and returns
//! the exit code the report decides — so this program has every guarantee the macro gives.
//!
//! Run it with `cargo run --example builder`, then press Ctrl-C (or send SIGTERM). It prints
//! each phase, closes the queue before the database, and exits with the engine's exit code.

use std::process::ExitCode;
use std::time::Duration;

use graceful::{BoxError, Entry, Graceful, Res, Resource, Resources, Shutdown};

struct Database;
struct JobQueue {
    _db: Res<Database>,
}

fn main() -> ExitCode {
    let engine = Graceful::builder()
        .timeout(Duration::from_secs(10))
        .drain_timeout(Duration::from_secs(5))
        .resource(
            Resource::new("database", 100, |_| async {
                println!("database: connected");
                Ok::<_, BoxError>(Database)
            })
            .close_with(|_db: Res<Database>| async { println!("database: closed") }),
        )
        .resource(
            Resource::new("queue", 50, |res: Resources| async move {
                println!("queue: started");
                Ok::<_, BoxError>(JobQueue {
                    _db: res.get::<Database>()?,
                })
            })
            .depends_on::<Database>()
            .close_with(|_q: Res<JobQueue>| async { println!("queue: closed") }),
        )
        // Read the file and environment layers the macro would read.
        .load_file_and_env(None, graceful::Env::Process);
    // The engine owns this process: a watchdog enforces the overall deadline, a second Ctrl-C
    // exits at once, and a configuration error exits with 78 after saying what was wrong.
    Entry::new(engine).run(|shutdown: Shutdown| async move {
        // `events()` delivers every phase change in order (a `phase()` watch would only
        // show the latest one).
        let mut events = shutdown.events();
        tokio::spawn(async move {
            while let Ok(event) = events.recv().await {
                if let graceful::Event::Phase { phase } = event {
                    println!("phase: {phase}");
                }
            }
        });
        println!("ready: press Ctrl-C to stop");
        shutdown.requested().await;
    })
}
