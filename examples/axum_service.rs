//! # axum_service — a JSON API that restarts without dropping a request
//!
//! An axum service run by `#[graceful::main]` and served by `graceful::http::serve`: a JSON
//! endpoint, a slow endpoint (3 s), a WebSocket echo, a long poll that ends early on
//! shutdown, and `/health/live` + `/health/ready` for a load balancer.
//!
//! Run it with `cargo run --features axum --example axum_service`, then in another terminal:
//!
//! ```text
//! curl -s localhost:3000/api/items                     # JSON
//! curl -s localhost:3000/slow & sleep 0.5; kill -TERM $(pgrep -f examples/axum_service)
//! ```
//!
//! (or press Ctrl-C in the server's terminal while `/slow` runs). What you see: readiness
//! turns 503 at once, the server keeps serving for `readiness_delay` (2 s here) so a load
//! balancer can take it out, then the listener closes, idle connections close, the slow
//! request still gets its full answer (with `Connection: close`), WebSocket clients get a
//! close frame 1001, and the process exits 0. Phases are printed as they start. A request still
//! running at `drain` (10 s) would be aborted and named in the report; press Ctrl-C twice to
//! force an immediate exit (130).

use std::time::Duration;

use graceful::Shutdown;
use graceful::http::axum::extract::ws::{Message, WebSocketUpgrade};
use graceful::http::axum::response::{IntoResponse, Json, Response};
use graceful::http::axum::routing::get;
use graceful::http::axum::{Router, extract::Path};
use serde::Serialize;

#[derive(Serialize)]
struct Item {
    id: u32,
    name: &'static str,
}

async fn items() -> Json<Vec<Item>> {
    Json(vec![
        Item {
            id: 1,
            name: "apple",
        },
        Item {
            id: 2,
            name: "pear",
        },
    ])
}

async fn item(Path(id): Path<u32>) -> Response {
    match id {
        1 => Json(Item { id, name: "apple" }).into_response(),
        _ => (
            graceful::http::axum::http::StatusCode::NOT_FOUND,
            Json(serde_json::json!({ "error": "no such item" })),
        )
            .into_response(),
    }
}

/// Takes 3 s. A shutdown that starts meanwhile waits for it (up to `drain`).
async fn slow() -> Json<serde_json::Value> {
    tokio::time::sleep(Duration::from_secs(3)).await;
    Json(serde_json::json!({ "done": true }))
}

/// A long poll: waits up to 30 s for news, but answers at once when a shutdown starts so the
/// client can reconnect to another instance.
async fn poll(shutdown: Shutdown) -> Json<serde_json::Value> {
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_secs(30)) => Json(serde_json::json!({ "news": null })),
        _ = shutdown.requested() => Json(serde_json::json!({ "news": null, "reconnect": true })),
    }
}

/// Echoes text messages; on drain the client receives close code 1001.
async fn ws(upgrade: WebSocketUpgrade, shutdown: Shutdown) -> Response {
    graceful::http::ws::upgrade(upgrade, &shutdown, |mut socket| async move {
        while let Some(Ok(msg)) = socket.recv().await {
            if let Message::Text(text) = msg
                && socket.send(Message::Text(text)).await.is_err()
            {
                break;
            }
        }
    })
}

#[graceful::main(timeout = "20s", drain = "10s", readiness_delay = "2s")]
async fn main(shutdown: Shutdown) -> std::io::Result<()> {
    let app = Router::new()
        .route("/api/items", get(items))
        .route("/api/items/{id}", get(item))
        .route("/slow", get(slow))
        .route("/poll", get(poll))
        .route("/ws", get(ws))
        .merge(graceful::http::health_routes(&shutdown));

    let mut events = shutdown.events();
    tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            if let graceful::Event::Phase { phase } = event {
                println!("phase: {phase}");
            }
        }
    });

    // Runs during the last phase, after every connection closed.
    shutdown.on_phase(
        graceful::Phase::FlushingBuffers,
        "goodbye",
        |s| async move {
            let p = s.progress();
            println!(
                "drained; {} tracked units left, {:?} since the signal",
                p.in_flight,
                p.elapsed.unwrap_or_default()
            );
            Ok(())
        },
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!(
        "listening on http://{} (pid {}); press Ctrl-C to stop",
        listener.local_addr()?,
        std::process::id()
    );
    graceful::http::serve(listener, app, &shutdown).await
}
