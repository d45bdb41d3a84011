//! A load client that never retries, as most HTTP clients behave with a request they already
//! wrote: hyper's low-level `http1` / `http2` handshake on a raw `TcpStream`, one request at a
//! time per connection, never resent. When the server tells it to leave (`Connection: close`,
//! or a GOAWAY) it opens a new connection; when connecting fails it stops (direct tests) or
//! counts the failure (behind a balancer).
//!
//! What it counts, per request it meant to send:
//! - `answered`: a complete `200` response;
//! - `lost`: written, and no complete response came (a reset, an end of stream, a cut body);
//! - `dropped`: the connection it was about to use was closed by the server without telling
//!   (no `Connection: close`, no GOAWAY). Such a request was not written, but only because the
//!   close came first: sent a moment earlier it would be `lost`, so a server that loses
//!   nothing must not do it;
//! - `refused`: a response other than `200`, or (behind a balancer) a connect that failed.

use std::error::Error as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use super::{HANG_GUARD, eventually};

/// HTTP/1.1 keep-alive or HTTP/2 prior knowledge (h2c).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Http1,
    Http2,
}

/// What one load run does.
#[derive(Debug, Clone)]
pub struct Plan {
    pub addr: SocketAddr,
    pub proto: Proto,
    /// Connections, each with its own worker.
    pub connections: usize,
    pub path: &'static str,
    /// Pause after each response before the next request on the same connection.
    pub pause: Duration,
    /// `true`: a refused connect ends the worker (a direct test, where the listener closes);
    /// `false`: it is counted as `refused` and the worker tries again (behind a balancer).
    pub stop_when_refused: bool,
}

/// The counts of one run (see the module docs).
#[derive(Debug, Default)]
pub struct Tally {
    pub answered: AtomicU64,
    pub lost: AtomicU64,
    pub dropped: AtomicU64,
    pub refused: AtomicU64,
    errors: Mutex<Vec<String>>,
}

impl Tally {
    fn note(&self, what: &AtomicU64, error: String) {
        what.fetch_add(1, Ordering::Relaxed);
        let mut errors = self.errors.lock().expect("errors");
        if errors.len() < 20 {
            errors.push(error);
        }
    }

    /// The first errors seen, for assertion messages.
    pub fn errors(&self) -> Vec<String> {
        self.errors.lock().expect("errors").clone()
    }

    pub fn get(&self, what: &AtomicU64) -> u64 {
        what.load(Ordering::Relaxed)
    }

    /// `answered=… lost=… dropped=… refused=…`.
    pub fn summary(&self) -> String {
        format!(
            "answered={} lost={} dropped={} refused={}",
            self.get(&self.answered),
            self.get(&self.lost),
            self.get(&self.dropped),
            self.get(&self.refused)
        )
    }
}

/// A running load.
pub struct Load {
    pub tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

impl Load {
    pub fn start(plan: Plan) -> Load {
        let tally = Arc::new(Tally::default());
        let stop = Arc::new(AtomicBool::new(false));
        let workers = (0..plan.connections)
            .map(|_| tokio::spawn(worker(plan.clone(), tally.clone(), stop.clone())))
            .collect();
        Load {
            tally,
            stop,
            workers,
        }
    }

    /// Waits until `n` requests have been answered (a hang guard, not a speed assertion).
    pub async fn answered_at_least(&self, n: u64) {
        let tally = self.tally.clone();
        eventually(&format!("{n} requests answered"), || {
            let t = tally.clone();
            async move { t.get(&t.answered) >= n }
        })
        .await;
    }

    /// Waits until every worker has stopped by itself (the listener refused it).
    pub async fn finished(self) -> Arc<Tally> {
        for w in self.workers {
            tokio::time::timeout(HANG_GUARD, w)
                .await
                .expect("the workers stop once connects are refused")
                .expect("worker");
        }
        self.tally
    }

