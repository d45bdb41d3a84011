//! The baseline of the idle-shutdown benchmark (`benches/idle_shutdown.rs`): a plain
//! `#[tokio::main]` program that prints `ready` once its SIGTERM handler is installed and
//! exits when SIGTERM arrives.
//!
//! ```text
//! cargo run -p graceful-benches --release --bin bench_idle_tokio   # then: kill -TERM <pid>
//! ```

use std::io::Write;

use tokio::signal::unix::{SignalKind, signal};

#[tokio::main]
async fn main() {
    let mut term = signal(SignalKind::terminate()).expect("install the SIGTERM handler");
    ready();
    term.recv().await;
}

/// Tells the harness that the program is ready for its signal.
fn ready() {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "ready");
    let _ = out.flush();
}
