//! In-place upgrades: a new binary replaces the old one on disk, the running service starts it
//! with its listeners, and nobody is refused. Real processes, real signals, real sockets on
//! 127.0.0.1; the load runs for the whole test.
//!
//! The service alternates between two builds: `v1` (the builder, `Graceful::run` on its own
//! runtime) and `v2` (`#[graceful::main]`), so every upgrade crosses the two doors.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{HANG_GUARD, Proc};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

const V1: &str = env!("CARGO_BIN_EXE_graceful-fixture-upgrade-v1");
const V2: &str = env!("CARGO_BIN_EXE_graceful-fixture-upgrade-v2");
const BROKEN: &str = env!("CARGO_BIN_EXE_graceful-fixture-upgrade-broken");
const KEY: &str = "upgrade-test-key";

/// Replaces `target` with a copy of `binary`, atomically (copy beside it, then rename), as a
/// deployment does.
fn install(binary: &str, target: &Path) {
    let tmp = target.with_extension("new");
    std::fs::copy(binary, &tmp).expect("copy the new build");
    std::fs::rename(&tmp, target).expect("rename over the old build");
}

/// One HTTP/1.1 exchange's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// Status and body.
    Answered(u16, String),
    /// `connect` failed.
    Refused(String),
    /// The connection broke after the request was written, before a complete response.
    Reset { got_bytes: bool, error: String },
}

/// Sends `GET path` on `stream` and reads one response (by `Content-Length`).
fn exchange(stream: &mut TcpStream, path: &str, close: bool) -> Outcome {
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

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    let s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(10)).map_err(|e| e.to_string())?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    Ok(s)
}

/// What the load saw.
#[derive(Default)]
struct Seen {
    /// `(when, client kind, outcome, latency)`.
    results: Vec<(Instant, &'static str, Outcome, Duration)>,
    /// Keep-alive requests retried because the connection closed before any response byte.
    retried: usize,
}

/// Clients running until `stop`: new-connection-per-request, keep-alive, long-poll.
fn load(
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

/// Waits (as this process's child subreaper) for `pid` to exit; its exit code.
fn reap(pid: i32) -> i32 {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        match waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => return code,
            Ok(WaitStatus::Signaled(_, sig, _)) => panic!("pid {pid} was killed by {sig}"),
            Ok(_) => {}
            Err(e) => panic!("waitpid({pid}): {e} (not a child of the test?)"),
        }
        assert!(
            Instant::now() < deadline,
            "pid {pid} did not exit within {HANG_GUARD:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| s.split(' ').nth(2) == Some("Z"))
}

/// The inode of the socket listening on `port` (from /proc/net/tcp).
fn listening_inode(port: u16) -> Option<String> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        let local = f.get(1)?;
        let state = f.get(3)?;
        let p = u16::from_str_radix(local.split(':').nth(1)?, 16).ok()?;
        (p == port && *state == "0A").then(|| f.get(9).map(|s| s.to_string()))?
    })
}

