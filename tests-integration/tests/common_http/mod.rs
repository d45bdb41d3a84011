//! Helpers shared by the HTTP integration tests: start the fixture program as a real child
//! process, signal it, and talk to it over real sockets on 127.0.0.1.
#![allow(dead_code, unreachable_pub)] // each test binary uses a different subset

pub mod noretry;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::net::TcpStream;

/// A bound on how long any single wait in these tests may take before the test gives up:
/// a hang guard, never an assertion about speed.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// The fixture program, running.
pub struct Fixture {
    pub child: Child,
    pub addr: SocketAddr,
    lines: mpsc::Receiver<String>,
    pub stdout: Vec<String>,
}

impl Fixture {
    /// Starts `graceful-fixture-http` with `key=value` arguments and waits for `ready`.
    pub fn start(args: &[&str]) -> Fixture {
        Self::start_bin(env!("CARGO_BIN_EXE_graceful-fixture-http"), args)
    }

    pub fn start_bin(bin: &str, args: &[&str]) -> Fixture {
        Self::start_bin_env(bin, args, &[])
    }

    /// [`Fixture::start_bin`] with environment variables set.
    pub fn start_bin_env(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Fixture {
        Self::spawn(bin, args, env, Stdio::inherit())
    }

    /// [`Fixture::start`] with stderr piped: take it from `child.stderr` and read it to the
    /// end (it ends when the process exits).
    pub fn start_capturing_stderr(args: &[&str]) -> Fixture {
        let bin = env!("CARGO_BIN_EXE_graceful-fixture-http");
        Self::spawn(bin, args, &[], Stdio::piped())
    }

    fn spawn(bin: &str, args: &[&str], env: &[(&str, &str)], stderr: Stdio) -> Fixture {
        let mut child = Command::new(bin)
            .args(args)
            .envs(env.iter().copied())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start the fixture");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut fixture = Fixture {
            child,
            addr: ([127, 0, 0, 1], 0).into(),
            lines,
            stdout: Vec::new(),
        };
        loop {
            let line = fixture.next_line().expect("the fixture printed `ready`");
            if let Some(a) = line.strip_prefix("addr=") {
                fixture.addr = a.parse().expect("address");
            }
            if line == "ready" {
                break;
            }
        }
        fixture
    }

    fn next_line(&mut self) -> Option<String> {
        let line = self.lines.recv_timeout(HANG_GUARD).ok()?;
        self.stdout.push(line.clone());
        Some(line)
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// Sends SIGTERM.
    pub fn term(&self) {
        kill(self.pid(), Signal::SIGTERM).expect("SIGTERM");
    }

    /// `true` while the process runs.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Waits for the exit; returns the status and the report the fixture printed.
    pub fn wait(mut self) -> (ExitStatus, serde_json::Value) {
        let deadline = std::time::Instant::now() + HANG_GUARD;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                break s;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the fixture did not exit; stdout: {:?}", self.stdout);
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let mut report = serde_json::Value::Null;
        while let Some(line) = self.next_line() {
            if let Some(r) = line.strip_prefix("report=") {
                report = serde_json::from_str(r).expect("report JSON");
            }
        }
        (status, report)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The report's record of `phase`.
pub fn phase<'a>(report: &'a serde_json::Value, phase: &str) -> &'a serde_json::Value {
    report["phases"]
        .as_array()
        .and_then(|p| p.iter().find(|r| r["phase"] == phase))
        .unwrap_or_else(|| panic!("no phase {phase} in {report}"))
}

/// A response as the client saw it.
#[derive(Debug)]
pub struct Got {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

/// An HTTP/1.1 keep-alive connection.
pub struct H1 {
    pub sender: http1::SendRequest<Empty<Bytes>>,
    /// Resolves when the connection ends; `Err` on a reset or a protocol error.
    pub conn: tokio::task::JoinHandle<Result<(), hyper::Error>>,
}

pub async fn h1(addr: SocketAddr) -> std::io::Result<H1> {
    let stream = TcpStream::connect(addr).await?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    let conn = tokio::spawn(conn);
    Ok(H1 { sender, conn })
}

impl H1 {
    pub async fn get(&mut self, path: &str) -> Result<Got, hyper::Error> {
        self.sender.ready().await?;
        let req = hyper::Request::get(path)
            .header("host", "127.0.0.1")
            .body(Empty::<Bytes>::new())
            .expect("request");
        let res = self.sender.send_request(req).await?;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await?.to_bytes();
        Ok(Got {
            status,
            headers,
            body,
        })
    }
}

/// One GET on a new connection.
pub async fn get(addr: SocketAddr, path: &str) -> Result<Got, String> {
    let mut c = h1(addr).await.map_err(|e| format!("connect: {e}"))?;
    c.get(path).await.map_err(|e| format!("request: {e}"))
}

/// Polls `check` until it holds (condition wait with a hang guard, not a timing assertion).
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + HANG_GUARD;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `true` for the 4 KiB body of `/slow`.
pub fn full_slow_body(body: &[u8]) -> bool {
    body.len() == 4096 && body.ends_with(b"end")
}
