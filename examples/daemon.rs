//! A daemon that serves the classic admin layout:
//!
//! | request | does |
//! |---|---|
//! | `POST /api/v1/daemon/stop` | starts a graceful stop (`{"timeout_seconds", "force", "reason"}`, all optional) |
//! | `DELETE /api/v1/daemon/stop` | forces an immediate stop |
//! | `GET /api/v1/daemon/status` | `RUNNING`, `STOPPING` or `STOPPED`, with the shutdown's progress |
//! | `GET /api/v1/daemon/events` | the phases as Server-Sent Events, live |
//! | `GET /api/v1/daemon/health/ready` | 200 while running, 503 once stopping (no key) |
//!
//! It is the ordinary admin API (`graceful::admin`) with a prefix and one route renamed;
//! everything else — auth, envelope, limits — is the same.
//!
//! Run it (the key enables the protected routes; without one they answer 403):
//!
//! ```sh
//! export GRACEFUL_ADMIN_API_KEY=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
//! cargo run --example daemon --features admin
//! ```
//!
//! Stop it from a shell: ask for a graceful stop, then poll the status until it reports
//! `STOPPED` or the connection is refused (the process has exited). `ADDR` is the address the
//! daemon printed (default `127.0.0.1:9090`), `KEY` the API key:
//!
//! ```sh
//! ADDR=${ADDR:-127.0.0.1:9090}; KEY=${KEY:-$GRACEFUL_ADMIN_API_KEY}
//! curl -fsS -X POST -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
//!      -d '{"reason": "maintenance", "timeout_seconds": 30}' "http://$ADDR/api/v1/daemon/stop" || exit 1
//! echo
//! while true; do
//!     if ! body=$(curl -sS -H "X-API-Key: $KEY" "http://$ADDR/api/v1/daemon/status" 2>/dev/null); then
//!         echo "stopped: connection refused"; break
//!     fi
//!     state=$(printf '%s' "$body" | grep -o '"state":"[A-Z]*"' | head -n 1 | cut -d '"' -f 4)
//!     echo "state: $state"
//!     if [ "$state" = STOPPED ]; then echo "stopped: STOPPED"; break; fi
//!     sleep 0.2
//! done
//! ```
//!
//! `tests/admin.rs` runs exactly this loop, with bash and curl, against this example.

use std::process::ExitCode;
use std::time::Duration;

use graceful::admin::{Admin, Route};
use graceful::{Env, Graceful, Resource};

/// Something worth closing in order: here, a pretend job queue.
struct Jobs;

#[tokio::main]
async fn main() -> ExitCode {
    let graceful = match Graceful::builder()
        .load_file_and_env(None, Env::Process) // SHUTDOWN_* and SHUTDOWN_CONFIG
        .process_owner(true)
        .resource(
            Resource::from_value("jobs", 100, Jobs).close_with(|_jobs| async {
                // Hand unfinished jobs back to the queue, flush, disconnect…
                tokio::time::sleep(Duration::from_millis(100)).await;
            }),
        )
        .build()
    {
        Ok(g) => g,
        Err(e) => {
            eprintln!("daemon: {e}");
            return ExitCode::from(graceful::exit::CONFIG_ERROR);
        }
    };
    let outcome = graceful
        .run(|shutdown| async move {
            let admin = Admin::builder()
                .prefix("/api/v1/daemon")
                .route(Route::Shutdown, "/stop")
                .spawn(&shutdown) // file `[admin]` and GRACEFUL_ADMIN_* still apply on top
                .await?;
            println!(
                "daemon admin API on http://{}/api/v1/daemon",
                admin.local_addr()
            );

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
            });
            shutdown.requested().await;
            Ok::<(), graceful::admin::AdminError>(())
        })
        .await;
    println!("daemon: {}", outcome.report.result.state());
    outcome.exit_code()
}