fn pid_file_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// `POST /upgrade` on the admin API: status and body.
fn post_upgrade(admin: SocketAddr) -> (u16, String) {
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

fn exchange_raw(s: &mut TcpStream, req: &str) -> Outcome {
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

fn get_ready(admin: SocketAddr) -> u16 {
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

/// A service started from `dir/svc`, with the environment of these tests.
struct Service {
    proc: Proc,
    dir: tempfile::TempDir,
    addr: SocketAddr,
    admin: SocketAddr,
    pid: i32,
}

impl Service {
    fn start(extra: &[(&str, &str)]) -> Service {
        // Orphans (every old process, once its predecessor exits) become our children, so
        // that the test reads their real exit codes.
        nix::sys::prctl::set_child_subreaper(true).expect("PR_SET_CHILD_SUBREAPER");
        let dir = common::temp_dir();
        let svc = dir.path().join("svc");
        install(V1, &svc);
        let state = dir.path().join("state");
        let pid_file = dir.path().join("svc.pid");
        let mut env = vec![
            ("GRACEFUL_ADMIN_API_KEY", KEY),
            ("SHUTDOWN_STATE_DIR", state.to_str().expect("utf-8")),
            (
                "GRACEFUL_UPGRADE_PID_FILE",
                pid_file.to_str().expect("utf-8"),
            ),
            ("SHUTDOWN_TIMEOUT", "30s"),
        ];
        env.extend_from_slice(extra);
        let mut proc = Proc::start(&svc, &[], &env);
        let addr: SocketAddr = proc
            .wait_for(|l| l.starts_with("addr="))
            .trim_start_matches("addr=")
            .parse()
            .expect("addr");
        let admin: SocketAddr = proc
            .wait_for(|l| l.starts_with("admin="))
            .trim_start_matches("admin=")
            .parse()
            .expect("admin addr");
        let pid: i32 = proc
            .wait_for(|l| l.starts_with("started pid="))
            .split(['=', ' '])
            .nth(2)
            .and_then(|p| p.parse().ok())
            .expect("pid");
        Service {
            proc,
            dir,
            addr,
            admin,
            pid,
        }
    }

    fn svc(&self) -> PathBuf {
        self.dir.path().join("svc")
    }

    fn pid_file(&self) -> PathBuf {
        self.dir.path().join("svc.pid")
    }

    /// Waits for the PID file to name `pid`.
    fn wait_pid_file(&self, pid: i32) {
        let deadline = Instant::now() + HANG_GUARD;
        while pid_file_pid(&self.pid_file()) != Some(pid) {
            assert!(
                Instant::now() < deadline,
                "the PID file never named {pid}: {:?}",
                pid_file_pid(&self.pid_file())
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The pids that printed `started`, in order.
    fn started(&mut self) -> Vec<i32> {
        self.proc
            .poll()
            .iter()
            .filter_map(|l| l.strip_prefix("started pid="))
            .filter_map(|l| l.split(' ').next()?.parse().ok())
            .collect()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        for pid in self.started() {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

#[test]
#[ignore = "load test (about a minute): 20 upgrades under load; .ci/run runs it"]
fn twenty_upgrades_under_load_refuse_nobody() {
    let mut service = Service::start(&[]);
    let port = service.addr.port();
    let inode = listening_inode(port).expect("the listening socket");
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let threads = load(service.addr, stop.clone(), seen.clone());
    service.wait_pid_file(service.pid);
    // Steady state first, for the latency comparison.
    std::thread::sleep(Duration::from_secs(3));
    let steady_until = Instant::now();

    let mut pid = service.pid;
    let mut windows = Vec::new();
    let mut handover = Vec::new();
    for round in 0..20 {
        let (next, version) = if round % 2 == 0 {
            (V2, "v2")
        } else {
            (V1, "v1")
        };
        install(next, &service.svc());
        let began = Instant::now();
        // Alternate the triggers: the signal, and the admin API (which answers with the pid).
        let new_pid = if round % 4 == 3 {
            let (status, body) = post_upgrade(service.admin);
            assert_eq!(status, 200, "POST /upgrade: {body}");
            let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
            v["data"]["successor_pid"].as_i64().expect("successor_pid") as i32
        } else {
            kill(Pid::from_raw(pid), Signal::SIGUSR2).expect("SIGUSR2");
            let line = service
                .proc
                .wait_for(|l| l.starts_with(&format!("reason pid={pid} ")));
            line.rsplit(' ')
                .next()
                .and_then(|p| p.parse().ok())
                .expect("the successor's pid")
        };
        assert_ne!(new_pid, pid);
        let reason = service
            .proc
            .wait_for(|l| l.starts_with(&format!("reason pid={pid} ")));
        assert_eq!(reason, format!("reason pid={pid} upgrade → pid {new_pid}"));
        assert_eq!(
            reap(pid),
            0,
            "the old process ({pid}) exits 0 after an upgrade"
        );
        let exited_after = began.elapsed();
        assert!(!alive(pid));
        assert!(alive(new_pid), "the successor {new_pid} serves");
        service.wait_pid_file(new_pid);
        assert_eq!(
            listening_inode(port).as_deref(),
            Some(inode.as_str()),
            "the same listening socket serves"
        );
        let started = service.started();
        assert_eq!(
            started.len(),
            round + 2,
            "exactly one successor per upgrade: {started:?}"
        );
        assert!(
            service
                .proc
                .poll()
                .iter()
                .any(|l| l == &format!("started pid={new_pid} version={version}")),
            "the successor runs the new build {version}"
        );
        windows.push((began, Instant::now()));
        handover.push(exited_after);
        pid = new_pid;
        std::thread::sleep(Duration::from_millis(300));
    }
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("load thread");
    }
    // State moved from process to process without the state directory.
    let snapshot = service.dir.path().join("state").join("hits.snapshot");
    assert!(
        !snapshot.exists(),
        "the hit counter was handed over, never written to disk"
    );
    kill(Pid::from_raw(pid), Signal::SIGTERM).expect("SIGTERM");
    assert_eq!(reap(pid), 0);
    assert!(
        snapshot.exists(),
        "the last process saves the counter at its shutdown"
    );

    let seen = seen.lock().expect("lock");
    let mut failures = Vec::new();
    let mut per_pid: BTreeMap<i32, (Instant, Instant)> = BTreeMap::new();
    let mut hits = Vec::new();
    let mut versions = BTreeSet::new();
    for (at, kind, outcome, _) in &seen.results {
        match outcome {
            Outcome::Answered(200, body) => {
                let f: Vec<&str> = body.split_whitespace().collect();
                versions.insert(f[0].to_string());
                let p: i32 = f[1].parse().expect("pid");
                let e = per_pid.entry(p).or_insert((*at, *at));
                e.0 = e.0.min(*at);
                e.1 = e.1.max(*at);
                if f[2] != "slow" {
                    hits.push(f[2].parse::<u64>().expect("hit"));
                }
            }
            other => failures.push(format!("{kind}: {other:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed requests: {:#?}",
        failures.len(),
        &failures[..failures.len().min(20)]
    );
    assert_eq!(
        versions,
        BTreeSet::from(["v1".to_string(), "v2".to_string()])
    );
    assert_eq!(per_pid.len(), 21, "every generation answered: {per_pid:?}");
    // Both pids answered at some moment of an upgrade (the old drains while the new serves).
    let spans: Vec<_> = per_pid.values().collect();
    let overlaps = spans.windows(2).filter(|w| w[0].1 > w[1].0).count()
        + spans
            .iter()
            .enumerate()
            .map(|(i, a)| {
                spans[i + 1..]
                    .iter()
                    .filter(|b| a.0 < b.1 && b.0 < a.1)
                    .count()
            })
            .sum::<usize>();
    assert!(overlaps > 0, "no moment where two generations answered");
    // One owner of the counter at a time, nothing lost: every hit value exactly once.
    hits.sort_unstable();
    let n = hits.len() as u64;
    assert_eq!(
        hits,
        (1..=n).collect::<Vec<_>>(),
        "each hit counted once, across 20 hand-overs"
    );

    let mut steady: Vec<Duration> = Vec::new();
    let mut during: Vec<Duration> = Vec::new();
    for (at, kind, _, latency) in &seen.results {
        if *kind == "long-poll" {
            continue;
        }
        if *at < steady_until {
            steady.push(*latency);
        } else if windows.iter().any(|(a, b)| at >= a && at <= b) {
            during.push(*latency);
        }
    }
    steady.sort();
    during.sort();
    handover.sort();
    eprintln!(
        "requests: {} (keep-alive retries before any response byte: {}); latency steady p50 {:?} p99 {:?} max {:?} (n={}); during upgrades p50 {:?} p99 {:?} max {:?} (n={}); trigger → old exit p50 {:?} max {:?}",
        seen.results.len(),
        seen.retried,
        percentile(&steady, 0.5),
        percentile(&steady, 0.99),
        steady.last().copied().unwrap_or_default(),
        steady.len(),
        percentile(&during, 0.5),
        percentile(&during, 0.99),
        during.last().copied().unwrap_or_default(),
        during.len(),
        percentile(&handover, 0.5),
        handover.last().copied().unwrap_or_default(),
    );
}

/// Runs a failing upgrade with `broken` installed under load; checks nobody is refused, the
/// old process keeps serving and readiness never flips; returns the admin answer.
fn failed_upgrade(mode: &str, extra: &[(&str, &str)]) -> (u16, serde_json::Value, Service) {
    let mut service = Service::start(extra);
    service.wait_pid_file(service.pid);
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let threads = load(service.addr, stop.clone(), seen.clone());
    let ready_flips = Arc::new(Mutex::new(Vec::new()));
    let watcher = {
        let (stop, flips, admin) = (stop.clone(), ready_flips.clone(), service.admin);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let status = get_ready(admin);
                if status != 200 {
                    flips.lock().expect("lock").push(status);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    // The broken build under the service's own name, told how to fail.
    std::fs::write(service.svc().with_extension("mode"), mode).expect("mode file");
    install(BROKEN, &service.svc());
    let (status, body) = post_upgrade(service.admin);
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("load thread");
    }
    watcher.join().expect("watcher");
    let seen = seen.lock().expect("lock");
    let failed: Vec<_> = seen
        .results
        .iter()
        .filter(|r| !matches!(r.2, Outcome::Answered(200, _)))
        .map(|r| format!("{}: {:?}", r.1, r.2))
        .collect();
    assert!(
        failed.is_empty(),
        "requests failed during a failed upgrade: {failed:#?}"
    );
    assert!(!seen.results.is_empty());
    assert!(
        ready_flips.lock().expect("lock").is_empty(),
        "readiness flipped: {:?}",
        ready_flips.lock().expect("lock")
    );
    assert!(alive(service.pid), "the old process keeps serving");
    assert_eq!(
        pid_file_pid(&service.pid_file()),
        Some(service.pid),
        "the PID file still names the old process"
    );
    assert_eq!(
        service.started().len(),
        1,
        "no graceful successor started serving"
    );
    (status, body, service)
}

fn successor_gone(body: &serde_json::Value) {
    let pid = body["error"]["details"]["successor_pid"]
        .as_i64()
        .expect("successor_pid") as i32;
    assert!(!alive(pid), "the failed successor {pid} was killed");
}

#[test]
fn a_successor_that_fails_its_start_up_leaves_the_old_process_serving() {
    let (status, body, _service) = failed_upgrade("exit70", &[]);
    assert_eq!(status, 502, "{body}");
    let details = &body["error"]["details"];
    assert!(
        details["exit_status"]
            .as_str()
            .is_some_and(|s| s.contains("70")),
        "{body}"
    );
    let stderr = details["stderr"].to_string();
    assert!(
        stderr.contains("connection refused"),
        "the successor's last stderr lines: {body}"
    );
    successor_gone(&body);
}

#[test]
fn a_successor_that_hangs_is_killed_at_the_timeout_and_a_second_upgrade_is_refused_meanwhile() {
    let mut service = Service::start(&[("GRACEFUL_UPGRADE_TIMEOUT", "3s")]);
    std::fs::write(service.svc().with_extension("mode"), "hang").expect("mode file");
    install(BROKEN, &service.svc());
    let admin = service.admin;
    let first = std::thread::spawn(move || post_upgrade(admin));
    // The hanging successor prints its first line through the old process's stderr.
    let deadline = Instant::now() + HANG_GUARD;
    while !service
        .proc
        .stderr()
        .iter()
        .any(|l| l.contains("broken successor"))
    {
        assert!(Instant::now() < deadline, "the successor never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (status, body) = post_upgrade(admin);
    assert_eq!(status, 409, "one upgrade at a time: {body}");
    assert!(body.contains("already in progress"), "{body}");
    let (status, body) = first.join().expect("first request");
    assert_eq!(status, 502, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["error"]["code"], "UPGRADE_FAILED");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not ready after 3s")),
        "{body}"
    );
    successor_gone(&body);
    assert!(alive(service.pid));
    assert_eq!(get_ready(admin), 200, "still ready");
    let _ = service.started();
}

#[test]
fn a_hanging_successor_under_load_refuses_nobody() {
    let (status, body, _service) = failed_upgrade("hang", &[("GRACEFUL_UPGRADE_TIMEOUT", "2s")]);
    assert_eq!(status, 502, "{body}");
    successor_gone(&body);
}

#[test]
fn a_successor_without_the_protocol_is_killed_and_the_old_process_serves() {
    let (status, body, _service) = failed_upgrade("foreign", &[("GRACEFUL_UPGRADE_TIMEOUT", "2s")]);
    assert_eq!(status, 502, "{body}");
    assert!(
        body["error"]["details"]["stderr"]
            .to_string()
            .contains("broken successor"),
        "{body}"
    );
    successor_gone(&body);
}

#[test]
fn the_upgrade_signal_starts_an_upgrade_and_the_old_process_exits_0() {
    let mut service = Service::start(&[]);
    service.wait_pid_file(service.pid);
    install(V2, &service.svc());
    kill(Pid::from_raw(service.pid), Signal::SIGUSR2).expect("SIGUSR2");
    let line = service
        .proc
        .wait_for(|l| l.starts_with(&format!("reason pid={} ", service.pid)));
    let new_pid: i32 = line
        .rsplit(' ')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("pid");
    assert_eq!(reap(service.pid), 0);
    service.wait_pid_file(new_pid);
    // The old process's report says why it stopped.
    let report = service
        .proc
        .wait_for(|l| l.starts_with(&format!("report pid={} ", service.pid)));
    assert!(
        report.contains(&format!("\"successor\":{new_pid}")),
        "{report}"
    );
    let mut s = connect(service.addr).expect("the successor serves the same address");
    match exchange(&mut s, "/", true) {
        Outcome::Answered(200, body) => {
            assert!(body.starts_with(&format!("v2 {new_pid} ")), "{body}")
        }
        other => panic!("{other:?}"),
    }
    kill(Pid::from_raw(new_pid), Signal::SIGTERM).expect("SIGTERM");
    assert_eq!(reap(new_pid), 0);
    assert!(
        !service.pid_file().exists(),
        "the last owner removes its PID file at exit"
    );
}

/// A stand-in for systemd's notification socket: every datagram, with the descriptors it
/// carried.
struct NotifySocket {
    socket: std::os::unix::net::UnixDatagram,
    path: PathBuf,
}

impl NotifySocket {
    fn bind(dir: &Path) -> NotifySocket {
        let path = dir.join("notify.sock");
        let socket = std::os::unix::net::UnixDatagram::bind(&path).expect("bind the notify socket");
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        NotifySocket { socket, path }
    }

    /// The next message (and its descriptors), or `None` after 200 ms of silence.
    fn next(&self) -> Option<(String, Vec<std::os::fd::OwnedFd>)> {
        use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, recvmsg};
        use std::mem::MaybeUninit;
        let mut buf = [0u8; 4096];
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(4))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let mut iov = [std::io::IoSliceMut::new(&mut buf)];
        let msg = match recvmsg(&self.socket, &mut iov, &mut control, RecvFlags::empty()) {
            Ok(m) => m,
            Err(rustix::io::Errno::AGAIN) => return None,
            Err(e) => panic!("recvmsg: {e}"),
        };
        let mut fds = Vec::new();
        for m in control.drain() {
            if let RecvAncillaryMessage::ScmRights(received) = m {
                fds.extend(received);
            }
        }
        Some((String::from_utf8_lossy(&buf[..msg.bytes]).to_string(), fds))
    }

    /// Every message until 200 ms of silence.
    fn drain(&self) -> Vec<(String, Vec<std::os::fd::OwnedFd>)> {
        std::iter::from_fn(|| self.next()).collect()
    }
}

#[test]
fn an_upgrade_tells_systemd_reloading_then_the_new_main_pid_and_the_old_process_never_says_stopping()
 {
    let notify_dir = common::temp_dir();
    let notify = NotifySocket::bind(notify_dir.path());
    let path = notify.path.to_str().expect("utf-8").to_string();
    let mut service = Service::start(&[("NOTIFY_SOCKET", &path)]);
    service.wait_pid_file(service.pid);
    let start: Vec<String> = notify.drain().into_iter().map(|(m, _)| m).collect();
    assert!(start.iter().any(|m| m.contains("READY=1")), "{start:?}");
    install(V2, &service.svc());
    kill(Pid::from_raw(service.pid), Signal::SIGUSR2).expect("SIGUSR2");
    let line = service
        .proc
        .wait_for(|l| l.starts_with(&format!("reason pid={} ", service.pid)));
    let new_pid: i32 = line
        .rsplit(' ')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("pid");
    assert_eq!(reap(service.pid), 0);
    std::thread::sleep(Duration::from_millis(300));
    let during: Vec<String> = notify.drain().into_iter().map(|(m, _)| m).collect();
    let reloading = during
        .iter()
        .position(|m| m.contains("RELOADING=1") && m.contains("MONOTONIC_USEC="));
    let main_pid = during
        .iter()
        .position(|m| m.contains(&format!("MAINPID={new_pid}")) && m.contains("READY=1"));
    assert!(
        reloading.is_some() && main_pid.is_some() && reloading < main_pid,
        "RELOADING=1 then MAINPID={new_pid} + READY=1: {during:#?}"
    );
    assert!(
        !during.iter().any(|m| m.contains("STOPPING=1")),
        "the old process's upgrade shutdown is not the service stopping: {during:#?}"
    );
    // The successor's own stop is.
    kill(Pid::from_raw(new_pid), Signal::SIGTERM).expect("SIGTERM");
    assert_eq!(reap(new_pid), 0);
    let after: Vec<String> = notify.drain().into_iter().map(|(m, _)| m).collect();
    assert!(after.iter().any(|m| m.contains("STOPPING=1")), "{after:#?}");
}

#[test]
fn a_failed_upgrade_tells_systemd_ready_again_with_the_reason() {
    let notify_dir = common::temp_dir();
    let notify = NotifySocket::bind(notify_dir.path());
    let path = notify.path.to_str().expect("utf-8").to_string();
    let service = Service::start(&[("NOTIFY_SOCKET", &path)]);
    service.wait_pid_file(service.pid);
    let _ = notify.drain();
    std::fs::write(service.svc().with_extension("mode"), "exit70").expect("mode file");
    install(BROKEN, &service.svc());
    let (status, _) = post_upgrade(service.admin);
    assert_eq!(status, 502);
    let during: Vec<String> = notify.drain().into_iter().map(|(m, _)| m).collect();
    assert!(
        during.first().is_some_and(|m| m.contains("RELOADING=1")),
        "{during:#?}"
    );
    assert!(
        during
            .iter()
            .any(|m| m.contains("READY=1") && m.contains("STATUS=upgrade failed, still serving")),
        "{during:#?}"
    );
    assert!(
        !during.iter().any(|m| m.contains("MAINPID=")),
        "{during:#?}"
    );
}

#[test]
fn the_fd_store_mode_hands_the_listeners_to_systemd_and_the_next_start_serves_the_queued_client() {
    use command_fds::{CommandFdExt, FdMapping};
    let notify_dir = common::temp_dir();
    let notify = NotifySocket::bind(notify_dir.path());
    let path = notify.path.to_str().expect("utf-8").to_string();
    let service = Service::start(&[
        ("NOTIFY_SOCKET", &path),
        ("GRACEFUL_UPGRADE_FD_STORE", "true"),
    ]);
    service.wait_pid_file(service.pid);
    let _ = notify.drain();
    // The fd-store mode never starts a successor.
    let (status, body) = post_upgrade(service.admin);
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("fd_store"), "{body}");
    kill(Pid::from_raw(service.pid), Signal::SIGTERM).expect("SIGTERM");
    assert_eq!(reap(service.pid), 0);
    let mut stored = BTreeMap::new();
    for (message, mut fds) in notify.drain() {
        if message.contains("FDSTORE=1") {
            let name = message
                .lines()
                .find_map(|l| l.strip_prefix("FDNAME="))
                .expect("FDNAME")
                .to_string();
            assert_eq!(fds.len(), 1, "{message}");
            stored.insert(name, fds.remove(0));
        }
    }
    assert_eq!(
        stored.keys().collect::<Vec<_>>(),
        ["admin", "http"],
        "both listeners stored"
    );
    // While "systemd" (this test) holds the socket, a client is queued, not refused.
    let mut client = connect(service.addr).expect("queued in the backlog, not refused");
    let request = "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    // The next start gets the stored sockets as systemd passes them; systemd sets LISTEN_PID
    // to the started process, which a shell that execs the service keeps.
    let http = stored.remove("http").expect("http");
    let admin = stored.remove("admin").expect("admin");
    let mut next = std::process::Command::new("/bin/sh");
    next.args(["-c", "LISTEN_PID=$$; export LISTEN_PID; exec \"$0\""])
        .arg(service.svc())
        .env("LISTEN_FDS", "2")
        .env("LISTEN_FDNAMES", "http:admin")
        .env("GRACEFUL_ADMIN_API_KEY", KEY)
        .env("SHUTDOWN_STATE_DIR", service.dir.path().join("state"))
        .stdout(std::process::Stdio::null());
    next.fd_mappings(vec![
        FdMapping {
            parent_fd: http,
            child_fd: 3,
        },
        FdMapping {
            parent_fd: admin,
            child_fd: 4,
        },
    ])
    .expect("fd mappings");
    let mut child = next.spawn().expect("start the service again");
    let pid = child.id() as i32;
    let answer = exchange_raw(&mut client, request);
    match answer {
        Outcome::Answered(200, body) => {
            assert!(
                body.starts_with(&format!("v1 {pid} ")),
                "served by the new process: {body}"
            )
        }
        other => panic!("the queued client: {other:?}"),
    }
    kill(Pid::from_raw(pid), Signal::SIGTERM).expect("SIGTERM");
    assert!(common::wait_child(&mut child).success());
}

#[test]
fn a_socket_activated_service_hands_the_activated_socket_to_its_successor() {
    let available = std::process::Command::new("systemd-socket-activate")
        .arg("--help")
        .output();
    assert!(
        available.is_ok_and(|o| o.status.success()),
        "systemd-socket-activate is required for this test (Debian/Ubuntu package `systemd`)"
    );
    nix::sys::prctl::set_child_subreaper(true).expect("PR_SET_CHILD_SUBREAPER");
    let dir = common::temp_dir();
    let svc = dir.path().join("svc");
    install(V1, &svc);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let state = dir.path().join("state");
    // systemd-socket-activate binds `http`, then execs the service (same pid) on the first
    // connection with LISTEN_FDS=1, LISTEN_FDNAMES=http.
    let mut service = Proc::start(
        "systemd-socket-activate",
        &[
            "-l",
            &addr.to_string(),
            "--fdname=http",
            "-E",
            &format!("SHUTDOWN_STATE_DIR={}", state.display()),
            "-E",
            &format!("GRACEFUL_ADMIN_API_KEY={KEY}"),
            svc.to_str().expect("utf-8"),
        ],
        &[],
    );
    let deadline = Instant::now() + HANG_GUARD;
    let mut first = loop {
        match connect(addr) {
            Ok(s) => break s,
            Err(e) => {
                assert!(Instant::now() < deadline, "never listened: {e}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    };
    let served = service.wait_for(|l| l.starts_with("addr="));
    assert_eq!(
        served,
        format!("addr={addr}"),
        "the activated socket is served"
    );
    let pid: i32 = service
        .wait_for(|l| l.starts_with("started pid="))
        .split(['=', ' '])
        .nth(2)
        .and_then(|p| p.parse().ok())
        .expect("pid");
    match exchange(&mut first, "/", true) {
        Outcome::Answered(200, body) => assert!(body.starts_with(&format!("v1 {pid} ")), "{body}"),
        other => panic!("{other:?}"),
    }
    let inode = listening_inode(port).expect("the activated socket");
    install(V2, &svc);
    kill(Pid::from_raw(pid), Signal::SIGUSR2).expect("SIGUSR2");
    let line = service.wait_for(|l| l.starts_with(&format!("reason pid={pid} ")));
    let new_pid: i32 = line
        .rsplit(' ')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("pid");
    assert_eq!(
        service.wait().code(),
        Some(0),
        "the activated process exits 0"
    );
    let mut s = connect(addr).expect("still served");
    match exchange(&mut s, "/", true) {
        Outcome::Answered(200, body) => {
            assert!(body.starts_with(&format!("v2 {new_pid} ")), "{body}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        listening_inode(port),
        Some(inode),
        "the same activated socket"
    );
    kill(Pid::from_raw(new_pid), Signal::SIGTERM).expect("SIGTERM");
    assert_eq!(reap(new_pid), 0);
}

/// The `gracefulctl` binary of this workspace, brought up to date (it is another package, so
/// cargo does not build it for this test).
fn gracefulctl() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = std::process::Command::new(cargo);
    build.args(["build", "-p", "gracefulctl"]);
    if dir.file_name().is_some_and(|p| p == "release") {
        build.arg("--release");
    }
    let status = build.status().expect("run cargo");
    assert!(status.success(), "cannot build gracefulctl");
    dir.join("gracefulctl")
}

#[test]
fn gracefulctl_upgrade_follows_the_locked_pid_file_to_the_successor() {
    let mut service = Service::start(&[]);
    service.wait_pid_file(service.pid);
    install(V2, &service.svc());
    let manifest = service.dir.path().join("gracefulctl.toml");
    std::fs::write(
        &manifest,
        format!(
            "[[process]]\nname = \"svc\"\npid_file = \"{}\"\n",
            service.pid_file().display()
        ),
    )
    .expect("manifest");
    let out = std::process::Command::new(gracefulctl())
        .arg("--config")
        .arg(&manifest)
        .args(["upgrade", "svc", "--timeout", "30s"])
        .current_dir(service.dir.path())
        .output()
        .expect("run gracefulctl");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "gracefulctl upgrade: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = service
        .proc
        .wait_for(|l| l.starts_with(&format!("reason pid={} ", service.pid)));
    let new_pid: i32 = line
        .rsplit(' ')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("pid");
    assert!(
        stdout.contains(&format!(
            "svc: upgraded: pid {} → pid {new_pid}",
            service.pid
        )),
        "{stdout}"
    );
    assert_eq!(reap(service.pid), 0);
    let mut s = connect(service.addr).expect("served");
    match exchange(&mut s, "/", true) {
        Outcome::Answered(200, body) => {
            assert!(body.starts_with(&format!("v2 {new_pid} ")), "{body}")
        }
        other => panic!("{other:?}"),
    }
    kill(Pid::from_raw(new_pid), Signal::SIGTERM).expect("SIGTERM");
    assert_eq!(reap(new_pid), 0);
}

/// `GET path` on the admin API with the key; the whole response.
#[cfg(feature = "metrics")]
fn admin_get(admin: SocketAddr, path: &str) -> String {
    let mut s = connect(admin).expect("the admin API answers");
    let _ = s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: t\r\nX-API-Key: {KEY}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    );
    let mut all = String::new();
    let _ = s.read_to_string(&mut all);
    all
}

#[cfg(feature = "metrics")]
#[test]
fn a_failed_upgrade_is_an_event_and_a_metric() {
    let service = Service::start(&[]);
    service.wait_pid_file(service.pid);
    // The event stream, read on its own thread.
    let mut events = connect(service.admin).expect("admin");
    events
        .write_all(
            format!("GET /events HTTP/1.1\r\nHost: t\r\nX-API-Key: {KEY}\r\n\r\n").as_bytes(),
        )
        .expect("write");
    let seen = Arc::new(Mutex::new(String::new()));
    let sink = seen.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = events.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .expect("lock")
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    std::fs::write(service.svc().with_extension("mode"), "exit70").expect("mode file");
    install(BROKEN, &service.svc());
    let (status, _) = post_upgrade(service.admin);
    assert_eq!(status, 502);
    let deadline = Instant::now() + HANG_GUARD;
    while !seen.lock().expect("lock").contains("event: upgrade_failed") {
        assert!(
            Instant::now() < deadline,
            "no upgrade_failed event: {}",
            seen.lock().expect("lock")
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        seen.lock()
            .expect("lock")
            .contains("exited before it was ready")
    );
    let metrics = admin_get(service.admin, "/metrics");
    assert!(
        metrics.contains("graceful_upgrades_total{result=\"failed\"} 1"),
        "{metrics}"
    );
}

#[test]
fn an_upgrade_is_refused_while_the_service_is_still_starting() {
    let dir = common::temp_dir();
    let svc = dir.path().join("svc");
    install(V1, &svc);
    let state = dir.path().join("state");
    let mut proc = Proc::start(
        &svc,
        &[],
        &[
            ("GRACEFUL_ADMIN_API_KEY", KEY),
            ("SHUTDOWN_STATE_DIR", state.to_str().expect("utf-8")),
            ("UPGRADE_SLOW_START", "60000"),
        ],
    );
    let admin: SocketAddr = proc
        .wait_for(|l| l.starts_with("admin="))
        .trim_start_matches("admin=")
        .parse()
        .expect("admin addr");
    let (status, body) = post_upgrade(admin);
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("still starting"), "{body}");
    assert!(
        !proc.poll().iter().any(|l| l.starts_with("started pid=")),
        "no successor, and the service itself has not started"
    );
}
