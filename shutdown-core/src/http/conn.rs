//! The registry of live connections and of their requests that are still running, so that
//! work abandoned at the drain deadline is named in the report (method, path, age).
//!
//! Paid only on the slow path: a request is written into its connection's list the first
//! time it has to wait (its handler or its response body returns `Pending`). A request
//! answered in one go (most of them) costs a reference-counted copy of its path and nothing
//! else; a request that waits costs one uncontended lock to add it and one to remove it.
//! Nothing is formatted until the drain deadline passes with requests left.
//!
//! For the report's timeline, the requests still listed when the listener closes are copied,
//! once, into the engine's list of drained requests (see `crate::requests`), and each of them
//! writes its end there when it leaves its connection's list: the requests answered in one
//! go pay nothing more.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::Waker;
use std::time::Instant;

use http::Method;
use http::uri::PathAndQuery;

use super::shared::{Shared, Stage};
use crate::report::RequestOutcome;
use crate::requests::{DrainedRequests, Slot};
use crate::shutdown::Shutdown;

/// Every live connection of one [`serve`](crate::http::serve).
#[derive(Default)]
pub(crate) struct Registry {
    /// Keyed by opening order, which is the order [`wake`](Self::wake) visits them in.
    conns: Mutex<BTreeMap<u64, Weak<ConnState>>>,
    next: AtomicU64,
    /// Where the drained requests are listed; `None` for a registry without an engine.
    drained: Option<Drained>,
}

/// The engine's list of drained requests, and the engine (for the shutdown's start).
struct Drained {
    list: Arc<DrainedRequests>,
    shutdown: Shutdown,
}

impl Drained {
    fn add(
        &self,
        method: &Method,
        path: &Option<PathAndQuery>,
        since: Instant,
        ended: Option<RequestOutcome>,
    ) -> Option<Slot> {
        let path = path.as_ref().map_or("/", PathAndQuery::path);
        self.list.add(
            self.shutdown.control().shutdown_start(),
            method.as_str(),
            path,
            since,
            ended,
        )
    }
}

impl Registry {
    /// The registry of one `serve` of `shutdown`'s engine.
    pub(crate) fn new(shutdown: &Shutdown) -> Self {
        Registry {
            drained: Some(Drained {
                list: shutdown.extension::<DrainedRequests>(),
                shutdown: shutdown.clone(),
            }),
            ..Registry::default()
        }
    }

    /// Lists every request waiting now in the engine's drained requests: called once, when
    /// the listener has closed. A request that waits later is not listed.
    pub(crate) fn list_in_flight(&self) {
        let Some(drained) = &self.drained else {
            return;
        };
        let conns: Vec<Arc<ConnState>> = crate::sync::lock(&self.conns)
            .values()
            .filter_map(Weak::upgrade)
            .collect();
        for conn in conns {
            for r in crate::sync::lock(&conn.requests).iter_mut() {
                if r.slot.is_none() {
                    r.slot = drained.add(&r.method, &r.path, r.since, None);
                }
            }
        }
    }

    /// The drain stops waiting: the listed requests still running are abandoned. Returns
    /// what is still open, as [`describe`](Self::describe).
    pub(crate) fn abandon(&self) -> Vec<String> {
        if let Some(drained) = &self.drained {
            drained.list.abandon_running();
        }
        self.describe()
    }

    /// Registers a new connection; it leaves the registry when the returned state is dropped.
    /// `peer` is how the report names the client (`127.0.0.1:5000`, a socket path).
    pub(crate) fn open(self: &Arc<Self>, peer: String, shared: Arc<Shared>) -> Arc<ConnState> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(ConnState {
            id,
            peer,
            since: Instant::now(),
            requests: Mutex::new(Vec::new()),
            next_request: AtomicU64::new(0),
            protocol: AtomicU8::new(Protocol::Unknown as u8),
            registry: Arc::downgrade(self),
            shared,
            task: Mutex::new(None),
        });
        crate::sync::lock(&self.conns).insert(id, Arc::downgrade(&state));
        state
    }

    /// Connections open now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        crate::sync::lock(&self.conns).len()
    }

    /// Wakes the connection tasks that have something to do in `stage`, after
    /// [`Shared::enter`]: in the lame-duck window and at the drain only HTTP/2 connections
    /// (they send GOAWAY; an HTTP/1 connection answers its next request with `Connection:
    /// close` without being woken, and one that has sent nothing waits for the grace); at the
    /// end of the grace or when aborting, every connection still open.
    ///
    /// The oldest connection first, as `axum::serve`'s `Notify` does: the connections then
    /// close, and free their buffers, in the order they were allocated. In the order of a hash
    /// map, closing 10 000 idle connections took about 30 % more CPU, most of it in the
    /// allocator merging scattered free blocks (`benches/idle_connections.sh`).
    pub(crate) fn wake(&self, stage: Stage) {
        let conns: Vec<Arc<ConnState>> = crate::sync::lock(&self.conns)
            .values()
            .filter_map(Weak::upgrade)
            .collect();
        for conn in conns {
            if (stage >= Stage::GraceOver || conn.protocol() == Protocol::Http2)
                && let Some(waker) = crate::sync::lock(&conn.task).as_ref()
            {
                waker.wake_by_ref();
            }
        }
    }

    /// One line per waiting request (`GET /slow from 127.0.0.1:5000, 12.1s`), or per
    /// connection without one.
    pub(crate) fn describe(&self) -> Vec<String> {
        let conns: Vec<Arc<ConnState>> = crate::sync::lock(&self.conns)
            .values()
            .filter_map(Weak::upgrade)
            .collect();
        let now = Instant::now();
        let mut lines = Vec::new();
        for conn in conns {
            let requests = crate::sync::lock(&conn.requests).clone();
            if requests.is_empty() {
                lines.push(format!(
                    "http connection from {} without a request in flight, open {:.1}s",
                    conn.peer,
                    now.duration_since(conn.since).as_secs_f64()
                ));
            }
            for r in requests {
                lines.push(format!(
                    "http {} {} from {}, running {:.1}s",
                    r.method,
                    r.path.as_ref().map_or("/", |p| p.path()),
                    conn.peer,
                    now.duration_since(r.since).as_secs_f64()
                ));
            }
        }
        lines
    }
}

