//! The admin listener: its own socket, header and body deadlines, a connection table that
//! nobody can fill to starve the probes (see [`slots`](super::slots)), and an answer for every
//! request, even one it has no room for.
//!
//! A connection that arrives when no slot can be freed, or that gives its slot up to a
//! newcomer, is answered `503 Service Unavailable` with `Retry-After` and
//! `Connection: close`. The answer is written at once (the request may still be on its way:
//! a client reads it after sending), then the sending side is shut and whatever the client
//! still sends is read and discarded until it closes, for at most `header_timeout`, so that
//! the close never resets the connection under the answer. Slow clients are cut by
//! `header_timeout` and `body_timeout` as well.
//!
//! During an in-place upgrade the listener is shared by two processes; which one accepts is
//! [`handover`](super::handover)'s rule: the successor from the moment it is ready, the old
//! process until then. What the old process already accepted it answers with
//! `Connection: close`.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, header};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::context::State;
use super::envelope::{self, Body};
use super::handover;
use super::router;
use super::slots::{Busy, Slot, Slots};

/// Connections being answered `503` at once (each for at most `header_timeout`); past this
/// many, a connection with no slot is closed unanswered.
const MAX_ANSWERING: usize = 1024;

/// Accepts connections until the process hands the listener over to an upgrade's successor,
/// or the task is aborted (or the runtime ends with the process).
pub(crate) async fn serve(listener: TcpListener, state: Arc<State>) {
    if !handover::ours(&state.shutdown).await {
        return;
    }
    let slots = Arc::new(Slots::new(
        state.config.max_connections.value,
        state.config.per_peer_limit(),
    ));
    let answering = Arc::new(Semaphore::new(MAX_ANSWERING));
    let header_timeout = state.config.header_timeout.value;
    let handed_over = handover::handed_over(&state.shutdown);
    tokio::pin!(handed_over);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut handed_over => {
                // The successor accepts on the same socket; nothing queued is lost.
                tracing::info!(target: "graceful::admin", "the successor is ready: its admin API answers on this listener from now on");
                return;
            }
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(c) => c,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!(target: "graceful::admin", "accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (stream, socket) = match second_handle(stream) {
            Ok(pair) => pair,
            Err(e) => {
                tracing::warn!(target: "graceful::admin", %peer, "cannot keep a second handle on an admin connection: {e}");
                continue;
            }
        };
        let Some(slot) = slots.admit(peer.ip(), socket) else {
            answer_busy(stream, header_timeout, &answering);
            continue;
        };
        tokio::spawn(connection(
            stream,
            peer,
            slot,
            state.clone(),
            header_timeout,
            answering.clone(),
        ));
        // Let the new connection read the request that is usually already waiting in its
        // socket before the next accept looks for room.
        tokio::task::yield_now().await;
    }
}

/// The connection, and a second handle on its socket for the connection table.
fn second_handle(stream: TcpStream) -> std::io::Result<(TcpStream, std::net::TcpStream)> {
    // `into_std` keeps the socket non-blocking; the copy shares that.
    let socket = stream.into_std()?;
    let copy = socket.try_clone()?;
    Ok((TcpStream::from_std(socket)?, copy))
}

/// Serves one connection until it ends or gives its slot up (then answers it `503`).
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    mut slot: Slot,
    state: Arc<State>,
    header_timeout: Duration,
    answering: Arc<Semaphore>,
) {
    let _ = stream.set_nodelay(true);
    let evicted = slot.evicted();
    // Set when hyper itself answered a request that came after the slot was given up.
    let refused_in_band = Arc::new(AtomicBool::new(false));
    let refused = refused_in_band.clone();
    let slot = Arc::new(slot);
    let service = service_fn(move |req| {
        let state = state.clone();
        let busy = slot.busy();
        if busy.is_none() {
            refused.store(true, Ordering::Release);
        }
        async move {
            let Some(busy) = busy else {
                let mut r = envelope::error(&envelope::too_many_connections(), "closed");
                busy_headers(r.headers_mut());
                return Ok::<_, std::convert::Infallible>(
                    r.map(|body| Guarded { body, _busy: None }),
                );
            };
            let mut response = router::handle(state.clone(), req, peer).await;
            if handover::successor(&state.shutdown).is_some() {
                // Handed over: the next request belongs on a new connection, to the successor.
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(response.map(|body| Guarded {
                body,
                _busy: Some(busy),
            }))
        }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(16 * 1024)
        .serve_connection(TokioIo::new(stream), service);
    // Until hyper itself answers a request that came after the slot was given up (then the
    // connection ends with that answer), giving the slot up ends hyper's part first: `conn` is
    // dropped, its handle closed, before the connection is answered on the table's handle.
    let mut conn = Box::pin(conn);
    let mut evicted = Some(evicted);
    let gave_up = std::future::poll_fn(|cx| {
        if !refused_in_band.load(Ordering::Acquire)
            && let Some(rx) = evicted.as_mut()
            && let Poll::Ready(told) = Pin::new(rx).poll(cx)
        {
            evicted = None;
            if let Ok(socket) = told {
                return Poll::Ready(Some(socket));
            }
        }
        conn.as_mut().poll(cx).map(|r| {
            if let Err(e) = r {
                tracing::debug!(target: "graceful::admin", %peer, "admin connection ended: {e}");
            }
            None
        })
    })
    .await;
    drop(conn);
    let Some(socket) = gave_up else { return };
    tracing::debug!(target: "graceful::admin", %peer, "waiting admin connection gave its slot up");
    match TcpStream::from_std(socket) {
        Ok(stream) => answer_busy(stream, header_timeout, &answering),
        Err(e) => {
            tracing::debug!(target: "graceful::admin", %peer, "cannot answer an admin connection: {e}")
        }
    }
}

/// `Retry-After` and `Connection: close` on an in-band `503` for a connection without a slot.
fn busy_headers(headers: &mut http::HeaderMap) {
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
}

/// Answers a connection that has no slot `503` with `Retry-After` and closes it, on its own
/// task, bounded by `linger` (see the module docs).
fn answer_busy(mut stream: TcpStream, linger: Duration, answering: &Arc<Semaphore>) {
    let Ok(permit) = answering.clone().try_acquire_owned() else {
        tracing::warn!(target: "graceful::admin", "{MAX_ANSWERING} connections are already being answered 503; closing one unanswered");
        return;
    };
    tokio::spawn(async move {
        let _permit = permit;
        let bytes = envelope::busy_bytes();
        let _ = tokio::time::timeout(linger, async {
            stream.write_all(&bytes).await?;
            stream.shutdown().await?;
            let mut sink = [0u8; 1024];
            while stream.read(&mut sink).await? > 0 {}
            Ok::<_, std::io::Error>(())
        })
        .await;
    });
}

/// `true` when binding `addr` exposes the listener beyond this machine.
pub(crate) fn is_exposed(addr: SocketAddr) -> bool {
    !addr.ip().is_loopback()
}

/// A response body that keeps its connection busy until it is finished.
struct Guarded {
    body: Body,
    _busy: Option<Busy>,
}

impl http_body::Body for Guarded {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
