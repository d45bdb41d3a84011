//! A blocking HTTP/1.1 client for the upgrade tests: one exchange, the load's clients, the
//! admin API.

use super::*;

/// One HTTP/1.1 exchange's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Status and body.
    Answered(u16, String),
    /// `connect` failed.
    Refused(String),
    /// The connection broke after the request was written, before a complete response.
    Reset { got_bytes: bool, error: String },
}

/// Sends `GET path` on `stream` and reads one response (by `Content-Length`).
pub(crate) fn exchange(stream: &mut TcpStream, path: &str, close: bool) -> Outcome {
    exchange_on(stream, path, close).0
}

/// Sends `GET path` on `stream` and reads one response (by `Content-Length`); also whether the
/// response said `Connection: close` (a client must not send on that connection again).
pub(crate) fn exchange_on(stream: &mut TcpStream, path: &str, close: bool) -> (Outcome, bool) {
    let conn = if close { "close" } else { "keep-alive" };
    let req = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: {conn}\r\n\r\n");
    if let Err(e) = stream.write_all(req.as_bytes()) {
        let reset = Outcome::Reset {
            got_bytes: false,
            error: format!("write: {e}"),
        };
        return (reset, true);
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let status: u16 = head
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let header = |name: &str| {
                head.lines().find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                })
            };
            let len: usize = header("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let closes = header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
            if buf.len() >= end + 4 + len {
                let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string();
                return (Outcome::Answered(status, body), closes);
            }
        }
        let error = match stream.read(&mut chunk) {
            Ok(0) => "closed".to_string(),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                continue;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => e.to_string(),
        };
        let reset = Outcome::Reset {
            got_bytes: !buf.is_empty(),
            error,
        };
        return (reset, true);
    }
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

pub(crate) fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    let s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(10)).map_err(|e| e.to_string())?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    Ok(s)
}

/// What the load saw.
#[derive(Default)]
pub(crate) struct Seen {
    /// `(when, client kind, outcome, latency)`.
    pub(crate) results: Vec<(Instant, &'static str, Outcome, Duration)>,
    /// Readiness probes of the admin listener: `(when, status, or 0 when it got no answer)`.
    pub(crate) probes: Vec<(Instant, u16)>,
}

/// Keep-alive clients that send back to back on one connection (as `wrk` does), and one that
/// pauses between requests.
const KEEP_ALIVE_CLIENTS: usize = 4;

/// Clients running until `stop`, none of which ever retries a request: three that open a new
/// connection per request (`Connection: close`), keep-alive clients that reuse their connection
/// until the server says `Connection: close` (then open a new one for the next request), and a
/// long poll.
pub(crate) fn load(
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
) -> Vec<std::thread::JoinHandle<()>> {
    let mut threads = Vec::new();
    let record = |seen: &Mutex<Seen>, began: Instant, kind, outcome| {
        seen.lock()
            .expect("lock")
            .results
            .push((began, kind, outcome, began.elapsed()));
    };
    for _ in 0..3 {
        let (stop, seen) = (stop.clone(), seen.clone());
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let began = Instant::now();
                let outcome = match connect(addr) {
                    Ok(mut s) => exchange(&mut s, "/", true),
                    Err(e) => Outcome::Refused(e),
                };
                record(&seen, began, "new-connection", outcome);
            }
        }));
    }
    for client in 0..=KEEP_ALIVE_CLIENTS {
        let (stop, seen) = (stop.clone(), seen.clone());
        // The last one pauses between its requests, so that its connection is idle when a
        // drain starts as often as it is busy.
        let (kind, pause) = if client == KEEP_ALIVE_CLIENTS {
            ("keep-alive-20ms", Duration::from_millis(20))
        } else {
            ("keep-alive", Duration::ZERO)
        };
        threads.push(std::thread::spawn(move || {
            let mut conn: Option<TcpStream> = None;
            while !stop.load(Ordering::Relaxed) {
                let began = Instant::now();
                // Never retried: whatever happens to this request is its outcome.
                let outcome = match conn.take().map_or_else(|| connect(addr), Ok) {
                    Ok(mut s) => {
                        let (outcome, closes) = exchange_on(&mut s, "/", false);
                        if !closes {
                            conn = Some(s);
                        }
                        outcome
                    }
                    Err(e) => Outcome::Refused(e),
                };
                record(&seen, began, kind, outcome);
                std::thread::sleep(pause);
            }
        }));
    }
    {
        let (stop, seen) = (stop.clone(), seen.clone());
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let began = Instant::now();
                let outcome = match connect(addr) {
                    Ok(mut s) => exchange(&mut s, "/slow", true),
                    Err(e) => Outcome::Refused(e),
                };
                record(&seen, began, "long-poll", outcome);
            }
        }));
    }
    threads
}

/// A readiness probe of the admin listener every 10 ms until `stop`, each on a new connection
/// (as HAProxy's `option httpchk` and the kubelet probe), never retried.
pub(crate) fn probe(
    admin: SocketAddr,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let began = Instant::now();
            let status = get_ready(admin);
            seen.lock().expect("lock").probes.push((began, status));
            std::thread::sleep(Duration::from_millis(10));
        }
    })
}

/// `POST /upgrade` on the admin API: status and body.
pub(crate) fn post_upgrade(admin: SocketAddr) -> (u16, String) {
    let mut s = connect(admin).expect("the admin API answers");
    let _ = s.set_read_timeout(Some(HANG_GUARD));
    let req = format!(
        "POST /upgrade HTTP/1.1\r\nHost: test\r\nX-API-Key: {KEY}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    match exchange_raw(&mut s, &req) {
        Outcome::Answered(status, body) => (status, body),
        other => panic!("POST /upgrade: {other:?}"),
    }
}

pub(crate) fn exchange_raw(s: &mut TcpStream, req: &str) -> Outcome {
    if let Err(e) = s.write_all(req.as_bytes()) {
        return Outcome::Reset {
            got_bytes: false,
            error: format!("write: {e}"),
        };
    }
    let mut all = String::new();
    let _ = s.read_to_string(&mut all);
    match all.split_once("\r\n\r\n") {
        Some((head, body)) => Outcome::Answered(
            head.split(' ')
                .nth(1)
                .and_then(|c| c.parse().ok())
                .unwrap_or(0),
            body.to_string(),
        ),
        None => Outcome::Reset {
            got_bytes: !all.is_empty(),
            error: "no response".into(),
        },
    }
}

pub(crate) fn get_ready(admin: SocketAddr) -> u16 {
    match connect(admin) {
        Ok(mut s) => match exchange_raw(
            &mut s,
            "GET /health/ready HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        ) {
            Outcome::Answered(status, _) => status,
            _ => 0,
        },
        Err(_) => 0,
    }
}
