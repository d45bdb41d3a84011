//! Asking a graceful service to stop through its admin API: a `POST` to its shutdown route
//! (the manifest's `stop_url`), the same request as
//! `curl -X POST -H "X-API-Key: …" http://127.0.0.1:9090/shutdown`.
//!
//! This is how `stop` asks politely on Windows, where no signal reaches a console process
//! from outside (see the README's "Windows" section). The service starts the same graceful
//! shutdown a SIGTERM starts; it answers 200 whether it started it now or was already
//! stopping, and 404 `DAEMON_NOT_RUNNING` once its shutdown has finished (any other 404 means
//! the URL names no shutdown route). The route needs a key with the `system` scope, read
//! from `GRACEFUL_ADMIN_API_KEY`.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::http_url::parse_http_url;

/// The environment variable holding the API key sent with the request.
pub const KEY_ENV: &str = "GRACEFUL_ADMIN_API_KEY";

/// How long connecting, sending and reading the answer may each take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// What the service answered to `POST /shutdown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 200: it is stopping (started now, or already under way).
    Stopping,
    /// 404 `DAEMON_NOT_RUNNING`: its shutdown has already finished; it is about to exit.
    Finished,
}

/// Why the request did not reach the service, or was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The URL is not `http://HOST[:PORT]/PATH`.
    #[error("the stop URL {0}")]
    Url(String),
    /// No connection, or the exchange broke off.
    #[error("cannot reach the admin API at {url}: {source}")]
    Io {
        /// The URL asked.
        url: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// 401 or 403: no key, or one without the `system` scope.
    #[error(
        "the admin API at {url} refused the request ({status}): set {KEY_ENV} to a key with the \
         `system` scope"
    )]
    Refused {
        /// The URL asked.
        url: String,
        /// The status line.
        status: String,
    },
    /// 404 without `DAEMON_NOT_RUNNING`: no such route.
    #[error(
        "{url} answered `{status}`: it is not a shutdown route; set `stop_url` to the admin \
         API's `/shutdown`, with the API's prefix and the route's own name if it has them"
    )]
    NoRoute {
        /// The URL asked.
        url: String,
        /// The status line.
        status: String,
    },
    /// Any other answer.
    #[error("the admin API at {url} answered `{status}`")]
    Unexpected {
        /// The URL asked.
        url: String,
        /// The status line.
        status: String,
    },
}

/// Sends `POST url` with `key` (if any) as `X-API-Key`.
///
/// # Errors
/// [`AdminError`] when the service cannot be reached or does not accept the request.
pub fn request_shutdown(url: &str, key: Option<&str>) -> Result<Answer, AdminError> {
    let url = url.to_owned();
    let (addr, path) = parse_http_url(&url).map_err(AdminError::Url)?;
    let io = |source| AdminError::Io {
        url: url.clone(),
        source,
    };
    let target = addr
        .to_socket_addrs()
        .map_err(io)?
        .next()
        .ok_or_else(|| io(std::io::Error::other("the host resolves to no address")))?;
    let mut stream = TcpStream::connect_timeout(&target, TIMEOUT).map_err(io)?;
    stream.set_read_timeout(Some(TIMEOUT)).map_err(io)?;
    stream.set_write_timeout(Some(TIMEOUT)).map_err(io)?;
    let body = r#"{"reason":"gracefulctl stop"}"#;
    let key_header = key.map_or(String::new(), |k| format!("X-API-Key: {k}\r\n"));
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nUser-Agent: gracefulctl\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n{key_header}\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).map_err(io)?;
    // The whole answer (the service closes the connection): its status line, and for a 404
    // the error code in its body.
    let mut answer = Vec::new();
    (&mut stream)
        .take(64 * 1024)
        .read_to_end(&mut answer)
        .map_err(io)?;
    let text = String::from_utf8_lossy(&answer);
    let status = text.lines().next().unwrap_or("").trim().to_owned();
    match status.split_whitespace().nth(1) {
        Some("200") => Ok(Answer::Stopping),
        Some("404") if text.contains("DAEMON_NOT_RUNNING") => Ok(Answer::Finished),
        Some("404") => Err(AdminError::NoRoute { url, status }),
        Some("401" | "403") => Err(AdminError::Refused { url, status }),
        _ if status.is_empty() => Err(io(std::io::Error::other(
            "the connection closed without an answer",
        ))),
        _ => Err(AdminError::Unexpected { url, status }),
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;

    /// A one-request server on 127.0.0.1 answering `status` and `body`; returns its URL and
    /// the request it received.
    fn serve_once(
        status: &'static str,
        body: &'static str,
    ) -> (String, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/ops/shutdown", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 1024];
            // Read until the JSON body has arrived.
            while !got.ends_with(b"}") {
                let n = s.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            let len = body.len();
            s.write_all(format!("{status}\r\nContent-Length: {len}\r\n\r\n{body}").as_bytes())
                .unwrap();
            String::from_utf8(got).unwrap()
        });
        (url, server)
    }

    #[test]
    fn posts_to_the_shutdown_route_with_the_key() {
        let (url, server) = serve_once("HTTP/1.1 200 OK", "{}");
        assert_eq!(
            request_shutdown(&url, Some("s3cret")).unwrap(),
            Answer::Stopping
        );
        let got = server.join().unwrap();
        assert!(got.starts_with("POST /ops/shutdown HTTP/1.1\r\n"), "{got}");
        assert!(got.contains("\r\nX-API-Key: s3cret\r\n"), "{got}");
        assert!(got.ends_with(r#"{"reason":"gracefulctl stop"}"#), "{got}");
    }

    #[test]
    fn a_refused_key_says_which_variable_to_set() {
        let (url, server) = serve_once("HTTP/1.1 401 Unauthorized", "");
        let err = request_shutdown(&url, None).unwrap_err();
        server.join().unwrap();
        let msg = err.to_string();
        assert!(msg.contains("401") && msg.contains(KEY_ENV), "{msg}");
    }

    #[test]
    fn a_finished_service_is_not_an_error_and_a_wrong_route_or_nobody_listening_is() {
        let (url, server) = serve_once(
            "HTTP/1.1 404 Not Found",
            r#"{"error":{"code":"DAEMON_NOT_RUNNING"}}"#,
        );
        assert_eq!(request_shutdown(&url, None).unwrap(), Answer::Finished);
        server.join().unwrap();
        let (url, server) = serve_once(
            "HTTP/1.1 404 Not Found",
            r#"{"error":{"code":"NOT_FOUND"}}"#,
        );
        let err = request_shutdown(&url, None).unwrap_err();
        server.join().unwrap();
        assert!(
            matches!(err, AdminError::NoRoute { .. }) && err.to_string().contains("stop_url"),
            "{err}"
        );
        // A port nobody listens on: bind one, then close it.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = request_shutdown(&format!("http://127.0.0.1:{port}/shutdown"), None).unwrap_err();
        assert!(matches!(err, AdminError::Io { .. }), "{err}");
    }
}