#[derive(Clone)]
struct RequestInfo {
    id: u64,
    method: Method,
    path: Option<PathAndQuery>,
    since: Instant,
    /// Its entry in the engine's drained requests, once listed there.
    slot: Option<Slot>,
}

/// One live connection.
pub(crate) struct ConnState {
    id: u64,
    peer: String,
    since: Instant,
    requests: Mutex<Vec<RequestInfo>>,
    next_request: AtomicU64,
    /// The protocol of its first request ([`Protocol`]); `Unknown` before one started.
    protocol: AtomicU8,
    registry: Weak<Registry>,
    shared: Arc<Shared>,
    /// The connection task, woken when the stage changes (see [`Registry::wake`]).
    task: Mutex<Option<Waker>>,
}

impl ConnState {
    /// What the connections of this `serve` share.
    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Notes that a request started, and on which protocol (one load, and one store the
    /// first time).
    #[inline]
    pub(crate) fn mark_used(&self, http2: bool) {
        if self.protocol.load(Ordering::Relaxed) == Protocol::Unknown as u8 {
            let p = if http2 {
                Protocol::Http2
            } else {
                Protocol::Http1
            };
            self.protocol.store(p as u8, Ordering::Relaxed);
        }
    }

    /// Lists a request refused during the drain in the engine's drained requests.
    pub(crate) fn refused(&self, method: &Method, uri: &http::Uri) {
        if let Some(registry) = self.registry.upgrade()
            && let Some(drained) = &registry.drained
        {
            let path = uri.path_and_query().cloned();
            drained.add(method, &path, Instant::now(), Some(RequestOutcome::Refused));
        }
    }

    /// Records the end of a request the drain listed.
    fn ended(&self, slot: Slot, outcome: RequestOutcome) {
        if let Some(registry) = self.registry.upgrade()
            && let Some(drained) = &registry.drained
        {
            drained.list.end(slot, outcome);
        }
    }

    /// The protocol of the connection's first request; `Unknown` before one started.
    pub(crate) fn protocol(&self) -> Protocol {
        match self.protocol.load(Ordering::Relaxed) {
            0 => Protocol::Unknown,
            1 => Protocol::Http1,
            _ => Protocol::Http2,
        }
    }

    /// The server's stage. The first call registers the connection task to be woken when it
    /// changes; later calls are one atomic load (the task's waker does not change).
    pub(crate) fn stage(&self, registered: &mut bool, waker: &Waker) -> Stage {
        if !*registered {
            *registered = true;
            *crate::sync::lock(&self.task) = Some(waker.clone());
        }
        // Read after registering: `serve` sets the stage before it wakes the registered tasks.
        self.shared.stage()
    }
}

/// The protocol a connection speaks, known once its first request started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    Unknown = 0,
    Http1 = 1,
    Http2 = 2,
}

impl Drop for ConnState {
    fn drop(&mut self) {
        if let Some(registry) = self.registry.upgrade() {
            crate::sync::lock(&registry.conns).remove(&self.id);
        }
    }
}

/// One request of a connection, written into the connection's list only once it waits
/// ([`RequestRecord::waiting`]) and taken out of it when dropped (response sent, or the
/// request cancelled).
pub(crate) struct RequestRecord {
    conn: Arc<ConnState>,
    method: Method,
    path: Option<PathAndQuery>,
    /// Its id once written into the list; `0` before (ids start at 1).
    listed: u64,
}

