//! The registry of live connections and their in-flight requests, so that work abandoned at
//! the drain deadline is named in the report (method, path, age).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use http::{Method, Uri};

use super::drain::Shared;

/// Every live connection of one [`serve`](crate::http::serve).
#[derive(Default)]
pub(crate) struct Registry {
    conns: Mutex<HashMap<u64, Weak<ConnState>>>,
    next: AtomicU64,
}

impl Registry {
    /// Registers a new connection; it leaves the registry when the returned state is dropped.
    pub(crate) fn open(self: &Arc<Self>, peer: SocketAddr, shared: Arc<Shared>) -> Arc<ConnState> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(ConnState {
            id,
            peer,
            since: Instant::now(),
            requests: Mutex::new(Vec::new()),
            next_request: AtomicU64::new(0),
            registry: Arc::downgrade(self),
            shared,
        });
        if let Ok(mut conns) = self.conns.lock() {
            conns.insert(id, Arc::downgrade(&state));
        }
        state
    }

    /// Connections open now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.conns.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// One line per in-flight request (`GET /slow from 127.0.0.1:5000, 12.1s`), or per
    /// connection without one.
    pub(crate) fn describe(&self) -> Vec<String> {
        let conns: Vec<Arc<ConnState>> = match self.conns.lock() {
            Ok(c) => c.values().filter_map(Weak::upgrade).collect(),
            Err(_) => return Vec::new(),
        };
        let now = Instant::now();
        let mut lines = Vec::new();
        for conn in conns {
            let requests = conn.requests.lock().map(|r| r.clone()).unwrap_or_default();
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
                    r.uri.path(),
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
    uri: Uri,
    since: Instant,
}

/// One live connection.
pub(crate) struct ConnState {
    id: u64,
    peer: SocketAddr,
    since: Instant,
    requests: Mutex<Vec<RequestInfo>>,
    next_request: AtomicU64,
    registry: Weak<Registry>,
    shared: Arc<Shared>,
}

impl ConnState {
    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Records a request until the returned entry drops.
    pub(crate) fn request(self: &Arc<Self>, method: &Method, uri: &Uri) -> RequestEntry {
        let id = self.next_request.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut r) = self.requests.lock() {
            r.push(RequestInfo {
                id,
                method: method.clone(),
                uri: uri.clone(),
                since: Instant::now(),
            });
        }
        RequestEntry {
            conn: self.clone(),
            id,
        }
    }
}

impl Drop for ConnState {
    fn drop(&mut self) {
        if let Some(registry) = self.registry.upgrade()
            && let Ok(mut conns) = registry.conns.lock()
        {
            conns.remove(&self.id);
        }
    }
}

/// Removes its request from the connection's list when dropped (response produced, or the
/// request cancelled).
pub(crate) struct RequestEntry {
    conn: Arc<ConnState>,
    id: u64,
}

impl RequestEntry {
    pub(crate) fn conn(&self) -> &ConnState {
        &self.conn
    }
}

impl Drop for RequestEntry {
    fn drop(&mut self) {
        if let Ok(mut r) = self.conn.requests.lock()
            && let Some(i) = r.iter().position(|e| e.id == self.id)
        {
            r.swap_remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_requests_and_forgets_finished_ones() {
        let registry = Arc::new(Registry::default());
        let peer: SocketAddr = ([127, 0, 0, 1], 4000).into();
        let shutdown = crate::Graceful::builder()
            .signals([])
            .build()
            .expect("engine")
            .shutdown();
        let shared = Arc::new(Shared::new(&crate::http::HttpConfig::default(), shutdown));
        let conn = registry.open(peer, shared);
        let uri: Uri = "/slow?ms=5".parse().expect("uri");
        let entry = conn.request(&Method::GET, &uri);
        let lines = registry.describe();
        assert_eq!(lines.len(), 1);
        assert!(
            lines[0].starts_with("http GET /slow from 127.0.0.1:4000"),
            "{lines:?}"
        );
        drop(entry);
        assert!(registry.describe()[0].contains("without a request"));
        drop(conn);
        assert_eq!(registry.len(), 0);
        assert!(registry.describe().is_empty());
    }
}
