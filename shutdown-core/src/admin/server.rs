//! The admin listener: its own socket, header and body deadlines, and a connection table that
//! nobody can fill to starve the probes.
//!
//! Every open connection holds one of `max_connections` slots and is either *busy* (a
//! request is being answered, an event stream is open) or *waiting* (reading a request head,
//! or an idle keep-alive connection). A client without a key can only ever hold waiting
//! connections: every route it may call answers at once. So when a new connection arrives
//! and the table is full, the connection that has been waiting longest gives its slot up and
//! is closed; only when every slot is busy is the newcomer refused (503). A peer (IP address)
//! holds at most `max_connections_per_peer` slots; past that its own longest-waiting
//! connection makes room. A probe therefore always gets a slot, whatever idle keep-alive or
//! slow-loris clients do, and slow clients are also cut by `header_timeout`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use super::envelope::{self, Body};
use super::router;
use super::state::State;

/// Accepts connections until the task is aborted (or the runtime ends with the process).
pub(crate) async fn serve(listener: TcpListener, state: Arc<State>) {
    let slots = Arc::new(Slots::new(
        state.config.max_connections.value,
        state.config.per_peer_limit(),
    ));
    let header_timeout = state.config.header_timeout.value;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!(target: "graceful::admin", "accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = slots.admit(peer.ip()) else {
            tokio::spawn(refuse(stream));
            continue;
        };
        tokio::spawn(connection(
            stream,
            peer,
            slot,
            state.clone(),
            header_timeout,
        ));
        // Let the new connection read the request that is usually already waiting in its
        // socket before the next accept can make it the oldest waiting one.
        tokio::task::yield_now().await;
    }
}

/// Serves one connection until it ends or is closed to make room.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    slot: Slot,
    state: Arc<State>,
    header_timeout: Duration,
) {
    let _ = stream.set_nodelay(true);
    let evicted = slot.evicted.clone();
    let slot = Arc::new(slot);
    let service = service_fn(move |req| {
        let state = state.clone();
        let busy = slot.busy();
        async move {
            let Some(busy) = busy else {
                // Closed to make room between its request and now: act on nothing.
                let refused = envelope::error(&envelope::too_many_connections(), "closed");
                return Ok::<_, std::convert::Infallible>(
                    refused.map(|body| Guarded { body, _busy: None }),
                );
            };
            let response = router::handle(state, req, peer).await;
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
    tokio::select! {
        biased;
        () = evicted.notified() => {
            tracing::debug!(target: "graceful::admin", %peer, "waiting admin connection closed to make room");
        }
        r = conn => if let Err(e) = r {
            tracing::debug!(target: "graceful::admin", %peer, "admin connection ended: {e}");
        },
    }
}

/// Over the connection limit with every slot busy: answer 503 at once and close, bounded in
/// time.
async fn refuse(mut stream: TcpStream) {
    let bytes = envelope::busy_bytes();
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(&bytes).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// `true` when binding `addr` exposes the listener beyond this machine.
pub(crate) fn is_exposed(addr: SocketAddr) -> bool {
    !addr.ip().is_loopback()
}

/// The connection table.
struct Slots {
    max: usize,
    per_peer: usize,
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    open: HashMap<u64, Open>,
}

struct Open {
    peer: IpAddr,
    /// Requests (or streams) being answered on this connection.
    busy: usize,
    /// Since when it has been waiting (accepted, or its last response finished).
    waiting_since: Instant,
    evict: Arc<Notify>,
}

impl Slots {
    fn new(max: usize, per_peer: usize) -> Self {
        Slots {
            max: max.max(1),
            per_peer: per_peer.clamp(1, max.max(1)),
            table: Mutex::new(Table::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        crate::sync::lock(&self.table)
    }

    /// A slot for a new connection from `peer`, closing the longest-waiting connection (of
    /// this peer when it is at its share, else of anyone) when needed; `None` when every
    /// candidate is busy.
    fn admit(self: &Arc<Self>, peer: IpAddr) -> Option<Slot> {
        let mut t = self.lock();
        let of_peer = t.open.values().filter(|o| o.peer == peer).count();
        if of_peer >= self.per_peer {
            t.evict_oldest_waiting(Some(peer))?;
        } else if t.open.len() >= self.max {
            t.evict_oldest_waiting(None)?;
        }
        let id = t.next_id;
        t.next_id += 1;
        let evict = Arc::new(Notify::new());
        t.open.insert(
            id,
            Open {
                peer,
                busy: 0,
                waiting_since: Instant::now(),
                evict: evict.clone(),
            },
        );
        Some(Slot {
            slots: self.clone(),
            id,
            evicted: evict,
        })
    }
}

impl Table {
    fn evict_oldest_waiting(&mut self, peer: Option<IpAddr>) -> Option<()> {
        let (&id, _) = self
            .open
            .iter()
            .filter(|(_, o)| o.busy == 0 && peer.is_none_or(|p| o.peer == p))
            .min_by_key(|(_, o)| o.waiting_since)?;
        let gone = self.open.remove(&id)?;
        gone.evict.notify_one();
        Some(())
    }
}

/// One connection's place in the table; given back when the connection ends.
struct Slot {
    slots: Arc<Slots>,
    id: u64,
    evicted: Arc<Notify>,
}

impl Slot {
    /// Marks a request as being answered; `None` when the connection was already closed to
    /// make room.
    fn busy(&self) -> Option<Busy> {
        let mut t = self.slots.lock();
        let open = t.open.get_mut(&self.id)?;
        open.busy += 1;
        Some(Busy {
            slots: self.slots.clone(),
            id: self.id,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.lock().open.remove(&self.id);
    }
}

/// A request being answered; dropped when its response body has been sent (or dropped).
struct Busy {
    slots: Arc<Slots>,
    id: u64,
}

impl Drop for Busy {
    fn drop(&mut self) {
        if let Some(open) = self.slots.lock().open.get_mut(&self.id) {
            open.busy = open.busy.saturating_sub(1);
            open.waiting_since = Instant::now();
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn the_longest_waiting_connection_makes_room() {
        let slots = Arc::new(Slots::new(2, 2));
        let first = slots.admit(A).expect("slot");
        let second = slots.admit(A).expect("slot");
        let third = slots.admit(A).expect("the oldest waiting one makes room");
        assert!(!slots.lock().open.contains_key(&first.id), "first evicted");
        assert!(
            first.busy().is_none(),
            "an evicted connection acts on nothing"
        );
        let _b2 = second.busy().expect("busy");
        let _b3 = third.busy().expect("busy");
        assert!(slots.admit(A).is_none(), "every slot busy: refused");
    }

    #[test]
    fn a_peer_holds_at_most_its_share() {
        let slots = Arc::new(Slots::new(4, 2));
        let a1 = slots.admit(A).expect("slot");
        let _a2 = slots.admit(A).expect("slot");
        let _a3 = slots.admit(A).expect("A's own oldest makes room");
        assert!(!slots.lock().open.contains_key(&a1.id));
        let _b1 = slots.admit(B).expect("B is not crowded out");
        let _b2 = slots.admit(B).expect("B is not crowded out");
        assert_eq!(slots.lock().open.len(), 4);
    }
}
