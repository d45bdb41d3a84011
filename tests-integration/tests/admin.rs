//! The admin API, for real: a child process (`tests-integration/fixtures/admin.rs`, or
//! `examples/daemon.rs`) serving on 127.0.0.1, spoken to over plain TCP. No timing thresholds:
//! waits are bounded only so that a hung child fails the test instead of hanging it.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const READ_KEY: &str = "read-key-4f9c2a7e1b3d5c6a";
const SYSTEM_KEY: &str = "system-key-8e1f0a2b4c6d7e9f";
const FULL_KEY: &str = "full-key-0a1b2c3d4e5f6789";
/// Generous bound for a child to do what it was asked; only hit when something hangs.
const PATIENCE: Duration = Duration::from_secs(60);

/// `[admin]` with a read-only key inline, a system-only key in a file, and small limits.
fn keyed_config(dir: &Path) -> String {
    std::fs::write(dir.join("system.key"), format!("{SYSTEM_KEY}\n")).expect("write key file");
    format!(
        r#"[admin]
max_shutdown_timeout = "60s"
body_limit = 256
body_timeout = "1s"
header_timeout = "1s"
max_connections = 4
max_connections_per_peer = 4

[[admin.api_keys]]
key = "{READ_KEY}"
scopes = ["read"]

[[admin.api_keys]]
key_file = "system.key"
scopes = ["system"]
"#
    )
}

struct Fixture {
    child: Child,
    addr: SocketAddr,
    /// The application's own port, with `FIXTURE_APP=1`.
    app: Option<SocketAddr>,
    /// The metrics-only listener, with `GRACEFUL_ADMIN_METRICS_ADDR`.
    metrics: Option<SocketAddr>,
    dir: tempfile::TempDir,
}

struct Options<'a> {
    env: Vec<(&'a str, String)>,
    config: Option<String>,
    state_dir: Option<&'a Path>,
    program: PathBuf,
}

impl<'a> Options<'a> {
    fn new() -> Self {
        Options {
            env: vec![("GRACEFUL_ADMIN_ADDR", "127.0.0.1:0".into())],
            config: None,
            state_dir: None,
            program: PathBuf::from(env!("CARGO_BIN_EXE_graceful-fixture-admin")),
        }
    }

    fn keyed() -> Self {
        let mut o = Options::new();
        o.config = Some(String::new()); // filled in `start`, which owns the directory
        o.env.push(("GRACEFUL_ADMIN_API_KEY", FULL_KEY.into()));
        o
    }

    fn env(mut self, k: &'a str, v: impl Into<String>) -> Self {
        self.env.push((k, v.into()));
        self
    }

    fn state_dir(mut self, dir: &'a Path) -> Self {
        self.state_dir = Some(dir);
        self
    }

    /// Starts the child; `Err` carries its stderr when it exits before printing `ready`.
    fn try_start(self) -> Result<Fixture, (ExitStatus, String)> {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = Command::new(&self.program);
        for (k, _) in std::env::vars() {
            if k.starts_with("GRACEFUL_")
                || k.starts_with("SHUTDOWN_")
                || k.starts_with("NOTIFY_")
                || k.starts_with("LISTEN_")
            {
                cmd.env_remove(k);
            }
        }
        if let Some(c) = &self.config {
            let text = if c.is_empty() {
                keyed_config(dir.path())
            } else {
                c.clone()
            };
            let path = dir.path().join("graceful.toml");
            std::fs::write(&path, text).expect("write config");
            cmd.env("SHUTDOWN_CONFIG", path);
        }
        if let Some(s) = self.state_dir {
            cmd.env("SHUTDOWN_STATE_DIR", s);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let stderr = std::fs::File::create(dir.path().join("stderr")).expect("stderr file");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn the fixture");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut addr = None;
        let mut app = None;
        let mut metrics = None;
        let mut line = String::new();
        loop {
            line.clear();
            if out.read_line(&mut line).expect("read stdout") == 0 {
                let status = common::wait_child(&mut child);
                let err = std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default();
                return Err((status, err));
            }
            let l = line.trim();
            if let Some(a) = l.strip_prefix("app=") {
                app = Some(a.parse().expect("app address"));
            } else if let Some(a) = l.strip_prefix("metrics=") {
                metrics = Some(a.parse().expect("metrics address"));
            } else if let Some(a) = l.strip_prefix("admin=") {
                addr = Some(a.parse().expect("address"));
            } else if let Some(a) = l.strip_prefix("daemon admin API on http://") {
                let a = a.split('/').next().unwrap_or_default();
                addr = Some(a.parse().expect("address"));
                break;
            } else if l == "ready" {
                break;
            }
        }
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        Ok(Fixture {
            child,
            addr: addr.expect("the fixture printed its address"),
            app,
            metrics,
            dir,
        })
    }

    fn start(self) -> Fixture {
        match self.try_start() {
            Ok(f) => f,
            Err((status, err)) => panic!("the fixture exited early ({status}): {err}"),
        }
    }
}

impl Fixture {
    fn get(&self, path: &str, key: Option<&str>) -> Resp {
        let headers: Vec<(&str, &str)> = key.map(|k| vec![("X-API-Key", k)]).unwrap_or_default();
        request(self.addr, "GET", path, &headers, None)
    }

    fn wait(&mut self) -> ExitStatus {
        common::wait_child(&mut self.child)
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default()
    }

    fn sigterm(&self) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).expect("pid"));
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---- a minimal HTTP/1.1 client ----------------------------------------------------------

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Checks the envelope and returns `data` (success) or `error` (failure).
    fn envelope(&self, success: bool) -> Value {
        let v = self.json();
        assert_eq!(v["success"], success, "{v}");
        let id = v["request_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no request_id: {v}"));
        assert!(!id.is_empty());
        assert_eq!(self.header("x-request-id"), Some(id));
        if success {
            assert!(v.get("error").is_none(), "{v}");
            v["data"].clone()
        } else {
            let e = v["error"].clone();
            assert!(
                e["code"].is_string() && e["message"].is_string() && e["details"].is_object(),
                "{v}"
            );
            e
        }
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    s
}

