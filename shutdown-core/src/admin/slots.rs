//! The admin listener's connection table: `max_connections` slots, at most
//! `max_connections_per_peer` of them per peer (IP address), and the rule for who gives a slot
//! up when a new connection arrives at the limit.
//!
//! Every open connection is either *busy* (a request is being answered, an event stream is
//! open) or *waiting* (it has sent nothing yet, an incomplete request head, or is idle between
//! two requests). A waiting connection gives its slot up only while its socket holds nothing
//! unread: a request that has arrived is never closed under its sender, it is read and
//! answered. Among those that can, the one that has waited longest goes (of the newcomer's
//! peer when that peer holds its whole share). The connection that makes room is not simply
//! closed: it is answered `503` with `Retry-After` before it closes, so a client whose request
//! crosses the eviction reads that answer instead of a reset.

use std::collections::HashMap;
use std::net::{IpAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::oneshot;

/// The connection table.
pub(super) struct Slots {
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
    /// A second handle on the connection's socket: to see whether something arrived that was
    /// not read yet, and to answer the connection once it gave its slot up.
    socket: TcpStream,
    /// Tells the connection's task it gave its slot up, with the socket to answer on.
    evict: oneshot::Sender<TcpStream>,
}

impl Open {
    /// Waiting, and nothing it sent is waiting to be read.
    fn can_make_room(&self) -> bool {
        self.busy == 0 && !unread(&self.socket)
    }
}

/// `true` when bytes the server has not read yet wait in the socket (a request on its way in).
/// The socket is non-blocking: an empty one answers at once.
fn unread(socket: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    matches!(socket.peek(&mut byte), Ok(n) if n > 0)
}

impl Slots {
    pub(super) fn new(max: usize, per_peer: usize) -> Self {
        Slots {
            max: max.max(1),
            per_peer: per_peer.clamp(1, max.max(1)),
            table: Mutex::new(Table::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        crate::sync::lock(&self.table)
    }

    /// A slot for a new connection from `peer` (`socket`: a second handle on its non-blocking
    /// socket), making room when needed; `None` when no connection can give its slot up.
    pub(super) fn admit(self: &Arc<Self>, peer: IpAddr, socket: TcpStream) -> Option<Slot> {
        let mut t = self.lock();
        let of_peer = t.open.values().filter(|o| o.peer == peer).count();
        if of_peer >= self.per_peer {
            t.make_room(Some(peer))?;
        } else if t.open.len() >= self.max {
            t.make_room(None)?;
        }
        let id = t.next_id;
        t.next_id += 1;
        let (evict, evicted) = oneshot::channel();
        t.open.insert(
            id,
            Open {
                peer,
                busy: 0,
                waiting_since: Instant::now(),
                socket,
                evict,
            },
        );
        Some(Slot {
            slots: self.clone(),
            id,
            evicted: Some(evicted),
        })
    }

    /// How many connections hold a slot.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().open.len()
    }
}

impl Table {
    /// Takes the slot of the longest-waiting connection that can give it up (of `peer` only,
    /// when given) and hands that connection its socket to be answered on.
    fn make_room(&mut self, peer: Option<IpAddr>) -> Option<()> {
        let (&id, _) = self
            .open
            .iter()
            .filter(|(_, o)| peer.is_none_or(|p| o.peer == p) && o.can_make_room())
            .min_by_key(|(_, o)| o.waiting_since)?;
        let gone = self.open.remove(&id)?;
        // The task may have ended meanwhile: then the socket is closed here.
        let _ = gone.evict.send(gone.socket);
        Some(())
    }
}

/// One connection's place in the table; given back when the connection ends.
pub(super) struct Slot {
    slots: Arc<Slots>,
    id: u64,
    evicted: Option<oneshot::Receiver<TcpStream>>,
}

impl Slot {
    /// Marks a request as being answered; `None` when the connection already gave its slot
    /// up.
    pub(super) fn busy(&self) -> Option<Busy> {
        let mut t = self.slots.lock();
        let open = t.open.get_mut(&self.id)?;
        open.busy += 1;
        Some(Busy {
            slots: self.slots.clone(),
            id: self.id,
        })
    }

    /// Resolves, with the socket to answer on, when the connection gave its slot up; never
    /// otherwise. Taken once.
    pub(super) fn evicted(&mut self) -> oneshot::Receiver<TcpStream> {
        self.evicted.take().unwrap_or_else(|| oneshot::channel().1)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.lock().open.remove(&self.id);
    }
}

/// A request being answered; dropped when its response body has been sent (or dropped).
pub(super) struct Busy {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    /// A real loopback connection: the client's end and the server's (non-blocking).
    fn pair(listener: &std::net::TcpListener) -> (TcpStream, TcpStream) {
        let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (server, _) = listener.accept().expect("accept");
        server.set_nonblocking(true).expect("non-blocking");
        (client, server)
    }

    #[test]
    fn the_longest_waiting_connection_makes_room_and_gets_its_socket_back() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let slots = Arc::new(Slots::new(2, 2));
        let (_c1, s1) = pair(&l);
        let (_c2, s2) = pair(&l);
        let (_c3, s3) = pair(&l);
        let (_c4, s4) = pair(&l);
        let mut first = slots.admit(A, s1).expect("slot");
        let second = slots.admit(A, s2).expect("slot");
        let third = slots
            .admit(A, s3)
            .expect("the oldest waiting one makes room");
        assert!(
            first.evicted().try_recv().is_ok(),
            "the first connection is told, with its socket"
        );
        assert!(
            first.busy().is_none(),
            "a connection that gave its slot up acts on nothing"
        );
        let _b2 = second.busy().expect("busy");
        let _b3 = third.busy().expect("busy");
        assert!(slots.admit(A, s4).is_none(), "every slot busy: refused");
    }

    #[test]
    fn a_request_that_arrived_keeps_its_slot() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let slots = Arc::new(Slots::new(1, 1));
        let (mut c1, s1) = pair(&l);
        let (_c2, s2) = pair(&l);
        let mut first = slots.admit(A, s1).expect("slot");
        c1.write_all(b"GET /status HTTP/1.1\r\n\r\n")
            .expect("write");
        // Until the server sees the bytes, the peek may still find nothing: wait for them.
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while !unread(&slots.lock().open.values().next().expect("open").socket) {
            assert!(Instant::now() < deadline, "the request never arrived");
            std::thread::yield_now();
        }
        assert!(
            slots.admit(A, s2).is_none(),
            "the newcomer is refused rather than closing a request that arrived"
        );
        assert!(
            first.evicted().try_recv().is_err(),
            "the first one keeps its slot"
        );
        assert_eq!(slots.len(), 1);
    }

    #[test]
    fn a_peer_holds_at_most_its_share() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let slots = Arc::new(Slots::new(4, 2));
        let mut clients = Vec::new();
        let mut server = || {
            let (c, s) = pair(&l);
            clients.push(c);
            s
        };
        let mut a1 = slots.admit(A, server()).expect("slot");
        let _a2 = slots.admit(A, server()).expect("slot");
        let _a3 = slots.admit(A, server()).expect("A's own oldest makes room");
        assert!(
            a1.evicted().try_recv().is_ok(),
            "A's oldest gave its slot up"
        );
        let _b1 = slots.admit(B, server()).expect("B is not crowded out");
        let _b2 = slots.admit(B, server()).expect("B is not crowded out");
        assert_eq!(slots.len(), 4);
    }
}
