//! systemd integration, for real: notifications received on a unix datagram `NOTIFY_SOCKET`
//! that this test creates, and socket activation through `systemd-socket-activate`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FIXTURE: &str = env!("CARGO_BIN_EXE_graceful-fixture-admin");
/// Generous bound for a child to do what it was asked; only hit when something hangs.
const PATIENCE: Duration = Duration::from_secs(60);

fn hermetic(cmd: &mut Command) -> &mut Command {
    for (k, _) in std::env::vars() {
        if k.starts_with("GRACEFUL_")
            || k.starts_with("SHUTDOWN_")
            || k.starts_with("NOTIFY_")
            || k.starts_with("LISTEN_")
            || k.starts_with("WATCHDOG_")
        {
            cmd.env_remove(k);
        }
    }
    cmd
}

fn wait_ready(child: &mut Child) -> String {
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut addr = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            out.read_line(&mut line).expect("read stdout") > 0,
            "the fixture exited before `ready`"
        );
        if let Some(a) = line.trim().strip_prefix("admin=") {
            addr = a.to_string();
        }
        if line.trim() == "ready" {
            std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
            return addr;
        }
    }
}

/// One `systemd-socket-activate` at a time: each test picks a free port by binding and
/// releasing it, so two started together can race for the same port and one test's
/// connection can reach the other test's activator; serialised, each fixture is started by
/// its own test's connection.
fn one_activation_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ACTIVATION: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ACTIVATION
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn sigterm(child: &Child) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
}

#[test]
fn notifications_arrive_in_order_on_a_real_notify_socket() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("notify.sock");
    let hold = dir.path().join("release");
    let socket = UnixDatagram::bind(&path).expect("bind NOTIFY_SOCKET");
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let mut child = hermetic(&mut Command::new(FIXTURE))
        .env("GRACEFUL_ADMIN_ADDR", "127.0.0.1:0")
        .env("NOTIFY_SOCKET", &path)
        .env("WATCHDOG_USEC", "1000000")
        .env("GRACEFUL_SYSTEMD_EXTEND_INTERVAL", "50ms")
        // The drain lasts until this file exists: released once EXTEND_TIMEOUT_USEC was re-sent.
        .env("FIXTURE_HOLD_FILE", &hold)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the fixture");
    wait_ready(&mut child);
    let mut lines: Vec<String> = Vec::new();
    // One datagram per call (or none within the read timeout), so callers re-check their
    // conditions between messages.
    let receive = |lines: &mut Vec<String>| {
        let mut buf = [0u8; 4096];
        if let Ok(n) = socket.recv(&mut buf) {
            lines.extend(
                String::from_utf8_lossy(&buf[..n])
                    .lines()
                    .map(str::to_string),
            );
        }
    };
    // READY=1 is sent once start-up finished; wait for it before stopping.
    let start = Instant::now();
    while !lines.iter().any(|l| l == "READY=1") {
        assert!(start.elapsed() < PATIENCE, "no READY=1: {lines:?}");
        receive(&mut lines);
    }
    sigterm(&child);
    let status = loop {
        receive(&mut lines);
        let extends = lines
            .iter()
            .filter(|l| l.starts_with("EXTEND_TIMEOUT_USEC="))
            .count();
        if extends >= 2 && !hold.exists() {
            std::fs::write(&hold, b"").expect("release the drain");
        }
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "the fixture did not exit: {lines:?}"
        );
    };
    // Whatever is still queued.
    for _ in 0..1000 {
        let before = lines.len();
        receive(&mut lines);
        if lines.len() == before {
            break;
        }
    }
    assert!(status.success(), "{status}: {lines:?}");

    let at = |what: &str| {
        lines
            .iter()
            .position(|l| l == what)
            .unwrap_or_else(|| panic!("no {what}: {lines:?}"))
    };
    let ready = at("READY=1");
    let running = at("STATUS=running");
    let stopping = at("STOPPING=1");
    assert!(ready < running && running < stopping, "{lines:?}");
    let statuses: Vec<&str> = lines[stopping..]
        .iter()
        .filter_map(|l| l.strip_prefix("STATUS="))
        .collect();
    assert_eq!(
        statuses,
        [
            "initiated",
            "stopping_new_requests",
            "draining_connections",
            "saving_state",
            "closing_resources",
            "flushing_buffers",
            "completed"
        ],
        "{lines:?}"
    );
    let extends: Vec<u64> = lines[stopping..]
        .iter()
        .filter_map(|l| l.strip_prefix("EXTEND_TIMEOUT_USEC="))
        .map(|v| v.parse().expect("usec"))
        .collect();
    assert!(
        extends.len() >= 2,
        "EXTEND_TIMEOUT_USEC is re-sent while a phase runs: {lines:?}"
    );
    assert!(extends.iter().all(|u| *u > 0), "{extends:?}");
    assert!(
        lines[..stopping]
            .iter()
            .all(|l| !l.starts_with("EXTEND_TIMEOUT_USEC=")),
        "no extension before the shutdown: {lines:?}"
    );
    assert!(
        lines.iter().any(|l| l == "WATCHDOG=1"),
        "WATCHDOG_USEC is set: {lines:?}"
    );
}

