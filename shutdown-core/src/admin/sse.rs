//! `GET /events`: Server-Sent Events of every phase change and resource close, live.
//!
//! The stream opens with the current phase (so a client that connects mid-shutdown knows where
//! it is), then sends each [`Event`] as it happens, and ends after the final phase
//! (`completed` or `forced`). A comment line every 15 seconds keeps proxies from timing out.
//!
//! ```text
//! event: phase
//! id: 1
//! data: {"event":"phase","phase":"draining_connections","state":"STOPPING","elapsed":0.0002,"remaining":29.9998,"limit":{"what":"drain_timeout","seconds":10.0}}
//! ```
//!
//! A phase event carries the time since the trigger (`elapsed`), the time left before the
//! overall `timeout` (`remaining`) and, for the phases that have one, the phase's own bound
//! (`limit`), so that a client can draw the shutdown on a time axis and count a deadline down
//! (`gracefulctl watch`).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::channel::{Channel, Sender};
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

use super::envelope::Body;
use crate::phase::Phase;
use crate::shutdown::{Event, Shutdown};

const KEEPALIVE: Duration = Duration::from_secs(15);

/// Counts the event streams whose body hyper still holds, so that the engine can wait, at
/// the very end, until each has been handed its last event (see `Shutdown::on_finished`).
#[derive(Debug)]
pub(crate) struct OpenStreams(watch::Sender<usize>);

impl OpenStreams {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(OpenStreams(watch::channel(0).0))
    }

    /// Resolves once no stream is open.
    pub(crate) async fn all_closed(self: Arc<Self>) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

/// Decrements [`OpenStreams`] when hyper drops the body (delivered or disconnected).
struct Tracked {
    body: Channel<Bytes>,
    open: Arc<OpenStreams>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.open.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }
}

/// Starts the stream's task and returns the response body it feeds.
pub(crate) fn stream(shutdown: &Shutdown, open: &Arc<OpenStreams>) -> Body {
    // Subscribe before reading the current phase, so no change falls in between.
    let mut events = shutdown.events();
    let (tx, body) = Channel::<Bytes>::new(32);
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        let mut out = Out { tx, id: 0 };
        let mut last = shutdown.current_phase();
        if out
            .send("phase", phase_json(last, &shutdown))
            .await
            .is_err()
            || last.is_finished()
        {
            return;
        }
        let mut keepalive = tokio::time::interval(KEEPALIVE);
        keepalive.tick().await;
        loop {
            let event = tokio::select! {
                e = events.recv() => e,
                _ = keepalive.tick() => {
                    if out.tx.send_data(Bytes::from_static(b": keep-alive\n\n")).await.is_err() {
                        return;
                    }
                    continue;
                }
            };
            let sent = match event {
                // Phases only move forward; one seen through the initial read is not repeated.
                Ok(Event::Phase { phase }) if phase <= last => continue,
                Ok(Event::Phase { phase }) => {
                    last = phase;
                    out.send("phase", phase_json(phase, &shutdown)).await
                }
                Ok(other) => {
                    // The SSE event's name is the serialized tag (`resource_closed`, …): one
                    // spelling, and a new kind of event is named without a change here.
                    let data = serde_json::to_value(&other).unwrap_or(Value::Null);
                    let name = data["event"].as_str().unwrap_or("event").to_string();
                    out.send(&name, data).await
                }
                Err(RecvError::Lagged(n)) => {
                    out.send("lagged", json!({ "event": "lagged", "missed": n }))
                        .await
                }
                Err(RecvError::Closed) => return,
            };
            if sent.is_err() || last.is_finished() {
                return;
            }
        }
    });
    open.0.send_modify(|n| *n += 1);
    Tracked {
        body,
        open: open.clone(),
    }
    .boxed_unsync()
}

fn phase_json(phase: Phase, shutdown: &Shutdown) -> Value {
    let elapsed = shutdown.elapsed();
    let remaining = elapsed.map(|e| shutdown.timeout().saturating_sub(e));
    let config = shutdown.config();
    let limit = match phase {
        Phase::DrainingConnections => Some(("drain_timeout", config.drain_timeout.value)),
        Phase::ClosingResources => Some((
            "resource_close_timeout",
            config.resource_close_timeout.value,
        )),
        _ => None,
    };
    json!({
        "event": "phase",
        "phase": phase,
        "state": phase.state(),
        "elapsed": elapsed.map(|d| d.as_secs_f64()),
        "remaining": remaining.map(|d| d.as_secs_f64()),
        "limit": limit.map(|(what, d)| json!({ "what": what, "seconds": d.as_secs_f64() })),
    })
}

struct Out {
    tx: Sender<Bytes>,
    id: u64,
}

impl Out {
    async fn send(
        &mut self,
        event: &str,
        data: Value,
    ) -> Result<(), http_body_util::channel::SendError> {
        self.id += 1;
        let frame = format!("event: {event}\nid: {}\ndata: {data}\n\n", self.id);
        self.tx.send_data(Bytes::from(frame)).await
    }
}
