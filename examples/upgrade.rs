//! # upgrade — replace the binary of a running service without refusing anyone
//!
//! The service takes its listeners by name through `graceful::upgrade::Listeners`. On SIGUSR2
//! (or `POST /upgrade` on the admin API, `gracefulctl upgrade`, `systemctl reload` under
//! `Type=notify-reload`) it starts the binary now at its path, hands it the listening sockets
//! and its saved hit counter, and drains once the new process is ready. Nobody is refused:
//! the sockets never close.
//!
//! ```text
//! APP_VERSION=1 cargo build --example upgrade --features upgrade,axum,admin,state
//! cp target/debug/examples/upgrade /tmp/app
//! SHUTDOWN_STATE_DIR=/tmp/app-state GRACEFUL_ADMIN_API_KEY=secret /tmp/app &
//! curl localhost:8080              # version 1, pid 4242, hit 1
//!
//! APP_VERSION=2 cargo build --example upgrade --features upgrade,axum,admin,state
//! cp target/debug/examples/upgrade /tmp/app.new && mv /tmp/app.new /tmp/app
//! kill -USR2 4242                  # or: curl -X POST -H 'X-API-Key: secret' localhost:9090/upgrade
//! curl localhost:8080              # version 2, pid 4317, hit 2
//! ```

// In-place upgrades are Unix-only: elsewhere the example builds and only says so.
#![cfg_attr(not(unix), allow(dead_code, unused_imports))]

use graceful::Shutdown;
use graceful::state::Saved;
#[cfg(unix)]
use graceful::upgrade::Listeners;

use graceful::http::axum::Router;
use graceful::http::axum::routing::get;

/// Set at build time, so that two builds answer differently.
const VERSION: &str = match option_env!("APP_VERSION") {
    Some(v) => v,
    None => "1",
};

/// Every request answered, across upgrades: handed from process to process.
#[graceful::state(name = "hits", version = 1)]
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Hits {
    count: u64,
}

#[cfg(not(unix))]
fn main() {
    eprintln!("in-place upgrades pass listening sockets with Unix descriptor passing: Unix only");
}

#[cfg(unix)]
#[graceful::main(admin = "127.0.0.1:9090")]
async fn main(shutdown: Shutdown) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // Inherited from the predecessor during an upgrade (or from systemd), bound otherwise.
    let addr = std::env::var("APP_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let http = Listeners::of(&shutdown).tcp("http", addr).await?;
    let pid = std::process::id();
    println!(
        "version {VERSION}, pid {pid}, serving on {}",
        http.local_addr()?
    );
    let hits = graceful::get::<Saved<Hits>>()?;
    let app = Router::new().route(
        "/",
        get(move || async move {
            // In a successor, the first lock waits until the predecessor handed the count over.
            let mut h = hits.lock().await;
            h.count += 1;
            format!("version {VERSION}, pid {pid}, hit {}\n", h.count)
        }),
    );
    graceful::http::serve(http, app, &shutdown).await?;
    if let Some(reason) = shutdown.reason() {
        println!("pid {pid} stopped: {reason}");
    }
    Ok(())
}