impl RequestRecord {
    pub(crate) fn new(conn: Arc<ConnState>, method: &Method, uri: &http::Uri) -> Self {
        RequestRecord {
            conn,
            method: method.clone(),
            path: uri.path_and_query().cloned(),
            listed: 0,
        }
    }

    /// The connection the request came on.
    pub(crate) fn conn(&self) -> &ConnState {
        &self.conn
    }

    /// The request's method.
    pub(crate) fn method(&self) -> &Method {
        &self.method
    }

    /// The request's path and query (`/` when the URI has none).
    pub(crate) fn path(&self) -> &str {
        self.path.as_ref().map_or("/", PathAndQuery::as_str)
    }

    /// The request has to wait: from now on, it is named if the drain deadline passes.
    pub(crate) fn waiting(&mut self) {
        if self.listed != 0 {
            return;
        }
        let conn = &self.conn;
        let id = conn.next_request.fetch_add(1, Ordering::Relaxed) + 1;
        let info = RequestInfo {
            id,
            method: self.method.clone(),
            path: self.path.clone(),
            since: Instant::now(),
            slot: None,
        };
        crate::sync::lock(&conn.requests).push(info);
        self.listed = id;
    }

    /// `true` once the request waited (it is in its connection's list).
    #[inline]
    pub(crate) fn is_listed(&self) -> bool {
        self.listed != 0
    }

    /// Its response was sent in full (in place: the record is dropped where it lies, not
    /// moved, which the per-request path would pay for).
    #[inline]
    pub(crate) fn served(&mut self) {
        self.leave(RequestOutcome::Served);
    }

    /// Takes the request out of its connection's list, if it is there.
    #[inline]
    fn leave(&mut self, outcome: RequestOutcome) {
        if self.listed != 0 {
            self.unlist(outcome);
        }
    }

    /// [`leave`](Self::leave)'s slow path: a request the drain listed records its end. Kept
    /// out of line, so that the per-request path that inlines `leave` stays small.
    #[cold]
    #[inline(never)]
    fn unlist(&mut self, outcome: RequestOutcome) {
        let listed = std::mem::take(&mut self.listed);
        let slot = {
            let mut r = crate::sync::lock(&self.conn.requests);
            r.iter()
                .position(|e| e.id == listed)
                .and_then(|i| r.swap_remove(i).slot)
        };
        if let Some(slot) = slot {
            self.conn.ended(slot, outcome);
        }
    }
}

impl Drop for RequestRecord {
    /// Dropped before [`served`](RequestRecord::served): the connection closed (or the drain
    /// deadline cancelled it) before the response was complete.
    fn drop(&mut self) {
        self.leave(RequestOutcome::Dropped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared() -> Arc<Shared> {
        Arc::new(Shared::new(
            &crate::http::HttpConfig::default(),
            std::time::Duration::from_secs(10),
        ))
    }

    /// Records the order in which connection tasks are woken.
    struct Woken {
        id: usize,
        order: Arc<Mutex<Vec<usize>>>,
    }

    impl std::task::Wake for Woken {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            crate::sync::lock(&self.order).push(self.id);
        }
    }

    #[test]
    fn wakes_connections_in_the_order_they_opened() {
        let registry = Arc::new(Registry::default());
        let shared = shared();
        let order = Arc::new(Mutex::new(Vec::new()));
        let conns: Vec<Arc<ConnState>> = (0..200)
            .map(|id| {
                let conn = registry.open(format!("127.0.0.1:{}", 4000 + id), shared.clone());
                let waker = Waker::from(Arc::new(Woken {
                    id,
                    order: order.clone(),
                }));
                conn.stage(&mut false, &waker);
                conn
            })
            .collect();
        // Some close early, as under load; the rest are woken oldest first.
        let open: Vec<_> = conns.into_iter().filter(|c| c.id % 3 != 1).collect();
        shared.enter(Stage::GraceOver);
        registry.wake(Stage::GraceOver);
        let woken = crate::sync::lock(&order).clone();
        let expected: Vec<usize> = (0..200).filter(|id| id % 3 != 1).collect();
        assert_eq!(woken, expected);
        assert_eq!(registry.len(), open.len());
    }

    #[test]
    fn names_waiting_requests_and_forgets_finished_ones() {
        let registry = Arc::new(Registry::default());
        let conn = registry.open("127.0.0.1:4000".to_string(), shared());
        let uri: http::Uri = "/slow?ms=5".parse().expect("uri");
        let mut record = RequestRecord::new(conn.clone(), &Method::GET, &uri);
        assert!(
            registry.describe()[0].contains("without a request"),
            "a request answered at once is never listed"
        );
        record.waiting();
        record.waiting();
        let lines = registry.describe();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with("http GET /slow from 127.0.0.1:4000"),
            "{lines:?}"
        );
        drop(record);
        assert!(registry.describe()[0].contains("without a request"));
        drop(conn);
        assert_eq!(registry.len(), 0);
        assert!(registry.describe().is_empty());
    }
}