fn send_head(
    s: &mut TcpStream,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body_len: Option<usize>,
) {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(n) = body_len {
        req.push_str(&format!("Content-Length: {n}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("write request");
}

fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Resp {
    let mut s = connect(addr);
    send_head(&mut s, method, path, headers, body.map(<[u8]>::len));
    if let Some(b) = body {
        s.write_all(b).expect("write body");
    }
    read_response(&mut s)
}

fn read_response(s: &mut TcpStream) -> Resp {
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Resp {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}

/// A Server-Sent Events client: yields `(event, data)`.
struct Sse {
    reader: BufReader<TcpStream>,
}

impl Sse {
    fn open(addr: SocketAddr, key: &str) -> Sse {
        Sse::try_open(addr, key).expect("the event stream answers 200")
    }

    /// `None` when the server answers 503 (connection limit).
    fn try_open(addr: SocketAddr, key: &str) -> Option<Sse> {
        let mut s = connect(addr);
        send_head(
            &mut s,
            "GET",
            "/events",
            &[("X-API-Key", key), ("Accept", "text/event-stream")],
            None,
        );
        let mut reader = BufReader::new(s);
        let mut line = String::new();
        reader.read_line(&mut line).expect("status line");
        if line.starts_with("HTTP/1.1 503") {
            return None;
        }
        assert!(line.starts_with("HTTP/1.1 200"), "{line}");
        let mut content_type = String::new();
        loop {
            line.clear();
            reader.read_line(&mut line).expect("header");
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-type")
            {
                content_type = v.trim().to_string();
            }
        }
        assert_eq!(content_type, "text/event-stream");
        Some(Sse { reader })
    }

    fn next(&mut self) -> Option<(String, Value)> {
        let mut event = None;
        let mut data = None;
        let mut line = String::new();
        loop {
            line.clear();
            if self.reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let l = line.trim_end_matches(['\r', '\n']);
            if let Some(e) = l.strip_prefix("event: ") {
                event = Some(e.to_string());
            } else if let Some(d) = l.strip_prefix("data: ") {
                data = Some(serde_json::from_str(d).expect("SSE data is JSON"));
            } else if l.is_empty()
                && let (Some(e), Some(d)) = (event.take(), data.take())
            {
                return Some((e, d));
            }
        }
    }
}

const PHASES: [&str; 8] = [
    "running",
    "initiated",
    "stopping_new_requests",
    "draining_connections",
    "saving_state",
    "closing_resources",
    "flushing_buffers",
    "completed",
];

// ---- tests ------------------------------------------------------------------------------

#[test]
fn probes_are_open_and_protected_routes_answer_403_without_a_key() {
    let f = Options::new().start();
    for path in ["/health/live", "/health/ready", "/health"] {
        let r = f.get(path, None);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        r.envelope(true);
    }
    for (method, path) in [
        ("GET", "/status"),
        ("GET", "/process"),
        ("GET", "/config"),
        ("GET", "/metrics"),
        ("GET", "/events"),
        ("POST", "/shutdown"),
        ("DELETE", "/shutdown"),
    ] {
        // Even with a key: none is configured, so none can be right.
        let r = request(
            f.addr,
            method,
            path,
            &[("X-API-Key", FULL_KEY)],
            Some(b"{}"),
        );
        assert_eq!(r.status, 403, "{method} {path}: {}", r.text());
        let e = r.envelope(false);
        assert_eq!(e["code"], "FORBIDDEN");
        assert_eq!(e["details"]["reason"], "no_api_key_configured");
        assert!(
            e["message"]
                .as_str()
                .unwrap_or_default()
                .contains("GRACEFUL_ADMIN_API_KEY"),
            "{e}"
        );
    }
    assert_eq!(
        f.get("/health/ready", None).status,
        200,
        "the service is undisturbed"
    );
}

#[test]
fn every_route_answers_with_a_key() {
    let f = Options::keyed().start();
    let live = f.get("/health/live", None);
    assert_eq!(live.status, 200);
    assert_eq!(live.envelope(true)["live"], true);
    let ready = f.get("/health/ready", None);
    assert_eq!(
        (ready.status, ready.envelope(true)["ready"].clone()),
        (200, Value::Bool(true))
    );
    let health = f.get("/health", None).envelope(true);
    let names: Vec<&str> = health["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["db", "cache"], "{health}");

    let status = f.get("/status", Some(READ_KEY));
    assert_eq!(status.status, 200, "{}", status.text());
    let status = status.envelope(true);
    assert_eq!(status["state"], "RUNNING");
    assert_eq!(status["phase"], "running");
    assert!(status["uptime_seconds"].as_f64().is_some(), "{status}");
    assert!(status["in_flight"].as_u64().is_some(), "{status}");
    assert_eq!(status["resources"][0]["priority"], 100);
    assert_eq!(status["resources"][0]["state"], "ready");
    assert!(status["shutdown"].is_null());

    let overview = f.get("/overview", Some(READ_KEY)).envelope(true);
    assert_eq!(overview["status"]["status"], "RUNNING", "{overview}");
    assert_eq!(overview["health"]["ready"], true, "{overview}");
    assert_eq!(overview["process"]["pid"], f.child.id(), "{overview}");
    assert_eq!(overview["config"]["timeout"], "30s", "{overview}");
    assert!(overview.get("previous_shutdown").is_some(), "{overview}");

    let process = f.get("/process", Some(READ_KEY)).envelope(true);
    assert_eq!(process["pid"], f.child.id());
    for field in ["uptime_seconds", "threads", "open_fds"] {
        assert!(process[field].is_number(), "{field}: {process}");
    }
    assert!(
        process["memory"]["rss_bytes"].as_u64().unwrap_or(0) > 0,
        "{process}"
    );
    assert!(process["cpu"]["total_seconds"].is_number(), "{process}");

    let config = f.get("/config", Some(READ_KEY));
    let text = config.text();
    for secret in [READ_KEY, SYSTEM_KEY, FULL_KEY] {
        assert!(!text.contains(secret), "GET /config shows a key: {text}");
    }
    let config = config.envelope(true);
    assert_eq!(config["shutdown"]["timeout"]["value"], "30s");
    assert_eq!(config["shutdown"]["timeout"]["source"], "default");
    assert_eq!(config["admin"]["addr"]["source"], "env GRACEFUL_ADMIN_ADDR");
    assert!(
        config["admin"]["body_limit"]["source"]
            .as_str()
            .unwrap_or_default()
            .starts_with("file "),
        "{config}"
    );
    assert_eq!(
        config["admin"]["api_keys"].as_array().map(Vec::len),
        Some(3),
        "{config}"
    );
    assert_eq!(config["admin"]["api_keys"][0]["key"], "<redacted>");

    let metrics = f.get("/metrics", Some(READ_KEY));
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .unwrap_or_default()
            .starts_with("text/plain"),
        "{metrics:?}"
    );
    let families = parse_metrics(&metrics.text());
    for name in [
        "graceful_in_flight",
        "graceful_ready",
        "graceful_phase",
        // The standard process metrics dashboards know.
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_start_time_seconds",
    ] {
        assert!(
            families.iter().any(|s| s.metric == name),
            "{name} missing: {}",
            metrics.text()
        );
    }
    let running = families
        .iter()
        .find(|s| s.metric == "graceful_phase" && s.labels.get("phase") == Some("running"))
        .expect("graceful_phase{phase=running}");
    assert_eq!(value(running), 1.0);
    // One counter with a `result` label, both results present from the start.
    for result in ["completed", "forced"] {
        let c = families
            .iter()
            .find(|s| {
                s.metric == "graceful_shutdowns_total" && s.labels.get("result") == Some(result)
            })
            .unwrap_or_else(|| {
                panic!(
                    "graceful_shutdowns_total{{result={result}}}: {}",
                    metrics.text()
                )
            });
        assert_eq!(value(c), 0.0);
    }

    let mut sse = Sse::open(f.addr, READ_KEY);
    let (event, data) = sse.next().expect("first event");
    assert_eq!(
        (event.as_str(), data["phase"].as_str()),
        ("phase", Some("running"))
    );

    // Bearer works as well as X-API-Key.
    let r = request(
        f.addr,
        "GET",
        "/status",
        &[("Authorization", &format!("Bearer {READ_KEY}"))],
        None,
    );
    assert_eq!(r.status, 200);
}

#[test]
fn every_route_of_the_table_is_served() {
    // The route list is one table; each entry must reach the router (never a silent 404):
    // OPTIONS is no route's method, so a routed path answers 405 with its methods.
    let f = Options::keyed().start();
    for route in graceful::admin::Route::ALL {
        let r = request(
            f.addr,
            "OPTIONS",
            route.default_path(),
            &[("X-API-Key", FULL_KEY)],
            None,
        );
        assert_eq!(r.status, 405, "{route:?}: {}", r.text());
        assert_eq!(
            r.header("allow"),
            Some(route.methods().join(", ").as_str()),
            "{route:?}"
        );
    }
}

fn parse_metrics(text: &str) -> Vec<prometheus_parse::Sample> {
    let lines = text.lines().map(|l| Ok(l.to_string()));
    prometheus_parse::Scrape::parse(lines)
        .unwrap_or_else(|e| panic!("not valid Prometheus text ({e}): {text}"))
        .samples
}

fn value(s: &prometheus_parse::Sample) -> f64 {
    match s.value {
        prometheus_parse::Value::Counter(v)
        | prometheus_parse::Value::Gauge(v)
        | prometheus_parse::Value::Untyped(v) => v,
        _ => f64::NAN,
    }
}

#[test]
fn bad_input_gets_the_envelope_and_the_right_status() {
    let f = Options::keyed().start();
    let post = |headers: &[(&str, &str)], body: &[u8]| {
        request(f.addr, "POST", "/shutdown", headers, Some(body))
    };
    let sys = [("X-API-Key", SYSTEM_KEY)];

    // 401: missing and wrong keys look alike.
    let missing = f.get("/status", None);
    let wrong = f.get("/status", Some("read-key-4f9c2a7e1b3d5c6b"));
    let bearer = request(
        f.addr,
        "GET",
        "/status",
        &[("Authorization", "Bearer nope")],
        None,
    );
    let mut messages = Vec::new();
    for r in [&missing, &wrong, &bearer] {
        assert_eq!(r.status, 401, "{}", r.text());
        let e = r.envelope(false);
        assert_eq!(e["code"], "UNAUTHORIZED");
        assert_eq!(e["details"], serde_json::json!({}));
        messages.push(e["message"].clone());
    }
    assert!(
        messages.windows(2).all(|w| w[0] == w[1]),
        "401s must not hint: {messages:?}"
    );

    // 403: valid key, wrong scope (both ways).
    let r = post(&[("X-API-Key", READ_KEY)], b"{}");
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.envelope(false)["details"]["required_scope"], "system");
    let r = f.get("/status", Some(SYSTEM_KEY));
    assert_eq!(r.status, 403);
    assert_eq!(r.envelope(false)["details"]["required_scope"], "read");

    // 400 naming the field.
    for (body, field) in [
        (&b"{\"timeout_seconds\": "[..], "body"),
        (b"[1, 2]", "body"),
        (b"{\"timeout_seconds\": \"30\"}", "timeout_seconds"),
        (b"{\"force\": \"yes\"}", "force"),
        (b"{\"reason\": 42}", "reason"),
        (b"{\"timeoutSeconds\": 30}", "timeoutSeconds"),
    ] {
        let r = post(&sys, body);
        assert_eq!(
            r.status,
            400,
            "{}: {}",
            String::from_utf8_lossy(body),
            r.text()
        );
        let e = r.envelope(false);
        assert_eq!(e["code"], "BAD_REQUEST");
        assert_eq!(e["details"]["field"], field, "{e}");
        assert!(
            e["message"].as_str().unwrap_or_default().contains(field),
            "{e}"
        );
    }

    // 422: out of range (the fixture's maximum is 60 s).
    for t in ["0", "-1", "61", "1e9"] {
        let r = post(&sys, format!("{{\"timeout_seconds\": {t}}}").as_bytes());
        assert_eq!(r.status, 422, "{t}: {}", r.text());
        assert_eq!(r.envelope(false)["details"]["field"], "timeout_seconds");
    }

    // 413: over the 256-byte limit, declared or streamed.
    let big = format!("{{\"reason\": \"{}\"}}", "x".repeat(400));
    let r = post(&sys, big.as_bytes());
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(r.envelope(false)["code"], "PAYLOAD_TOO_LARGE");
    let mut s = connect(f.addr);
    send_head(
        &mut s,
        "POST",
        "/shutdown",
        &[("X-API-Key", SYSTEM_KEY), ("Transfer-Encoding", "chunked")],
        None,
    );
    let _ = s.write_all(format!("190\r\n{}\r\n0\r\n\r\n", "y".repeat(400)).as_bytes());
    let r = read_response(&mut s);
    assert_eq!(r.status, 413, "{}", r.text());

    // 404 and 405 with Allow.
    let r = f.get("/nope", Some(READ_KEY));
    assert_eq!(r.status, 404);
    assert_eq!(r.envelope(false)["code"], "NOT_FOUND");
    let r = f.get("/shutdown", Some(SYSTEM_KEY));
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST, DELETE"));
    assert_eq!(r.envelope(false)["code"], "METHOD_NOT_ALLOWED");
    let r = request(
        f.addr,
        "POST",
        "/status",
        &[("X-API-Key", READ_KEY)],
        Some(b""),
    );
    assert_eq!((r.status, r.header("allow")), (405, Some("GET")));
    r.envelope(false);

    // None of it disturbed the service.
    assert_eq!(f.get("/health/ready", None).status, 200);
    let status = f.get("/status", Some(READ_KEY)).envelope(true);
    assert_eq!(status["state"], "RUNNING", "{status}");
}

#[test]
fn slow_and_half_open_clients_cannot_hold_the_listener() {
    let f = Options::keyed().start();
    // A client that sends half a request line and then nothing is disconnected (header timeout).
    let mut half = connect(f.addr);
    half.write_all(b"GET /health/live HTTP/1.1\r\nHo")
        .expect("write");
    let mut buf = Vec::new();
    let _ = half.read_to_end(&mut buf); // returns once the server closes (or errors)
    assert!(
        !String::from_utf8_lossy(&buf).contains("200 OK"),
        "{}",
        String::from_utf8_lossy(&buf)
    );

    // A body that never completes gets 408 (body timeout), not a held connection.
    let mut slow = connect(f.addr);
    send_head(
        &mut slow,
        "POST",
        "/shutdown",
        &[("X-API-Key", SYSTEM_KEY)],
        Some(40),
    );
    slow.write_all(b"{\"reas").expect("write");
    let r = read_response(&mut slow);
    assert_eq!(r.status, 408, "{}", r.text());
    assert_eq!(r.envelope(false)["code"], "REQUEST_TIMEOUT");

    // The connection limit (4): four open event streams hold four slots; the fifth
    // connection is answered 503 at once and closed.
    // (The slot of a connection the server just closed may be released a moment after the
    // client sees the close: retry the setup on 503 instead of assuming when.)
    let start = Instant::now();
    let mut streams = Vec::new();
    while streams.len() < 4 {
        match Sse::try_open(f.addr, READ_KEY) {
            Some(mut s) => {
                s.next().expect("first event");
                streams.push(s);
            }
            None => {
                assert!(start.elapsed() < PATIENCE, "event streams never opened");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    let r = f.get("/health/live", None);
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.envelope(false)["code"], "TOO_MANY_CONNECTIONS");
    drop(streams);
    // Slots come back once the streams are gone (the server notices on its next write or
    // keep-alive; poll the probe rather than assume when).
    let start = Instant::now();
    loop {
        let r = f.get("/health/live", None);
        if r.status == 200 {
            break;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "slots never came back: {}",
            r.text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        f.get("/status", Some(READ_KEY)).envelope(true)["state"],
        "RUNNING"
    );
}

// ---- probes nobody can starve -------------------------------------------------------------

/// How many probes each load test sends; every one must get 200.
const PROBES: usize = 40;

/// A background load on the admin port, run until dropped.
struct Load {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    rounds: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(work: impl FnMut() + Send + 'static) -> Load {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let rounds = std::sync::Arc::new(AtomicUsize::new(0));
        let (s, r) = (stop.clone(), rounds.clone());
        let mut work = work;
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                work();
                r.fetch_add(1, Ordering::Relaxed);
            }
        });
        Load {
            stop,
            rounds,
            thread: Some(thread),
        }
    }

    /// Waits until the load has run `n` full rounds (so it holds its connections).
    fn warmed(&self, n: usize) {
        let start = Instant::now();
        while self.rounds.load(std::sync::atomic::Ordering::Relaxed) < n {
            assert!(start.elapsed() < PATIENCE, "the load never got going");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A keep-alive client's request and response on an open connection; `false` when the
/// server has closed it.
fn keep_alive_probe(s: &mut TcpStream) -> bool {
    if s.write_all(b"GET /health/live HTTP/1.1\r\nHost: admin\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
        if let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if raw.len() >= split + 4 + len {
                return head.starts_with("http/1.1 200");
            }
        }
    }
}

/// Sends `PROBES` liveness probes on fresh connections and a request to the application's
/// port beside each; returns the statuses that were not 200.
fn probe_both_ports(f: &Fixture) -> Vec<String> {
    let app = f.app.expect("the fixture serves an application port");
    let mut failures = Vec::new();
    let mut slowest = Duration::ZERO;
    for i in 0..PROBES {
        let began = Instant::now();
        let r = f.get("/health/live", None);
        slowest = slowest.max(began.elapsed());
        if r.status != 200 {
            failures.push(format!("probe {i}: {} {}", r.status, r.text()));
        }
        let a = request(app, "GET", "/", &[], None);
        if a.status != 200 {
            failures.push(format!("app {i}: {}", a.status));
        }
    }
    // Reported, not asserted (no timing thresholds in tests): `--nocapture` shows it.
    eprintln!("slowest of {PROBES} probes: {slowest:?}");
    failures
}

#[test]
fn idle_keep_alive_clients_cannot_starve_the_probes() {
    // 40 keep-alive clients (more than the 32 slots) that each send a liveness probe, then
    // sit idle on their connection and ask again: a closed connection is reopened.
    let f = Options::new().env("FIXTURE_APP", "1").start();
    let addr = f.addr;
    let mut clients: Vec<Option<TcpStream>> = (0..40).map(|_| None).collect();
    let load = Load::start(move || {
        for c in &mut clients {
            let alive = match c {
                Some(s) => keep_alive_probe(s),
                None => false,
            };
            if !alive {
                *c = TcpStream::connect(addr).ok().inspect(|s| {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                });
                if let Some(s) = c {
                    let _ = keep_alive_probe(s);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    });
    load.warmed(2);
    let failures = probe_both_ports(&f);
    drop(load);
    assert!(
        failures.is_empty(),
        "{} of {PROBES} probes failed under idle keep-alive load: {failures:#?}",
        failures.len()
    );
}

#[test]
fn slow_loris_clients_cannot_starve_the_probes() {
    // 200 connections that trickle a request head one byte at a time and never finish it;
    // a closed one is reopened at once.
    let f = Options::new().env("FIXTURE_APP", "1").start();
    let addr = f.addr;
    let open = move || {
        let s = TcpStream::connect(addr).ok()?;
        s.set_nonblocking(true).ok()?;
        Some((s, 0usize))
    };
    let mut slow: Vec<Option<(TcpStream, usize)>> = (0..200).map(|_| open()).collect();
    let head = b"GET /health/live HTTP/1.1\r\nX-Slow: ";
    let load = Load::start(move || {
        for c in &mut slow {
            let ok = match c {
                Some((s, sent)) => {
                    let byte = if *sent < head.len() {
                        head[*sent]
                    } else {
                        b'a'
                    };
                    let ok = matches!(s.write(&[byte]), Ok(1));
                    // A server that closed the connection answers with EOF or a reset.
                    let mut sink = [0u8; 512];
                    let closed = s.read(&mut sink).is_ok();
                    *sent += 1;
                    ok && !closed
                }
                None => false,
            };
            if !ok {
                *c = open();
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    });
    load.warmed(2);
    let failures = probe_both_ports(&f);
    drop(load);
    assert!(
        failures.is_empty(),
        "{} of {PROBES} probes failed under slow-loris load: {failures:#?}",
        failures.len()
    );
}

/// 200 clients at once, each with a new connection and one `GET /status`, against 32 slots
/// (16 per peer: they all come from 127.0.0.1): every request that arrived gets a response,
/// `200`, or `503` with `Retry-After` when no slot was free. Three rounds.
#[test]
fn a_burst_past_the_connection_limit_answers_every_request() {
    const CLIENTS: usize = 200;
    let f = Options::new()
        .env("GRACEFUL_ADMIN_API_KEY", FULL_KEY)
        .env("GRACEFUL_ADMIN_MAX_CONNECTIONS", "32")
        .start();
    let addr = f.addr;
    let mut answered = std::collections::BTreeMap::new();
    for round in 0..3 {
        let start = std::sync::Arc::new(std::sync::Barrier::new(CLIENTS));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let start = start.clone();
                std::thread::spawn(move || -> Result<(u16, Option<String>), String> {
                    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
                    s.set_read_timeout(Some(PATIENCE)).map_err(|e| e.to_string())?;
                    let req = format!(
                        "GET /status HTTP/1.1\r\nHost: admin\r\nX-API-Key: {FULL_KEY}\r\nConnection: close\r\n\r\n"
                    );
                    start.wait();
                    s.write_all(req.as_bytes())
                        .map_err(|e| format!("write: {e}"))?;
                    let mut raw = Vec::new();
                    let read = s.read_to_end(&mut raw);
                    if !raw.windows(4).any(|w| w == b"\r\n\r\n") {
                        return Err(format!("no response ({read:?}, {} bytes)", raw.len()));
                    }
                    let r = parse_response(&raw);
                    Ok((r.status, r.header("retry-after").map(str::to_string)))
                })
            })
            .collect();
        for c in clients {
            let outcome = c.join().expect("client thread");
            let key = match outcome {
                Ok((200, _)) => "200".to_string(),
                Ok((503, Some(_))) => "503 with Retry-After".to_string(),
                Ok((status, retry)) => format!("{status} (Retry-After {retry:?})"),
                Err(e) => e,
            };
            *answered.entry(key).or_insert(0usize) += 1;
        }
        eprintln!("after round {round}: {answered:?}");
    }
    let served = answered.get("200").copied().unwrap_or(0);
    let busy = answered.get("503 with Retry-After").copied().unwrap_or(0);
    assert_eq!(
        served + busy,
        3 * CLIENTS,
        "every request gets 200, or 503 with Retry-After: {answered:#?}"
    );
    assert!(served > 0, "some requests are served: {answered:#?}");
    // The listener is still in order afterwards.
    assert_eq!(
        f.get("/status", Some(FULL_KEY)).envelope(true)["state"],
        "RUNNING"
    );
}

/// `active_operations.connections` counts the units of work nobody named (requests,
/// connections, the program's own `track()` guards), exactly: `main`, which holds a guard of
/// its own while it runs, is not one of them.
#[test]
fn status_counts_the_tracked_units_in_flight_and_not_main() {
    let f = Options::keyed().env("FIXTURE_TRACKED", "3").start();
    let status = f.get("/status", Some(READ_KEY)).envelope(true);
    assert_eq!(status["active_operations"]["connections"], 3, "{status}");
}

#[test]
fn post_shutdown_is_accepted_once_then_reports_progress() {
    let state = tempfile::tempdir().expect("state dir");
    let hold = state.path().join("release");
    let mut f = Options::keyed()
        .env("FIXTURE_HOLD_FILE", hold.to_string_lossy())
        .state_dir(state.path())
        .start();
    let sys = [
        ("X-API-Key", SYSTEM_KEY),
        ("Content-Type", "application/json"),
    ];
    // `main` and the tracked task `held` are not connections: nothing is being served.
    let status = f.get("/status", Some(READ_KEY)).envelope(true);
    assert_eq!(status["active_operations"]["connections"], 0, "{status}");
    let body = br#"{"timeout_seconds": 30, "force": false, "reason": "Maintenance shutdown"}"#;
    let r = request(f.addr, "POST", "/shutdown", &sys, Some(body));
    assert_eq!(r.status, 200, "{}", r.text());
    let d = r.envelope(true);
    assert_eq!(d["status"], "STOPPING");
    assert!(
        d["shutdown_initiated_at"]
            .as_str()
            .unwrap_or_default()
            .ends_with('Z'),
        "{d}"
    );
    assert_eq!(d["estimated_shutdown_time_seconds"], 30.0);
    for k in ["connections", "tasks", "resources"] {
        assert!(d["active_operations"][k].is_u64(), "{k}: {d}");
    }
    assert_eq!(d["active_operations"]["resources"], 2);
    assert_eq!(d["active_operations"]["tasks"], 1, "the task `held`: {d}");
    assert_eq!(d["active_operations"]["connections"], 0, "{d}");
    let seq: Vec<&str> = d["shutdown_sequence"]
        .as_array()
        .expect("sequence")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // One readable step per phase between running and the end, in order.
    assert_eq!(seq.len(), PHASES.len() - 2, "{seq:?}");
    assert!(seq[1].starts_with("Stop accepting new requests"), "{seq:?}");
    assert!(seq.iter().all(|s| s.contains(' ')), "{seq:?}");

    // Readiness is gone from the first moment; a second POST reports progress instead.
    let ready = f.get("/health/ready", None);
    assert_eq!(ready.status, 503);
    assert_eq!(ready.envelope(false)["code"], "NOT_READY");
    let again = request(f.addr, "POST", "/shutdown", &sys, Some(b"{}"));
    assert_eq!(again.status, 200, "{}", again.text());
    let again = again.envelope(true);
    assert_eq!(again["already_in_progress"], true);
    assert_eq!(
        again["progress"]["reason"],
        "requested: Maintenance shutdown"
    );
    assert_eq!(again["progress"]["timeout_seconds"], 30.0);
    assert!(again["progress"]["elapsed_seconds"].is_number());
    let status = f.get("/status", Some(READ_KEY)).envelope(true);
    assert_eq!(status["state"], "STOPPING", "{status}");
    assert_eq!(status["shutdown"]["resources_total"], 2, "{status}");
    assert_eq!(
        status["shutdown"]["tasks"],
        serde_json::json!(["held"]),
        "{status}"
    );
    std::fs::write(&hold, b"").expect("release the drain");

    let exit = f.wait();
    assert!(exit.success(), "{exit}: {}", f.stderr());
    let report =
        std::fs::read_to_string(state.path().join("last-shutdown.json")).expect("report written");
    let report: Value = serde_json::from_str(&report).expect("report JSON");
    assert_eq!(report["result"], "completed");
    assert_eq!(
        report["reason"]["reason"], "Maintenance shutdown",
        "{report}"
    );
}

#[test]
fn delete_shutdown_forces() {
    let mut f = Options::keyed().env("FIXTURE_WORK_MS", "600000").start();
    let r = request(
        f.addr,
        "DELETE",
        "/shutdown",
        &[("X-API-Key", SYSTEM_KEY)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let d = r.envelope(true);
    assert_eq!(
        (d["status"].as_str(), d["forced"].as_bool()),
        (Some("STOPPING"), Some(true))
    );
    let exit = f.wait();
    assert_eq!(
        exit.code(),
        Some(i32::from(graceful::exit::FORCED)),
        "{}",
        f.stderr()
    );
}

#[test]
fn an_sse_client_sees_every_phase_in_order_during_sigterm() {
    let mut f = Options::keyed().env("FIXTURE_CLOSE_MS", "50").start();
    let mut sse = Sse::open(f.addr, READ_KEY);
    let mut phases = Vec::new();
    let mut closed = Vec::new();
    let (event, first) = sse.next().expect("first event");
    assert_eq!(event, "phase");
    phases.push(first["phase"].as_str().unwrap_or_default().to_string());
    f.sigterm();
    while let Some((event, data)) = sse.next() {
        match event.as_str() {
            "phase" => phases.push(data["phase"].as_str().unwrap_or_default().to_string()),
            "resource_closed" => {
                assert_eq!(
                    phases.last().map(String::as_str),
                    Some("closing_resources"),
                    "{data}"
                );
                closed.push(data["name"].as_str().unwrap_or_default().to_string());
            }
            _ => {}
        }
    }
    assert_eq!(phases, PHASES, "the stream ends after the final phase");
    assert_eq!(closed, ["cache", "db"], "ascending priority");
    assert!(f.wait().success(), "{}", f.stderr());
}

#[test]
fn a_non_loopback_bind_without_a_key_is_refused() {
    let err = Options::new()
        .env("GRACEFUL_ADMIN_ADDR", "0.0.0.0:0")
        .try_start()
        .err()
        .expect("must not start");
    assert!(!err.0.success());
    assert!(
        err.1
            .contains("refusing to serve the admin API on 0.0.0.0:0 without an API key"),
        "{}",
        err.1
    );
    // With a key the same address is served.
    let f = Options::keyed()
        .env("GRACEFUL_ADMIN_ADDR", "0.0.0.0:0")
        .start();
    let local = SocketAddr::from(([127, 0, 0, 1], f.addr.port()));
    assert_eq!(request(local, "GET", "/health/live", &[], None).status, 200);
}

#[test]
fn a_bad_admin_section_names_the_key_and_the_source() {
    let mut o = Options::new();
    o.config = Some("[admin]\naddr = \"localhost\"\nmax_conections = 3\n".into());
    let (status, err) = o.try_start().err().expect("must not start");
    assert!(!status.success());
    assert!(
        err.contains("admin.addr") && err.contains("127.0.0.1:9090"),
        "{err}"
    );
    assert!(
        err.contains("admin.max_conections")
            && err.contains("did you mean `max_connections`")
            && err.contains("accepted keys"),
        "{err}"
    );
    assert!(err.contains("graceful.toml"), "{err}");
}

#[test]
fn metrics_and_status_show_the_previous_shutdown_after_a_restart() {
    let state = tempfile::tempdir().expect("state dir");
    let mut first = Options::keyed().state_dir(state.path()).start();
    let before = parse_metrics(&first.get("/metrics", Some(READ_KEY)).text());
    assert!(
        !before
            .iter()
            .any(|s| s.metric.starts_with("graceful_previous_")),
        "no previous run yet"
    );
    first.sigterm();
    assert!(first.wait().success(), "{}", first.stderr());

    let second = Options::keyed().state_dir(state.path()).start();
    let text = second.get("/metrics", Some(READ_KEY)).text();
    let samples = parse_metrics(&text);
    let get = |name: &str| {
        samples
            .iter()
            .find(|s| s.metric == name)
            .map(value)
            .unwrap_or_else(|| panic!("{name} missing: {text}"))
    };
    assert!(get("graceful_previous_shutdown_duration_seconds") >= 0.0);
    assert_eq!(get("graceful_previous_shutdown_forced"), 0.0);
    let status = second.get("/status", Some(READ_KEY)).envelope(true);
    assert_eq!(
        status["previous_shutdown"]["result"], "completed",
        "{status}"
    );
    assert_eq!(status["previous_shutdown"]["forced"], false);
    assert_eq!(
        status["previous_shutdown"]["reason"]["signal"], "Term",
        "{status}"
    );
}

fn require(tool: &str) {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{tool} is required for this test (apt-get install -y {tool})"
    );
}

#[test]
fn memory_over_its_threshold_is_degraded_with_the_reason() {
    let f = Options::keyed()
        .env("GRACEFUL_ADMIN_MEMORY_THRESHOLD_MB", "1")
        .start();
    let health = f.get("/health", None);
    assert_eq!(
        health.status,
        200,
        "degraded is not down: {}",
        health.text()
    );
    let health = health.envelope(true);
    assert_eq!(health["health"], "degraded", "{health}");
    assert_eq!(health["degraded"][0]["reason"], "memory", "{health}");
    assert!(
        health["degraded"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("memory_threshold_mb")),
        "{health}"
    );
    let metrics = f.get("/metrics", Some(READ_KEY));
    let families = parse_metrics(&metrics.text());
    let gauge = |reason: &str| {
        families
            .iter()
            .find(|s| s.metric == "graceful_degraded" && s.labels.get("reason") == Some(reason))
            .map(value)
    };
    assert_eq!(gauge("memory"), Some(1.0), "{}", metrics.text());
    assert_eq!(gauge("cpu"), Some(0.0), "{}", metrics.text());
    // CPU as a percentage over a recent window, once the sampler has two samples.
    let start = Instant::now();
    loop {
        let p = f.get("/process", Some(READ_KEY)).envelope(true);
        if p["cpu"]["percent"].is_number() {
            assert!(
                p["cpu"]["window_seconds"].as_f64().unwrap_or(0.0) > 0.0,
                "{p}"
            );
            break;
        }
        assert!(start.elapsed() < PATIENCE, "no CPU percentage: {p}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Without a threshold, healthy.
    let g = Options::keyed().start();
    assert_eq!(g.get("/health", None).envelope(true)["health"], "ok");
}

#[test]
fn a_metrics_listener_serves_only_metrics_without_a_key() {
    let f = Options::keyed()
        .env("GRACEFUL_ADMIN_METRICS_ADDR", "127.0.0.1:0")
        .start();
    let m = f.metrics.expect("the fixture printed the metrics address");
    let r = request(m, "GET", "/metrics", &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        parse_metrics(&r.text())
            .iter()
            .any(|s| s.metric == "graceful_phase"),
        "{}",
        r.text()
    );
    // Nothing else is there, and the admin listener still wants its key.
    for path in ["/status", "/config", "/shutdown", "/health/live"] {
        let r = request(m, "GET", path, &[], None);
        assert_eq!(r.status, 404, "{path}: {}", r.text());
    }
    assert_eq!(f.get("/metrics", None).status, 401);
}

#[test]
fn the_daemon_example_stops_with_the_documented_curl_loop() {
    require("curl");
    require("jq");
    let program = build_example("daemon");
    let state = tempfile::tempdir().expect("state dir");
    let daemon = |linger: &str| {
        let mut o = Options::new().state_dir(state.path());
        o.program = program.clone();
        o.env.push(("GRACEFUL_ADMIN_API_KEY", FULL_KEY.into()));
        o.env.push(("GRACEFUL_ADMIN_LINGER", linger.into()));
        o.start()
    };
    // The example's own linger (5 s) applies; the environment variable only overrides it.
    let mut first = daemon("5s");
    let status = started_status(&first);
    assert_eq!(status["status"], "RUNNING", "{status}");
    assert_eq!(
        status["active_operations"]["processes"], 2,
        "the application's named counts: {status}"
    );
    assert_eq!(status["active_operations"]["jobs"], 3, "{status}");
    assert_eq!(status["active_operations"]["timers"], 1, "{status}");
    assert_eq!(status["recovered"][0]["name"], "workflows", "{status}");
    assert_eq!(status["recovered"][0]["from"], "fresh", "{status}");

    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/daemon.rs"
    ))
    .expect("example");
    let script = shell_block_after(&source, "Stop it from a shell");
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env("ADDR", first.addr.to_string())
        .env("KEY", FULL_KEY)
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines = stdout.lines();
    // The stop response: every field of the documented 200 body.
    let stop: Value = serde_json::from_str(lines.next().unwrap_or_default())
        .unwrap_or_else(|e| panic!("the stop response is JSON ({e}): {stdout}"));
    assert_eq!(stop["success"], true, "{stop}");
    assert!(stop["request_id"].is_string(), "{stop}");
    let data = &stop["data"];
    assert_eq!(data["status"], "STOPPING", "{stop}");
    let at = data["shutdown_initiated_at"].as_str().unwrap_or_default();
    assert!(
        humantime_like(at),
        "shutdown_initiated_at is ISO-8601 with milliseconds: {at}"
    );
    assert!(data["estimated_shutdown_time_seconds"].is_u64(), "{stop}");
    for count in ["processes", "jobs", "timers"] {
        assert!(data["active_operations"][count].is_u64(), "{count}: {stop}");
    }
    let steps = data["shutdown_sequence"].as_array().expect("steps");
    assert!(
        steps.len() >= 5
            && steps
                .iter()
                .all(|s| s.as_str().is_some_and(|s| s.contains(' '))),
        "readable steps: {stop}"
    );
    // Then the poller: STOPPING while it stops, STOPPED once done (the linger keeps the API
    // answering), never anything else.
    let seen: Vec<&str> = lines
        .clone()
        .filter_map(|l| l.strip_prefix("Stopping... Status: "))
        .collect();
    assert!(
        seen.iter().all(|s| *s == "STOPPING" || *s == "STOPPED"),
        "{stdout}"
    );
    assert_eq!(seen.last(), Some(&"STOPPED"), "{stdout}");
    assert_eq!(lines.last(), Some("Stopped: STOPPED"), "{stdout}");
    // A stop request now: the documented 404.
    let again = request(
        first.addr,
        "POST",
        "/api/v1/daemon/stop",
        &[("X-API-Key", FULL_KEY)],
        Some(b"{}"),
    );
    assert_eq!(again.status, 404, "{}", again.text());
    let e = again.envelope(false);
    assert_eq!(e["code"], "DAEMON_NOT_RUNNING", "{e}");
    assert_eq!(e["details"]["current_status"], "STOPPED", "{e}");
    assert!(first.wait().success(), "{}", first.stderr());

    // The next start recovers what the first one saved, and says so.
    let mut second = daemon("0");
    let status = started_status(&second);
    let recovered = &status["recovered"][0];
    assert_eq!(recovered["from"], "snapshot", "{status}");
    assert_eq!(recovered["counts"]["processes"], 2, "{status}");
    assert_eq!(recovered["counts"]["jobs"], 3, "{status}");
    assert_eq!(recovered["counts"]["timers"], 1, "{status}");
    second.sigterm();
    assert!(second.wait().success(), "{}", second.stderr());
}

/// The daemon's `/status` once its workflows are loaded (the admin API answers from before
/// the run, while resources are still being built).
fn started_status(daemon: &Fixture) -> Value {
    let start = Instant::now();
    loop {
        let status = daemon
            .get("/api/v1/daemon/status", Some(FULL_KEY))
            .envelope(true);
        if status["active_operations"]["processes"] != 0 {
            return status;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "the daemon never started: {status}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `2026-11-25T16:29:21.123Z`: a date, a time with milliseconds, UTC.
fn humantime_like(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24 && b[10] == b'T' && b[19] == b'.' && b[23] == b'Z'
}

/// The first ```sh block after `marker` in the `//!` docs, without the `//! ` prefixes.
fn shell_block_after(source: &str, marker: &str) -> String {
    let docs: Vec<&str> = source
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    let from = docs
        .iter()
        .position(|l| l.contains(marker))
        .expect("marker in the docs");
    let start = from
        + docs[from..]
            .iter()
            .position(|l| *l == "```sh")
            .expect("```sh block")
        + 1;
    let len = docs[start..]
        .iter()
        .position(|l| *l == "```")
        .expect("end of block");
    docs[start..start + len].join("\n")
}

/// Builds an example with the features this test was built with and returns its path.
fn build_example(name: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "gracefully",
            "--example",
            name,
            "--features",
            &common::enabled_features(),
            "--message-format=json",
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo build");
    assert!(out.status.success(), "cargo build --example {name} failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("the example's executable")
}

// ---- signals on the builder path ---------------------------------------------------------

impl Fixture {
    fn signal(&self, sig: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).expect("pid"));
        nix::sys::signal::kill(pid, sig).expect("kill");
    }

    /// Polls `/health/ready` until it answers 503: the engine has seen the shutdown.
    fn wait_not_ready(&self) {
        let start = Instant::now();
        while self.get("/health/ready", None).status != 503 {
            assert!(start.elapsed() < PATIENCE, "readiness never turned false");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[test]
fn a_copy_of_the_first_sigterm_does_not_abort_the_shutdown() {
    let state = tempfile::tempdir().expect("tempdir");
    let hold = state.path().join("release");
    let mut f = Options::new()
        .env("FIXTURE_HOLD_FILE", hold.to_string_lossy())
        // Wide, so the copy lands in it however slow this machine is.
        .env("SHUTDOWN_SIGNAL_REPEAT_WINDOW", "30s")
        .state_dir(state.path())
        .start();
    f.sigterm();
    f.wait_not_ready();
    f.sigterm();
    std::fs::write(&hold, b"").expect("release the drain");
    let exit = f.wait();
    assert!(exit.success(), "{exit}: {}", f.stderr());
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(state.path().join("last-shutdown.json")).expect("report"),
    )
    .expect("report JSON");
    assert_eq!(report["result"], "completed", "{report}");
    for r in report["resources"].as_array().expect("resources") {
        assert_eq!(r["outcome"]["status"], "closed", "{report}");
    }
}

#[test]
fn the_same_signal_after_the_repeat_window_exits_at_once() {
    let state = tempfile::tempdir().expect("tempdir");
    let hold = state.path().join("never");
    let mut f = Options::new()
        .env("FIXTURE_HOLD_FILE", hold.to_string_lossy())
        .env("SHUTDOWN_SIGNAL_REPEAT_WINDOW", "100ms")
        .start();
    f.signal(nix::sys::signal::Signal::SIGINT);
    f.wait_not_ready();
    // Later than the window after the first press, which the engine saw before readiness
    // turned false.
    std::thread::sleep(Duration::from_millis(300));
    f.signal(nix::sys::signal::Signal::SIGINT);
    let exit = f.wait();
    assert_eq!(exit.code(), Some(130), "{}", f.stderr());
    assert!(
        f.stderr().contains("second signal SIGINT during shutdown"),
        "{}",
        f.stderr()
    );
}

// ---- failing tracked tasks on the builder path --------------------------------------------

#[test]
fn a_panicking_tracked_task_is_named_and_stops_the_service_non_zero() {
    let state = tempfile::tempdir().expect("tempdir");
    let mut f = Options::new()
        .env("FIXTURE_TASK", "panic")
        .state_dir(state.path())
        .start();
    let exit = f.wait();
    assert_eq!(
        exit.code(),
        Some(i32::from(graceful::exit::FAILED)),
        "{}",
        f.stderr()
    );
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(state.path().join("last-shutdown.json")).expect("report"),
    )
    .expect("report JSON");
    assert_eq!(report["reason"]["kind"], "task_failed", "{report}");
    assert_eq!(report["tasks"][0]["name"], "ingest", "{report}");
    assert_eq!(
        report["tasks"][0]["outcome"]["status"], "panicked",
        "{report}"
    );
    for r in report["resources"].as_array().expect("resources") {
        assert_eq!(r["outcome"]["status"], "closed", "orderly: {report}");
    }
}

// ---- readiness held down by the program ----------------------------------------------------

#[test]
fn a_readiness_hold_keeps_health_ready_503_and_names_itself() {
    let dir = tempfile::tempdir().expect("tempdir");
    let warm = dir.path().join("warm");
    let mut f = Options::new()
        .env("FIXTURE_WARM_FILE", warm.to_string_lossy())
        .start();
    let r = f.get("/health/ready", None);
    assert_eq!(r.status, 503, "{}", r.text());
    let e = r.envelope(false);
    assert_eq!(e["code"], "NOT_READY", "{e}");
    assert_eq!(e["message"], "not ready: warming cache", "{e}");
    assert_eq!(
        e["details"]["reasons"],
        serde_json::json!(["warming cache"])
    );
    assert_eq!(f.get("/health", None).status, 503, "the same answer");
    std::fs::write(&warm, b"").expect("warm");
    let start = Instant::now();
    while f.get("/health/ready", None).status != 200 {
        assert!(start.elapsed() < PATIENCE, "readiness never came back");
        std::thread::sleep(Duration::from_millis(10));
    }
    let d = f.get("/health/ready", None).envelope(true);
    assert_eq!(d["reasons"], serde_json::json!([]), "{d}");
    f.sigterm();
    assert!(f.wait().success(), "{}", f.stderr());
}

// ---- a forced shutdown still saves state ---------------------------------------------------

fn hook_outcome(state: &Path, name: &str) -> Value {
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(state.join("last-shutdown.json")).expect("report"),
    )
    .expect("report JSON");
    report["hooks"]
        .as_array()
        .expect("hooks")
        .iter()
        .find(|h| h["name"] == name)
        .unwrap_or_else(|| panic!("no hook {name}: {report}"))["outcome"]
        .clone()
}

#[test]
fn delete_shutdown_still_runs_the_state_save_and_zero_disables_it() {
    // The budget is wide: it only has to cover a 50 ms save however slow this machine is.
    for (budget, saved) in [("20s", true), ("0", false)] {
        let state = tempfile::tempdir().expect("tempdir");
        let file = state.path().join("jobs.saved");
        let mut f = Options::keyed()
            .env("FIXTURE_WORK_MS", "600000")
            .env("FIXTURE_SAVE_FILE", file.to_string_lossy())
            .env("SHUTDOWN_FORCED_SAVE_TIMEOUT", budget)
            .state_dir(state.path())
            .start();
        let r = request(
            f.addr,
            "DELETE",
            "/shutdown",
            &[("X-API-Key", SYSTEM_KEY)],
            None,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let exit = f.wait();
        assert_eq!(
            exit.code(),
            Some(i32::from(graceful::exit::FORCED)),
            "{}",
            f.stderr()
        );
        let outcome = hook_outcome(state.path(), "save jobs");
        if saved {
            assert_eq!(outcome["status"], "closed", "{outcome}");
            assert_eq!(std::fs::read(&file).expect("saved"), b"saved");
        } else {
            assert_eq!(outcome["status"], "timed_out", "{outcome}");
            assert!(!file.exists(), "0 disables the forced save");
        }
    }
}

#[test]
fn a_shutdown_whose_deadline_expires_in_the_drain_still_saves_state() {
    let state = tempfile::tempdir().expect("tempdir");
    let file = state.path().join("jobs.saved");
    let mut f = Options::keyed()
        .env("FIXTURE_WORK_MS", "600000")
        .env("FIXTURE_SAVE_FILE", file.to_string_lossy())
        .env("SHUTDOWN_FORCED_SAVE_TIMEOUT", "5s")
        .state_dir(state.path())
        .start();
    // The operator's deadline (4 s) is shorter than the drain (10 s): the drain is cut early
    // enough to leave the save its budget (at most half the deadline).
    let sys = [
        ("X-API-Key", SYSTEM_KEY),
        ("Content-Type", "application/json"),
    ];
    let r = request(
        f.addr,
        "POST",
        "/shutdown",
        &sys,
        Some(br#"{"timeout_seconds": 4}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let exit = f.wait();
    assert_eq!(
        exit.code(),
        Some(i32::from(graceful::exit::FORCED)),
        "{}",
        f.stderr()
    );
    assert_eq!(hook_outcome(state.path(), "save jobs")["status"], "closed");
    assert_eq!(std::fs::read(&file).expect("saved"), b"saved");
}

/// One peer (here 127.0.0.2) that opens more keep-alive connections than the listener has
/// slots keeps at most its share of them (half of `max_connections` by default): past it, its
/// own longest-waiting connection is closed, not another peer's. Probes from another peer
/// (127.0.0.1) answer 200 meanwhile.
#[test]
fn one_peer_keeps_at_most_its_share_of_the_slots() {
    let f = Options::new().env("FIXTURE_APP", "1").start();
    let addr = f.addr;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // 40 connections from 127.0.0.2 (more than the 32 slots), each asks once and then waits.
    let connect = || {
        runtime.block_on(async {
            let socket = tokio::net::TcpSocket::new_v4().ok()?;
            socket.bind("127.0.0.2:0".parse().ok()?).ok()?;
            socket.connect(addr).await.ok()?.into_std().ok()
        })
    };
    let mut conns = Vec::new();
    let mut answered = 0;
    for _ in 0..40 {
        let Some(mut s) = connect() else { continue };
        s.set_nonblocking(false).expect("blocking");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        answered += usize::from(keep_alive_probe(&mut s));
        conns.push(s);
    }
    assert_eq!(
        answered, 40,
        "each connection of 127.0.0.2 is answered once"
    );
    // Let the server finish its bookkeeping of the last evictions, then count who is left.
    std::thread::sleep(Duration::from_millis(200));
    let alive = conns
        .iter_mut()
        .map(|s| {
            s.set_nonblocking(true).expect("nonblocking");
            let mut buf = [0u8; 16];
            matches!(s.read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
        })
        .filter(|open| *open)
        .count();
    assert!(
        (1..=16).contains(&alive),
        "127.0.0.2 keeps at most its share (16 of 32 slots): {alive} of its 40 connections are open"
    );
    let failures = probe_both_ports(&f);
    drop(conns);
    assert!(
        failures.is_empty(),
        "{} of {PROBES} probes failed while another peer held {alive} connections: {failures:#?}",
        failures.len()
    );
}

// ---- gracefulctl watch ---------------------------------------------------------------------

/// The `gracefulctl` binary, built as a user builds it.
fn build_gracefulctl() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "gracefulctl",
            "--bin",
            "gracefulctl",
        ])
        .arg("--message-format=json")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo build");
    assert!(out.status.success(), "cargo build -p gracefulctl failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "gracefulctl")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("gracefulctl's executable")
}

/// Starts `gracefulctl watch TARGET` (stdout a pipe: the plain view) and returns it once it
/// follows the stream, with the lines read so far.
fn start_watch(args: &[&str]) -> (Child, BufReader<std::process::ChildStdout>, String) {
    let mut watch = Command::new(build_gracefulctl())
        .arg("watch")
        .args(args)
        .env_remove("GRACEFUL_ADMIN_API_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn gracefulctl watch");
    let mut out = BufReader::new(watch.stdout.take().expect("stdout"));
    let mut seen = String::new();
    // `watching …` is printed once the stream answered 200; the first event is the phase.
    while !seen.contains("running: waiting for the shutdown to start") {
        let mut line = String::new();
        if out.read_line(&mut line).expect("read gracefulctl") == 0 {
            let mut err = String::new();
            let _ = watch.stderr.take().map(|mut e| e.read_to_string(&mut err));
            panic!("gracefulctl watch ended early: {seen}{err}");
        }
        seen.push_str(&line);
    }
    (watch, out, seen)
}

#[test]
fn gracefulctl_watch_follows_a_shutdown_to_completed_and_reports_the_exit() {
    let mut f = Options::keyed().env("FIXTURE_CLOSE_MS", "50").start();
    let url = format!("http://{}", f.addr);
    let (mut watch, mut out, mut seen) = start_watch(&[&url, "--api-key", READ_KEY]);
    f.sigterm();
    out.read_to_string(&mut seen).expect("read gracefulctl");
    let status = common::wait_child(&mut watch);
    assert!(f.wait().success(), "{}", f.stderr());
    let pid = f.child.id();
    assert!(seen.contains(&format!("(pid {pid})")), "{seen}");
    for line in [
        "  phase initiated",
        "  phase draining_connections; drain_timeout ",
        "  close priority 50: 1 close(s), deadline ",
        "  resource cache (priority 50) closed in ",
        "  resource db (priority 100) closed in ",
        "  phase completed",
    ] {
        assert!(seen.contains(line), "no `{line}` in:\n{seen}");
    }
    let view = seen
        .split_once("phase completed")
        .map(|(_, v)| v)
        .unwrap_or_default();
    assert!(view.contains("\nCOMPLETED in "), "the final view:\n{seen}");
    assert!(view.contains("    p50 cache"), "{seen}");
    assert!(view.contains("    p100 db"), "{seen}");
    assert!(!view.contains('\x1b'), "no colour on a pipe:\n{seen}");
    assert!(
        view.contains(&format!("process {pid} exited")),
        "the exit is reported:\n{seen}"
    );
    assert!(
        status.success(),
        "a completed shutdown exits 0: {status}\n{seen}"
    );
}

/// Runs `gracefulctl watch` on a pseudo-terminal (`script` from util-linux allocates one)
/// while `f` shuts down: returns the output as the terminal received it (`\r` removed).
fn watch_on_a_terminal(f: &mut Fixture, no_colour: bool) -> (ExitStatus, String) {
    let url = format!("http://{}", f.addr);
    let ctl = build_gracefulctl();
    let command = format!("'{}' watch {url} --api-key {READ_KEY}", ctl.display());
    let mut script = Command::new("script");
    script
        .args([
            "--quiet",
            "--return",
            "--flush",
            "--command",
            &command,
            "/dev/null",
        ])
        .env_remove("GRACEFUL_ADMIN_API_KEY")
        .env("COLUMNS", "100")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if no_colour {
        script.env("NO_COLOR", "1");
    } else {
        script.env_remove("NO_COLOR");
    }
    let mut watch = script.spawn().expect("spawn script (util-linux)");
    let mut stdout = watch.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    all.extend_from_slice(&buf[..n]);
                    let _ = tx.send(String::from_utf8_lossy(&all).into_owned());
                }
            }
        }
        String::from_utf8_lossy(&all).replace('\r', "")
    });
    // The first frame is drawn once the stream answered: then the shutdown may start.
    loop {
        let seen = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("gracefulctl watch draws its first frame");
        if seen.contains("now: running") {
            break;
        }
    }
    f.sigterm();
    let status = common::wait_child(&mut watch);
    let out = reader.join().expect("reader");
    (status, out)
}

/// What a frame says is left of `what` (`close priority 50: 1.2s left` → 1.2).
fn left_in(frame: &str, what: &str) -> Option<f64> {
    let after = frame.split_once(&format!("{what}: "))?.1;
    let text = after.split(" left").next()?;
    let (number, scale) = [("µs", 1e-6), ("ms", 1e-3), ("s", 1.0)]
        .iter()
        .find_map(|(unit, scale)| text.strip_suffix(unit).map(|n| (n, *scale)))?;
    Some(number.parse::<f64>().ok()? * scale)
}

#[test]
fn gracefulctl_watch_redraws_in_place_on_a_terminal_counting_each_deadline_down() {
    // Each close takes 1.5 s: several redraws fall inside each priority class.
    let mut f = Options::keyed().env("FIXTURE_CLOSE_MS", "1500").start();
    let pid = f.child.id();
    let (status, out) = watch_on_a_terminal(&mut f, false);
    assert!(f.wait().success(), "{}", f.stderr());
    assert!(
        status.success(),
        "a completed shutdown exits 0: {status}\n{out}"
    );
    let frames: Vec<&str> = out.split("\x1b[H\x1b[2J").skip(1).collect();
    assert!(frames.len() >= 3, "redrawn in place: {out:?}");
    assert!(out.contains("\x1b[32m"), "coloured on a terminal: {out:?}");
    for class in ["close priority 50", "close priority 100"] {
        let left: Vec<f64> = frames.iter().filter_map(|f| left_in(f, class)).collect();
        assert!(left.len() >= 2, "{class} is counted down: {left:?}\n{out}");
        assert!(
            left.windows(2).all(|w| w[1] <= w[0]) && left[left.len() - 1] < left[0],
            "{class}'s time left decreases from frame to frame: {left:?}"
        );
    }
    let timeout: Vec<f64> = frames
        .iter()
        .filter_map(|f| left_in(f, "· timeout"))
        .collect();
    assert!(
        timeout.len() >= 2 && timeout[timeout.len() - 1] < timeout[0],
        "the overall timeout is counted down: {timeout:?}"
    );
    // The last frame is the final view, then the exit.
    let last = frames.last().expect("a frame");
    assert!(last.contains("COMPLETED in "), "{last}");
    assert!(
        last.contains("p50 cache") && last.contains("p100 db"),
        "{last}"
    );
    assert!(!last.contains("now: "), "nothing left to count: {last}");
    assert!(
        last.contains(&format!("process {pid} exited")),
        "the exit is reported: {last}"
    );
}

#[test]
fn gracefulctl_watch_on_a_terminal_with_no_color_redraws_without_colour() {
    let mut f = Options::keyed().env("FIXTURE_CLOSE_MS", "600").start();
    let (status, out) = watch_on_a_terminal(&mut f, true);
    assert!(f.wait().success(), "{}", f.stderr());
    assert!(status.success(), "{out}");
    let frames: Vec<&str> = out.split("\x1b[H\x1b[2J").skip(1).collect();
    assert!(frames.len() >= 2, "still redrawn in place: {out:?}");
    for frame in &frames {
        assert!(
            !frame.contains('\x1b'),
            "no colour with NO_COLOR: {frame:?}"
        );
    }
    assert!(
        frames.iter().any(|f| f.contains("now: closing_resources")),
        "{out}"
    );
    assert!(out.contains("COMPLETED in "), "{out}");
}

#[test]
fn gracefulctl_watch_follows_a_manifest_process_by_name() {
    let mut f = Options::keyed().start();
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("gracefulctl.toml");
    std::fs::write(
        &manifest,
        format!(
            "[[process]]\nname = \"svc\"\npattern = \"graceful-fixture-admin\"\nready = \"http://{}/health/ready\"\n",
            f.addr
        ),
    )
    .expect("manifest");
    let (mut watch, mut out, mut seen) = start_watch(&[
        "svc",
        "--api-key",
        READ_KEY,
        "--config",
        manifest.to_str().expect("utf-8 path"),
    ]);
    f.sigterm();
    out.read_to_string(&mut seen).expect("read gracefulctl");
    assert!(common::wait_child(&mut watch).success(), "{seen}");
    assert!(seen.contains("\nCOMPLETED in "), "{seen}");
    assert!(f.wait().success());
}

#[test]
fn gracefulctl_watch_without_a_key_says_which_key_it_needs() {
    let f = Options::keyed().start();
    let out = Command::new(build_gracefulctl())
        .args(["watch", &format!("http://{}", f.addr)])
        .env_remove("GRACEFUL_ADMIN_API_KEY")
        .output()
        .expect("run gracefulctl watch");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("/events answered 401"), "{err}");
    assert!(
        err.contains("--api-key or set GRACEFUL_ADMIN_API_KEY"),
        "{err}"
    );
}
