//! # quickstart — a service that stops the way operators expect
//!
//! Three resources in two priority classes, a worker loop that watches `requested()`, and
//! every phase printed as it happens. On Ctrl-C or SIGTERM the worker finishes its current
//! job, the cache and the metrics sink (priority 50) close together, then the database
//! (priority 100) closes last, and the process exits 0.
//!
//! Run it with `cargo run --example quickstart`, wait for `ready`, then press Ctrl-C (or
//! `kill -TERM <pid>` from another terminal). Press Ctrl-C twice to see the forced exit (130).

use std::time::Duration;

use graceful::{Close, Res, Shutdown};
use tracing_subscriber::EnvFilter;

/// A database connection pool. Closed through the method named in `close = "…"`.
pub struct Database {
    url: String,
}

impl Database {
    async fn disconnect(&self) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        println!("database: disconnected from {}", self.url);
    }
}

/// A cache warmed from the database. Closed through its `Close` implementation.
pub struct Cache {
    entries: usize,
}

impl Close for Cache {
    async fn close(&self) -> Result<(), graceful::BoxError> {
        println!("cache: persisted {} entries", self.entries);
        Ok(())
    }
}

/// A metrics sink; `flush` is synchronous and returns a `Result`.
pub struct Metrics;

impl Metrics {
    fn flush(&self) -> std::io::Result<()> {
        println!("metrics: flushed");
        Ok(())
    }
}

#[graceful::resource(priority = 100, close = "disconnect")]
async fn database() -> Result<Database, std::io::Error> {
    Ok(Database {
        url: "postgres://127.0.0.1/app".into(),
    })
}

// `Res<Database>`: built after the database, closed before it.
#[graceful::resource(priority = 50)]
fn cache(_db: Res<Database>) -> Cache {
    Cache { entries: 42 }
}

#[graceful::resource(priority = 50, close = "flush")]
fn metrics() -> Metrics {
    Metrics
}

/// Installs the `tracing` subscriber. `init = logging` runs it before anything else, so the
/// engine's start-up lines (each resource built, `started`) are printed too: `main` itself
/// runs only once every resource is built. `RUST_LOG` filters it (`RUST_LOG=debug` for more).
fn logging() {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
}

// `expect_resources = 3`: if the three registrations above were ever lost (a resource crate
// the linker dropped), start-up would fail with an error saying so instead of running without them.
#[graceful::main(timeout = "10s", drain = "5s", expect_resources = 3, init = logging)]
async fn main(shutdown: Shutdown) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // `events()` delivers every phase change in order.
    let mut events = shutdown.events();
    tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            if let graceful::Event::Phase { phase } = event {
                println!("phase: {phase}");
            }
        }
    });

    let worker = shutdown.clone();
    shutdown.spawn("worker", async move {
        let mut jobs = 0u64;
        loop {
            tokio::select! {
                _ = worker.requested() => break,
                _ = tokio::time::sleep(Duration::from_millis(200)) => jobs += 1,
            }
        }
        println!("worker: stopped after {jobs} jobs");
    });

    let db = graceful::get::<Database>()?;
    println!("ready: connected to {}; press Ctrl-C to stop", db.url);
    shutdown.requested().await;
    Ok(())
}
