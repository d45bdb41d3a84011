//! Readiness checks: PID file present (and live), pattern matched, TCP port accepting,
//! HTTP URL answering 200.
//!
//! The URL form the HTTP probe accepts is checked by [`crate::http_url`], which the
//! manifest uses too.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::http_url::parse_http_url;

use crate::locate::{Found, locate};
use crate::manifest::{Process, Ready};
use crate::procs::Snapshot;

/// How long one network probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Probes `process` once. `Ok(detail)` when ready, `Err(reason)` otherwise.
///
/// # Errors
/// Why the process is not ready.
pub fn probe(process: &Process, snap: &Snapshot) -> Result<String, String> {
    match &process.ready {
        Ready::PidFile | Ready::Pattern => match locate(process, snap).found {
            Found::Running { targets, source } => {
                let pids: Vec<String> = targets.iter().map(|t| t.pid.to_string()).collect();
                Ok(format!(
                    "running as PID {} ({})",
                    pids.join(","),
                    source.label()
                ))
            }
            Found::NotRunning => Err("not running".into()),
            Found::Ambiguous { pids } => Err(format!(
                "pattern matches {} processes (more than max_matches)",
                pids.len()
            )),
        },
        Ready::Tcp(addr) => connect(addr).map(|_| format!("{addr} accepts connections")),
        Ready::Http(url) => http_get(url),
    }
}

/// The snapshot [`probe`] needs for `processes`: the process table is read only when one of
/// them has a process-based check (network checks need none).
pub fn snapshot_for<'m>(processes: impl IntoIterator<Item = &'m Process>) -> Snapshot {
    if processes
        .into_iter()
        .any(|p| matches!(p.ready, Ready::PidFile | Ready::Pattern))
    {
        Snapshot::capture()
    } else {
        Snapshot::from_procs([])
    }
}

fn connect(addr: &str) -> Result<TcpStream, String> {
    let addrs: Vec<_> = addr
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {addr}: {e}"))?
        .collect();
    let mut last = format!("{addr} resolves to no address");
    for a in addrs {
        match TcpStream::connect_timeout(&a, PROBE_TIMEOUT) {
            Ok(s) => return Ok(s),
            Err(e) => last = format!("{addr}: {e}"),
        }
    }
    Err(last)
}

fn http_get(url: &str) -> Result<String, String> {
    let (addr, path) = parse_http_url(url)?;
    let mut stream = connect(&addr)?;
    let _ = stream.set_read_timeout(Some(PROBE_TIMEOUT));
    let _ = stream.set_write_timeout(Some(PROBE_TIMEOUT));
    let host = addr.rsplit_once(':').map_or(addr.as_str(), |(h, _)| h);
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nUser-Agent: gracefulctl\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("{url}: {e}"))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 256];
    while !head.contains(&b'\n') && head.len() < 4096 {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("{url}: {e}")),
        }
    }
    let line = String::from_utf8_lossy(&head);
    let status_line = line.lines().next().unwrap_or("").trim().to_owned();
    let code = status_line.split_whitespace().nth(1).unwrap_or("");
    if code == "200" {
        Ok(format!("{url} answered 200"))
    } else if status_line.is_empty() {
        Err(format!("{url} closed the connection without answering"))
    } else {
        Err(format!("{url} answered `{status_line}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_probe_against_a_real_listener() {
        use std::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            for answer in ["HTTP/1.1 200 OK", "HTTP/1.1 503 Service Unavailable"] {
                let (mut s, _) = listener.accept().unwrap();
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).unwrap();
                s.write_all(format!("{answer}\r\nContent-Length: 0\r\n\r\n").as_bytes())
                    .unwrap();
            }
        });
        let url = format!("http://127.0.0.1:{port}/health/ready");
        assert!(http_get(&url).is_ok());
        let err = http_get(&url).unwrap_err();
        assert!(err.contains("503"), "{err}");
        server.join().unwrap();
    }
}
