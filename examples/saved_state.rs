//! # saved_state — state that survives a restart, declared with one attribute
//!
//! `#[graceful::state]` on a serde type makes it saved state: restored from the state
//! directory before `main` runs, and written atomically during the `SavingState` phase (after
//! the drain, before any resource closes). `main` reaches it as the resource `Saved<Visits>`.
//!
//! Run it twice, stopping it with Ctrl-C each time:
//!
//! ```text
//! SHUTDOWN_STATE_DIR=/tmp/saved-state cargo run --example saved_state --features state
//! ```
//!
//! The first run prints `run 1 (fresh start)`, the second `run 2 (restored from the
//! snapshot)` with the history of the first.

use graceful::Shutdown;
use graceful::state::{Restored, Saved};

/// What must survive a restart: how often the program ran, and when.
#[graceful::state(name = "visits", version = 1)]
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Visits {
    count: u64,
    history: Vec<u64>,
}

#[graceful::main(timeout = "10s")]
async fn main(shutdown: Shutdown) -> Result<(), graceful::GetError> {
    let visits = graceful::get::<Saved<Visits>>()?;
    {
        let mut v = visits.lock().await;
        v.count += 1;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        v.history.push(now);
        let how = match visits.restored() {
            Restored::FromSnapshot => "restored from the snapshot",
            _ => "fresh start",
        };
        println!("run {} ({how}); runs so far: {}", v.count, v.history.len());
    }
    println!("ready: press Ctrl-C to stop and save");
    shutdown.requested().await;
    Ok(())
}