    /// Stops the workers after their current request and waits for them.
    pub async fn stop(self) -> Arc<Tally> {
        self.stop.store(true, Ordering::Relaxed);
        self.finished().await
    }
}

enum Sender {
    H1(http1::SendRequest<Empty<Bytes>>),
    H2(http2::SendRequest<Empty<Bytes>>),
}

/// One connection, and whether the server told the client to leave it (HTTP/2: a GOAWAY; on
/// HTTP/1 a `Connection: close` response ends the connection's use at once).
struct Conn {
    sender: Sender,
    told_to_leave: bool,
    /// hyper's connection task: on HTTP/2 it ends `Ok` only after a GOAWAY with `NO_ERROR`
    /// (h2 reports an end of stream without one as an error).
    task: JoinHandle<Result<(), hyper::Error>>,
}

impl Conn {
    /// Whether the server told the client to leave before the connection closed.
    async fn was_told(&mut self) -> bool {
        if self.told_to_leave {
            return true;
        }
        if matches!(self.sender, Sender::H1(_)) {
            return false;
        }
        matches!(
            tokio::time::timeout(HANG_GUARD, &mut self.task).await,
            Ok(Ok(Ok(())))
        )
    }
}

async fn connect(plan: &Plan) -> Result<Conn, String> {
    let stream = TcpStream::connect(plan.addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    let io = TokioIo::new(stream);
    let (sender, task) = match plan.proto {
        Proto::Http1 => {
            let (sender, conn) = http1::handshake(io)
                .await
                .map_err(|e| format!("handshake: {e}"))?;
            (Sender::H1(sender), tokio::spawn(conn))
        }
        Proto::Http2 => {
            let (sender, conn) = http2::handshake(TokioExecutor::new(), io)
                .await
                .map_err(|e| format!("handshake: {e}"))?;
            (Sender::H2(sender), tokio::spawn(conn))
        }
    };
    Ok(Conn {
        sender,
        told_to_leave: false,
        task,
    })
}

/// What became of one request.
enum Outcome {
    Answered {
        status: u16,
        close: bool,
    },
    /// Not written: the connection was already closed (or, on HTTP/2, going away).
    NotSent,
    /// Written, no complete response.
    Lost(String),
}

fn is_goaway(e: &hyper::Error) -> bool {
    e.source()
        .and_then(|s| s.downcast_ref::<h2::Error>())
        .is_some_and(|h2| {
            h2.is_go_away() && h2.is_remote() && h2.reason() == Some(h2::Reason::NO_ERROR)
        })
}

async fn send(conn: &mut Conn, path: &str) -> Outcome {
    let req = hyper::Request::get(format!("http://127.0.0.1{path}"))
        .body(Empty::<Bytes>::new())
        .expect("request");
    let response = match &mut conn.sender {
        Sender::H1(s) => {
            if s.ready().await.is_err() {
                return Outcome::NotSent;
            }
            match s.try_send_request(req).await {
                Ok(r) => r,
                Err(mut e) => {
                    // Handed back: hyper never wrote it (the connection closed first).
                    if e.take_message().is_some() {
                        return Outcome::NotSent;
                    }
                    return Outcome::Lost(e.into_error().to_string());
                }
            }
        }
        Sender::H2(s) => {
            if s.ready().await.is_err() {
                return Outcome::NotSent;
            }
            match s.try_send_request(req).await {
                Ok(r) => r,
                Err(mut e) => {
                    // Handed back: hyper never gave it to h2 (the connection closed first).
                    if e.take_message().is_some() {
                        return Outcome::NotSent;
                    }
                    let e = e.into_error();
                    // After a GOAWAY the h2 client opens no stream: it fails the request
                    // before writing it, with the GOAWAY's error (streams the server had not
                    // received would get the same error, but the server's two-step GOAWAY
                    // names every stream opened before the client saw the first one).
                    if is_goaway(&e) {
                        conn.told_to_leave = true;
                        return Outcome::NotSent;
                    }
                    return Outcome::Lost(format!("{e}: {:?}", e.source()));
                }
            }
        }
    };
    let status = response.status().as_u16();
    let close = response
        .headers()
        .get(hyper::header::CONNECTION)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
    match response.into_body().collect().await {
        Ok(_) => Outcome::Answered { status, close },
        Err(e) => Outcome::Lost(format!("body cut: {e}")),
    }
}

async fn worker(plan: Plan, tally: Arc<Tally>, stop: Arc<AtomicBool>) {
    let mut conn: Option<Conn> = None;
    while !stop.load(Ordering::Relaxed) {
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match connect(&plan).await {
                Ok(c) => conn.insert(c),
                Err(e) if plan.stop_when_refused => {
                    let _ = e;
                    return;
                }
                Err(e) => {
                    tally.note(&tally.refused, e);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        match send(c, plan.path).await {
            Outcome::Answered { status, close } => {
                if status == 200 {
                    tally.answered.fetch_add(1, Ordering::Relaxed);
                } else {
                    tally.note(&tally.refused, format!("status {status}"));
                }
                if close {
                    // Told to leave: the next request goes on a new connection.
                    conn = None;
                }
                if !plan.pause.is_zero() {
                    tokio::time::sleep(plan.pause).await;
                }
            }
            Outcome::NotSent => {
                if !c.was_told().await {
                    tally.note(
                        &tally.dropped,
                        "the server closed a keep-alive connection without telling".into(),
                    );
                }
                conn = None;
            }
            Outcome::Lost(e) => {
                tally.note(&tally.lost, e);
                conn = None;
            }
        }
    }
}
