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
    let conn = if close { "close" } else { "keep-alive" };
    let req = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: {conn}\r\n\r\n");
    if let Err(e) = stream.write_all(req.as_bytes()) {
        return Outcome::Reset {
            got_bytes: false,
            error: format!("write: {e}"),
        };
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
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string();
                return Outcome::Answered(status, body);
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) => {
                return Outcome::Reset {
                    got_bytes: !buf.is_empty(),
                    error: "closed".into(),
                };
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                return Outcome::Reset {
                    got_bytes: !buf.is_empty(),
                    error: e.to_string(),
                };
            }
        }
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
    /// Keep-alive requests retried because the connection closed before any response byte.
    pub(crate) retried: usize,
}

/// Clients running until `stop`: new-connection-per-request, keep-alive, long-poll.
pub(crate) fn load(
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
) -> Vec<std::thread::JoinHandle<()>> {
    let mut threads = Vec::new();
    for _ in 0..3 {
        let (stop, seen) = (stop.clone(), seen.clone());
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let began = Instant::now();
                let outcome = match connect(addr) {
                    Ok(mut s) => exchange(&mut s, "/", true),
                    Err(e) => Outcome::Refused(e),
                };
                seen.lock().expect("lock").results.push((
                    began,
                    "new-connection",
                    outcome,
                    began.elapsed(),
                ));
            }
        }));
    }
    {
        let (stop, seen) = (stop.clone(), seen.clone());
        threads.push(std::thread::spawn(move || {
            let mut conn: Option<TcpStream> = None;
            while !stop.load(Ordering::Relaxed) {
                let began = Instant::now();
                let outcome = loop {
                    let (mut s, reused) = match conn.take() {
                        Some(s) => (s, true),
                        None => match connect(addr) {
                            Ok(s) => (s, false),
                            Err(e) => break Outcome::Refused(e),
                        },
                    };
                    match exchange(&mut s, "/", false) {
                        // A reused connection the server closed while idle: retried, as
                        // hyper-util's client retries a request that got no response byte.
                        Outcome::Reset {
                            got_bytes: false, ..
                        } if reused => {
                            seen.lock().expect("lock").retried += 1;
                        }
                        answered @ Outcome::Answered(..) => {
                            conn = Some(s);
                            break answered;
                        }
                        other => break other,
                    }
                };
                seen.lock().expect("lock").results.push((
                    began,
                    "keep-alive",
                    outcome,
                    began.elapsed(),
                ));
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
                seen.lock().expect("lock").results.push((
                    began,
                    "long-poll",
                    outcome,
                    began.elapsed(),
                ));
            }
        }));
    }
    threads
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
    s.write_all(req.as_bytes()).expect("write");
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