#[test]
fn without_notify_socket_nothing_is_sent_and_nothing_breaks() {
    let mut child = hermetic(&mut Command::new(FIXTURE))
        .env("GRACEFUL_ADMIN_ADDR", "127.0.0.1:0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the fixture");
    wait_ready(&mut child);
    sigterm(&child);
    assert!(common::wait_child(&mut child).success());
}

#[test]
fn socket_activation_serves_on_the_passed_listener() {
    let _one = one_activation_at_a_time();
    let activate = Command::new("systemd-socket-activate")
        .arg("--help")
        .output();
    assert!(
        activate.is_ok_and(|o| o.status.success()),
        "systemd-socket-activate is required for this test (Debian/Ubuntu package `systemd`)"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = hermetic(&mut Command::new("systemd-socket-activate"))
        .args(["-l", &addr, "-E", "FIXTURE_SOCKET_ACTIVATED=1", FIXTURE])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn systemd-socket-activate");
    // The fixture is started by the first connection and serves it from the passed socket.
    let start = Instant::now();
    let mut stream = loop {
        match TcpStream::connect(&addr) {
            Ok(s) => break s,
            Err(e) => {
                assert!(
                    start.elapsed() < PATIENCE,
                    "systemd-socket-activate never listened: {e}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    };
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    stream
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"live\":true"), "{response}");
    assert_eq!(
        wait_ready(&mut child),
        addr,
        "the admin API serves on the activated socket"
    );
    sigterm(&child);
    assert!(common::wait_child(&mut child).success());
}

/// The `graceful-fixture-http` binary, for the tests that serve HTTP on activated sockets.
#[cfg(feature = "axum")]
const HTTP_FIXTURE: &str = env!("CARGO_BIN_EXE_graceful-fixture-http");

/// `GET path` with `Connection: close` on an open stream; the whole response.
fn get_on(mut stream: impl Read + Write, path: &str) -> String {
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
}

/// `systemd-socket-activate` listening on a free loopback port and on the Unix socket paths
/// given, with `names` (colon-separated, in that order), starting the HTTP fixture with
/// `sockets=activated` on the first connection. Returns the child and the TCP address.
#[cfg(feature = "axum")]
fn activate(names: &str, unix: &[&std::path::Path]) -> (Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut cmd = Command::new("systemd-socket-activate");
    hermetic(&mut cmd).args(["-l", &addr]);
    for path in unix {
        cmd.arg("-l").arg(path);
    }
    let child = cmd
        .arg(format!("--fdname={names}"))
        .args([HTTP_FIXTURE, "sockets=activated"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn systemd-socket-activate (Debian/Ubuntu package `systemd`)");
    (child, addr)
}

/// Connects to `addr` once `systemd-socket-activate` listens there.
#[cfg(feature = "axum")]
fn connect_when_listening(addr: &str) -> TcpStream {
    let start = Instant::now();
    loop {
        match TcpStream::connect(addr) {
            Ok(s) => {
                s.set_read_timeout(Some(PATIENCE)).expect("timeout");
                return s;
            }
            Err(e) => {
                assert!(
                    start.elapsed() < PATIENCE,
                    "systemd-socket-activate never listened: {e}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

#[cfg(feature = "axum")]
#[test]
fn named_tcp_and_unix_sockets_are_served_and_drained() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("admin.sock");
    // `spare` is passed and never taken: it must not leak into children either.
    let spare = dir.path().join("spare.sock");
    let _one = one_activation_at_a_time();
    let (mut child, addr) = activate("http:admin:spare", &[&path, &spare]);
    // The first connection starts the fixture, which serves it from the passed socket.
    let first = get_on(connect_when_listening(&addr), "/hello");
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    assert!(first.ends_with("hello"), "{first}");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let (mut tcp, mut unix) = (String::new(), String::new());
    let mut inherited = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            out.read_line(&mut line).expect("read stdout") > 0,
            "the fixture exited before `ready`"
        );
        let l = line.trim();
        if let Some(a) = l.strip_prefix("addr=") {
            tcp = a.to_string();
        } else if let Some(p) = l.strip_prefix("unix=") {
            unix = p.to_string();
        } else if l.starts_with("listen_env=") || l.starts_with("cloexec") {
            inherited.push(l.to_string());
        } else if l == "ready" {
            break;
        }
    }
    assert_eq!(tcp, addr, "the TCP socket is the one passed as `http`");
    assert_eq!(
        std::path::Path::new(&unix),
        path,
        "the Unix socket is the one passed as `admin`"
    );
    assert_eq!(
        inherited,
        [
            "listen_env=",
            "cloexec3=true",
            "cloexec4=true",
            "cloexec5=true"
        ],
        "children inherit neither the variables nor the descriptors"
    );
    let unix_get = |p: &str| {
        let s = std::os::unix::net::UnixStream::connect(&path).expect("connect to the Unix socket");
        s.set_read_timeout(Some(PATIENCE)).expect("timeout");
        get_on(s, p)
    };
    let hello = unix_get("/hello");
    assert!(
        hello.starts_with("HTTP/1.1 200") && hello.ends_with("hello"),
        "{hello}"
    );
    let live = get_on(connect_when_listening(&addr), "/health/live");
    assert!(live.starts_with("HTTP/1.1 200"), "{live}");

    // A request in flight on the Unix socket when SIGTERM arrives is answered in full.
    let held = {
        let path = path.clone();
        std::thread::spawn(move || {
            let s = std::os::unix::net::UnixStream::connect(&path).expect("connect");
            s.set_read_timeout(Some(PATIENCE)).expect("timeout");
            get_on(s, "/slow?ms=300&hold=1")
        })
    };
    let start = Instant::now();
    while !get_on(connect_when_listening(&addr), "/stats").ends_with("\r\n\r\n1") {
        assert!(start.elapsed() < PATIENCE, "the held request never arrived");
        std::thread::sleep(Duration::from_millis(10));
    }
    sigterm(&child);
    let held = held.join().expect("the held request's thread");
    assert!(held.starts_with("HTTP/1.1 200"), "{held}");
    assert!(
        held.ends_with("end"),
        "the drained response is whole: {held}"
    );
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let status = common::wait_child(&mut child);
    assert!(status.success(), "{status}");
}

#[cfg(feature = "axum")]
#[test]
fn a_name_that_was_not_passed_fails_with_what_to_do() {
    // Only `http` is passed; the fixture also asks for a Unix socket named `admin`.
    let _one = one_activation_at_a_time();
    let (mut child, addr) = activate("http", &[]);
    let mut stream = connect_when_listening(&addr);
    let _ = stream.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let all = failed_output(&mut child);
    assert!(
        all.contains("no socket named `admin` was passed (passed: `http`)")
            && all.contains("FileDescriptorName=admin"),
        "the error names the socket and what to do: {all}"
    );
}

/// Waits for a fixture that is expected to fail at start-up; its stdout and stderr together.
#[cfg(feature = "axum")]
fn failed_output(child: &mut Child) -> String {
    let status = common::wait_child(child);
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("stdout");
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("stderr");
    assert!(!status.success(), "{status}: {stdout}");
    assert!(!stdout.contains("ready"), "{stdout}");
    format!("{stdout}{stderr}")
}

#[cfg(feature = "axum")]
#[test]
fn a_name_on_the_wrong_kind_of_socket_fails_with_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("admin.sock");
    // The names are swapped: `http` is given to the Unix socket.
    let _one = one_activation_at_a_time();
    let (mut child, addr) = activate("admin:http", &[&path]);
    let mut stream = connect_when_listening(&addr);
    let _ = stream.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let all = failed_output(&mut child);
    assert!(
        all.contains("the socket named `http` (fd 4) is not a TCP listener")
            && all.contains("`ListenStream=` with an address and port"),
        "the error names the socket, its kind and what to do: {all}"
    );
}

#[cfg(feature = "axum")]
#[test]
fn malformed_activation_variables_fail_with_the_variable_named() {
    let mut child = hermetic(&mut Command::new(HTTP_FIXTURE))
        .arg("sockets=activated")
        .env("LISTEN_PID", "self")
        .env("LISTEN_FDS", "2")
        .env("LISTEN_FDNAMES", "http:admin")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the fixture");
    let all = failed_output(&mut child);
    assert!(
        all.contains("LISTEN_PID=\\\"self\\\" is malformed: expected a process id"),
        "the error names the variable and what it accepts: {all}"
    );
}
