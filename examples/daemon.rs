//! A workflow daemon with the classic stop API:
//!
//! | request | does |
//! |---|---|
//! | `POST /api/v1/daemon/stop` | starts a graceful stop (`{"timeout_seconds", "force", "reason"}`, all optional); `404 DAEMON_NOT_RUNNING` once stopped |
//! | `DELETE /api/v1/daemon/stop` | forces an immediate stop |
//! | `GET /api/v1/daemon/status` | `.data.status`: `RUNNING`, `STOPPING` or `STOPPED`; active `processes`, `jobs`, `timers`; what was recovered at start |
//! | `GET /api/v1/daemon/events` | the phases as Server-Sent Events, live |
//! | `GET /api/v1/daemon/health/ready` | 200 while running, 503 once stopping (no key) |
//!
//! It is the ordinary admin API (`graceful::admin`) with a prefix and one route renamed;
//! everything else — auth, envelope, limits — is the same. Its workflows (processes, queued
//! jobs, timers) are saved state: saved while stopping, recovered at the next start, and the
//! recovered counts are on `/status` under `recovered`. After the stop completes, the admin API
//! keeps answering for 5 s (`linger`), so a client polling the status reads `STOPPED`.
//!
//! Run it (the key enables the protected routes; without one they answer 403):
//!
//! ```sh
//! export GRACEFUL_ADMIN_API_KEY=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
//! cargo run --example daemon --features admin,state
//! ```
//!
//! Stop it from a shell (needs `curl` and `jq`): ask for a graceful stop, then every 2 s read
//! `.data.status` until it is `STOPPED` or the request fails (the process has exited). `ADDR`
//! is the address the daemon printed (default `127.0.0.1:9090`), `KEY` the API key:
//!
//! ```sh
//! ADDR=${ADDR:-127.0.0.1:9090}; KEY=${KEY:-$GRACEFUL_ADMIN_API_KEY}
//! resp=$(curl -fsS -X POST -H "X-API-Key: $KEY" -H 'Content-Type: application/json' \
//!      -d '{"reason": "maintenance", "timeout_seconds": 30}' \
//!      "http://$ADDR/api/v1/daemon/stop") || exit 1
//! printf '%s\n' "$resp" | jq -c .
//! while true; do
//!     if ! body=$(curl -fsS -H "X-API-Key: $KEY" "http://$ADDR/api/v1/daemon/status"); then
//!         echo "Stopped: the daemon no longer answers"; break
//!     fi
//!     status=$(printf '%s' "$body" | jq -r '.data.status')
//!     echo "Stopping... Status: $status"
//!     if [ "$status" = STOPPED ]; then echo "Stopped: STOPPED"; break; fi
//!     sleep 2
//! done
//! ```
//!
//! The test suite runs exactly this loop against this example.

use std::collections::VecDeque;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use graceful::admin::{Admin, Recovered, Route};
use graceful::state::{Saved, Snapshot};
use graceful::{Env, Graceful};

/// What the daemon must not lose across a restart.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Workflows {
    /// Running workflow processes.
    processes: Vec<String>,
    /// Queued jobs.
    jobs: VecDeque<String>,
    /// Pending timers: name and milliseconds left.
    timers: Vec<(String, u64)>,
}

impl Snapshot for Workflows {
    const NAME: &'static str = "workflows";
    const VERSION: u32 = 1;
}

/// The counts `/status` and the stop response report as `active_operations`.
#[derive(Default)]
struct Counts {
    processes: AtomicU64,
    jobs: AtomicU64,
    timers: AtomicU64,
}

impl Counts {
    fn update(&self, w: &Workflows) {
        self.processes
            .store(w.processes.len() as u64, Ordering::Relaxed);
        self.jobs.store(w.jobs.len() as u64, Ordering::Relaxed);
        self.timers.store(w.timers.len() as u64, Ordering::Relaxed);
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let graceful = match Graceful::builder()
        .state_dir("daemon-state") // SHUTDOWN_STATE_DIR overrides it
        .load_file_and_env(None, Env::Process) // SHUTDOWN_* and SHUTDOWN_CONFIG
        .process_owner(true)
        .build()
    {
        Ok(g) => g.saved_state::<Workflows>(100),
        Err(e) => {
            eprintln!("daemon: {e}");
            return ExitCode::from(graceful::exit::CONFIG_ERROR);
        }
    };

    // The admin API starts before the run so that it can outlive it (linger).
    let counts = Arc::new(Counts::default());
    let (p, j, t) = (counts.clone(), counts.clone(), counts.clone());
    let admin = Admin::builder()
        .prefix("/api/v1/daemon")
        .route(Route::Shutdown, "/stop")
        .linger(Duration::from_secs(5))
        .active_operation("processes", move || p.processes.load(Ordering::Relaxed))
        .active_operation("jobs", move || j.jobs.load(Ordering::Relaxed))
        .active_operation("timers", move || t.timers.load(Ordering::Relaxed))
        .spawn(&graceful.shutdown()) // file `[admin]` and GRACEFUL_ADMIN_* still apply on top
        .await;
    let admin = match admin {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("daemon: {e}");
            return ExitCode::from(graceful::exit::CONFIG_ERROR);
        }
    };
    println!(
        "daemon admin API on http://{}/api/v1/daemon",
        admin.local_addr()
    );

    let handle = admin.clone();
    let outcome = graceful
        .run(|shutdown| async move {
            let saved = shutdown.resources().get::<Saved<Workflows>>()?;
            {
                let mut w = saved.lock().await;
                handle.recovered(
                    Recovered::new(Workflows::NAME, saved.restored())
                        .count("processes", w.processes.len() as u64)
                        .count("jobs", w.jobs.len() as u64)
                        .count("timers", w.timers.len() as u64),
                );
                if w.processes.is_empty() {
                    // A first start: some work to carry over the next restart.
                    w.processes = vec!["order-1042".into(), "order-1043".into()];
                    w.jobs = ["send-invoice", "sync-stock", "email-receipt"]
                        .map(String::from)
                        .into();
                    w.timers = vec![("retry-payment".into(), 60_000)];
                }
                counts.update(&w);
            }

            // The daemon's own work: a tracked task that finishes its tick, then stops.
            let worker = shutdown.clone();
            shutdown.spawn("ticker", async move {
                let mut tick = tokio::time::interval(Duration::from_millis(250));
                loop {
                    tokio::select! {
                        _ = worker.requested() => break,
                        _ = tick.tick() => { /* one unit of work */ }
                    }
                }
                // Finish the job in hand before the state is saved.
                tokio::time::sleep(Duration::from_millis(500)).await;
            });
            shutdown.requested().await;
            Ok::<(), graceful::GetError>(())
        })
        .await;
    println!("daemon: {}", outcome.report.result.state());
    admin.linger().await;
    outcome.exit_code()
}
