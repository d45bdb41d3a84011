//! `gracefulctl watch NAME|URL`: follow a running service's shutdown through its admin API's
//! `GET /events` (Server-Sent Events) and draw it as it happens.
//!
//! The phase events carry the time since the trigger and what is left of the overall timeout
//! (and of the phase's own bound), and each priority class of `closing_resources` announces
//! its own deadline (`close_class`), so the view is on the service's clock, and the current
//! deadline is counted down between events on ours. After the final phase (`completed` or `forced`) the view is drawn once
//! more, then the command waits for the process to exit and says so.
//!
//! The stream is plain HTTP/1.1 read by a thread that hands each event to the drawing loop;
//! a body in chunked transfer coding (how hyper sends a stream of unknown length) is decoded
//! here, as `ready`'s probe reads its status line: a dependency on an HTTP client for one
//! streaming GET is not worth its build.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use shutdown_core::timeline::{Timeline, text};

use super::Style;
use crate::manifest::{Manifest, Ready};

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How often a live view is redrawn between events.
const REDRAW: Duration = Duration::from_millis(250);

/// Where a service's admin API answers: `host:port` and the routes' prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `host:port`.
    pub addr: String,
    /// The admin routes' prefix (`""`, or `/api/v1/daemon`).
    pub prefix: String,
}

impl Endpoint {
    /// `target` as an admin URL (`http://127.0.0.1:9090`, with a prefix, or ending in
    /// `/events`), or as a process of `manifest` whose `ready` check is an admin URL
    /// (`http://127.0.0.1:9090/health/ready`).
    ///
    /// # Errors
    /// The URL is invalid, the manifest cannot be read, the process is unknown or has no
    /// `http://` readiness check.
    pub fn resolve(target: &str, manifest: &Path) -> Result<Endpoint> {
        if target.contains("://") {
            return Endpoint::from_url(target);
        }
        let manifest = Manifest::load(manifest)?;
        let process = manifest
            .processes
            .iter()
            .find(|p| p.name == target)
            .with_context(|| {
                let names: Vec<&str> = manifest.processes.iter().map(|p| p.name.as_str()).collect();
                format!(
                    "no process `{target}` in {} (it has: {}); or pass the admin URL, e.g. \
                     `gracefulctl watch http://127.0.0.1:9090`",
                    manifest.path.display(),
                    names.join(", ")
                )
            })?;
        match &process.ready {
            Ready::Http(url) => Endpoint::from_url(url),
            other => bail!(
                "process `{target}` is checked with `ready = \"{other}\"`, which names no admin \
                 API; give it `ready = \"http://HOST:PORT/health/ready\"` (the admin API's \
                 readiness route) or pass the admin URL, e.g. `gracefulctl watch \
                 http://127.0.0.1:9090`"
            ),
        }
    }

    /// The endpoint of an `http://` URL: the path, without a trailing `/events` or health
    /// route, is the prefix.
    ///
    /// # Errors
    /// The URL is not `http://HOST[:PORT][/PATH]`.
    pub fn from_url(url: &str) -> Result<Endpoint> {
        let (addr, path) = crate::http_url::parse_http_url(url).map_err(anyhow::Error::msg)?;
        let path = path.trim_end_matches('/');
        let prefix = ["/events", "/health/ready", "/health/live", "/health"]
            .iter()
            .find_map(|route| path.strip_suffix(route))
            .unwrap_or(path);
        Ok(Endpoint {
            addr,
            prefix: prefix.to_string(),
        })
    }
}

/// What [`watch`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    /// `completed`, `forced`, or `None` when the stream ended before the final phase.
    pub result: Option<String>,
}

/// Follows the shutdown of the service at `endpoint`, drawing to `out`, until its final phase
/// and the process's exit.
///
/// # Errors
/// The admin API cannot be reached or refuses the stream (a missing or wrong key is named).
pub fn watch(
    endpoint: &Endpoint,
    api_key: Option<&str>,
    style: Style,
    out: &mut impl Write,
) -> Result<Watched> {
    // The pid, to see the process exit (read-scope key, as the events).
    let pid = get_json(endpoint, "/process", api_key)
        .ok()
        .and_then(|v| v["data"]["pid"].as_u64());
    let events = subscribe(endpoint, api_key)?;
    let mut live = Live::default();
    let mut last_draw = Instant::now();
    writeln!(
        out,
        "watching http://{}{}/events{}",
        endpoint.addr,
        endpoint.prefix,
        pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )?;
    loop {
        match events.recv_timeout(REDRAW) {
            Ok(Ok((name, data))) => {
                if let Some(line) = live.apply(&name, &data)
                    && !style.live
                {
                    writeln!(out, "{line}")?;
                }
                if live.finished() {
                    break;
                }
            }
            Ok(Err(e)) => bail!("the event stream of {} failed: {e}", endpoint.addr),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if style.live && (last_draw.elapsed() >= REDRAW || live.changed) {
            write!(out, "\x1b[H\x1b[2J{}", live.view(style))?;
            out.flush()?;
            last_draw = Instant::now();
            live.changed = false;
        }
    }
    if style.live {
        write!(out, "\x1b[H\x1b[2J")?;
    }
    if live.started() {
        write!(out, "{}", live.view(style))?;
    } else {
        writeln!(out, "the event stream ended before the shutdown started")?;
    }
    if !live.finished() {
        writeln!(
            out,
            "the event stream ended before the final phase (the process may have been killed)"
        )?;
    }
    out.flush()?;
    writeln!(out, "{}", wait_for_exit(endpoint, pid))?;
    Ok(Watched {
        result: live.finished().then(|| live.phase.clone()),
    })
}

/// The shutdown so far, as a report's JSON, and the clocks to extend it to now.
#[derive(Default)]
struct Live {
    phases: Vec<Value>,
    resources: Vec<Value>,
    deadlines: Vec<Value>,
    /// The final phase's `elapsed`.
    total: Option<f64>,
    phase: String,
    /// The service's `elapsed` at the last event that carried it, and when we saw it.
    at: Option<(f64, Instant)>,
    /// What was left of the overall timeout at the service's `elapsed`.
    remaining: Option<(f64, f64)>,
    /// The current deadline: what it bounds, its length, and the service's `elapsed` when it
    /// was set.
    limit: Option<(String, f64, f64)>,
    changed: bool,
}

impl Live {
    fn started(&self) -> bool {
        self.at.is_some()
    }

    fn finished(&self) -> bool {
        self.phase == "completed" || self.phase == "forced"
    }

    /// Seconds since the trigger, on the service's clock extended by ours.
    fn now(&self) -> f64 {
        self.at
            .map_or(0.0, |(e, seen)| e + seen.elapsed().as_secs_f64())
    }

    /// Takes one event; returns the line a plain log shows for it.
    fn apply(&mut self, name: &str, data: &Value) -> Option<String> {
        self.changed = true;
        match name {
            "phase" => {
                let phase = data["phase"].as_str().unwrap_or("").to_string();
                if phase == "running" {
                    self.phase = phase;
                    return Some("running: waiting for the shutdown to start".into());
                }
                let elapsed = data["elapsed"].as_f64().unwrap_or_else(|| self.now());
                self.at = Some((elapsed, Instant::now()));
                self.remaining = data["remaining"].as_f64().map(|r| (r, elapsed));
                self.limit = data["limit"]["what"].as_str().map(|w| {
                    (
                        w.to_string(),
                        data["limit"]["seconds"].as_f64().unwrap_or(0.0),
                        elapsed,
                    )
                });
                if let Some(last) = self.phases.last_mut() {
                    let started = last["started"].as_f64().unwrap_or(0.0);
                    last["duration"] = json!((elapsed - started).max(0.0));
                }
                self.phase = phase.clone();
                if self.finished() {
                    self.total = Some(elapsed);
                } else {
                    self.phases.push(json!({
                        "phase": phase, "started": elapsed, "duration": 0.0,
                    }));
                }
                let bound = match &self.limit {
                    Some((what, secs, _)) => format!("; {what} {}", human(*secs)),
                    None => String::new(),
                };
                let left = self
                    .remaining
                    .map(|(r, _)| format!("; {} left of timeout", human(r)))
                    .unwrap_or_default();
                Some(format!("+{}  phase {phase}{bound}{left}", human(elapsed)))
            }
            "close_class" => {
                let elapsed = data["elapsed"].as_f64().unwrap_or_else(|| self.now());
                self.at = Some((elapsed, Instant::now()));
                let priority = data["priority"].as_i64().unwrap_or(0);
                let seconds = data["seconds"].as_f64().unwrap_or(0.0);
                let what = format!("close priority {priority}");
                let line = format!(
                    "+{}  {what}: {} close(s), deadline {}",
                    human(elapsed),
                    data["resources"].as_u64().unwrap_or(0),
                    human(seconds)
                );
                self.limit = Some((what, seconds, elapsed));
                Some(line)
            }
            "resource_closed" => {
                let now = self.now();
                let seconds = data["seconds"].as_f64().unwrap_or(0.0);
                let name = data["name"].as_str().unwrap_or("?").to_string();
                let outcome = data["outcome"].clone();
                let status = outcome["status"].as_str().unwrap_or("?").replace('_', " ");
                let priority = data["priority"].as_i64().unwrap_or(0);
                self.resources.push(json!({
                    "name": name, "priority": priority, "outcome": outcome,
                    "started": (now - seconds).max(0.0), "finished": now,
                }));
                Some(format!(
                    "+{}  resource {name} (priority {priority}) {status} in {}",
                    human(now),
                    human(seconds)
                ))
            }
            "deadline" => {
                let what = data["what"].as_str().unwrap_or("?").to_string();
                let phase = self.phase.clone();
                if let Some(last) = self.phases.last_mut() {
                    last["within_deadline"] = json!(false);
                }
                self.deadlines.push(json!({ "phase": phase, "what": what }));
                Some(format!("+{}  DEADLINE missed: {what}", human(self.now())))
            }
            "lagged" => Some(format!(
                "(missed {} events: the view may lack some closes)",
                data["missed"]
            )),
            _ => None,
        }
    }

    /// The view now: the timeline with the running phase extended to now, and the deadline
    /// counting down.
    fn view(&self, style: Style) -> String {
        let now = self.now();
        let mut phases = self.phases.clone();
        if !self.finished()
            && let Some(last) = phases.last_mut()
        {
            let started = last["started"].as_f64().unwrap_or(0.0);
            last["duration"] = json!((now - started).max(0.0));
        }
        let report = json!({
            "result": if self.finished() { self.phase.as_str() } else { "" },
            "total": self.total.unwrap_or(now),
            "phases": phases,
            "resources": self.resources,
            "deadlines": self.deadlines,
        });
        let timeline = Timeline::from_value(report);
        let mut out = match timeline {
            Ok(t) => text::render(&t, style.text()),
            Err(e) => format!("cannot draw: {e}\n"),
        };
        if !self.finished() {
            out.push_str(&format!("now: {}", self.phase));
            if let Some((what, secs, set)) = &self.limit {
                out.push_str(&format!(
                    " · {what}: {} left",
                    human((secs - (now - set)).max(0.0))
                ));
            }
            if let Some((r, at)) = self.remaining {
                out.push_str(&format!(
                    " · timeout: {} left",
                    human((r - (now - at)).max(0.0))
                ));
            }
            out.push('\n');
        }
        out
    }
}

/// Seconds as people read them (the engine's form).
fn human(secs: f64) -> String {
    shutdown_core::report::readable(Duration::try_from_secs_f64(secs).unwrap_or_default())
}

type Event = std::io::Result<(String, Value)>;

/// Opens `GET {prefix}/events` and starts the thread that reads it.
fn subscribe(endpoint: &Endpoint, api_key: Option<&str>) -> Result<mpsc::Receiver<Event>> {
    let path = format!("{}/events", endpoint.prefix);
    let (status, headers, reader) = request(endpoint, &path, api_key, "text/event-stream")?;
    if status != 200 {
        let mut body = String::new();
        let _ = reader.take(4096).read_to_string(&mut body);
        bail!("{}", refusal(endpoint, &path, status, &body, api_key));
    }
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sse = Sse::default();
        let result = if chunked {
            read_chunked(reader, |bytes| sse.feed(bytes, &tx))
        } else {
            read_plain(reader, |bytes| sse.feed(bytes, &tx))
        };
        if let Err(e) = result {
            let _ = tx.send(Err(e));
        }
    });
    Ok(rx)
}

/// Why the admin API refused: the status, its message, and what to do about a key.
fn refusal(endpoint: &Endpoint, path: &str, status: u16, body: &str, key: Option<&str>) -> String {
    let message = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| body.trim().chars().take(200).collect());
    let hint = match (status, key) {
        (401 | 403, None) => {
            "; the event stream needs an API key with the `read` scope: pass --api-key or set \
             GRACEFUL_ADMIN_API_KEY"
        }
        (401 | 403, Some(_)) => "; check the API key (it needs the `read` scope)",
        (404, _) => "; is the admin API served under another prefix? pass its URL",
        _ => "",
    };
    format!(
        "http://{}{path} answered {status}: {message}{hint}",
        endpoint.addr
    )
}

/// A response's status, its headers (names as sent, values lowercased) and the body's reader.
type Response = (u16, Vec<(String, String)>, BufReader<TcpStream>);

/// Sends one GET and reads the response head.
fn request(
    endpoint: &Endpoint,
    path: &str,
    api_key: Option<&str>,
    accept: &str,
) -> Result<Response> {
    let addrs: Vec<_> = endpoint
        .addr
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {}", endpoint.addr))?
        .collect();
    let mut stream = None;
    let mut last = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, CONNECT_TIMEOUT) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let Some(mut stream) = stream else {
        bail!(
            "cannot connect to the admin API at {}: {}",
            endpoint.addr,
            last.map_or_else(|| "no address".to_string(), |e| e.to_string())
        );
    };
    let host = endpoint
        .addr
        .rsplit_once(':')
        .map_or(endpoint.addr.as_str(), |(h, _)| h);
    let auth = api_key
        .map(|k| format!("X-API-Key: {k}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: {accept}\r\n{auth}User-Agent: gracefulctl\r\n\r\n"
    )
    .with_context(|| format!("cannot send the request to {}", endpoint.addr))?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .with_context(|| {
            format!(
                "{} did not answer HTTP (first line: {:?})",
                endpoint.addr,
                line.trim()
            )
        })?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_ascii_lowercase()));
        }
    }
    Ok((status, headers, reader))
}

/// A small GET answered with a JSON body (`Connection: close`, so the body ends at EOF).
fn get_json(endpoint: &Endpoint, route: &str, api_key: Option<&str>) -> Result<Value> {
    let path = format!("{}{route}", endpoint.prefix);
    let (status, headers, reader) = request(endpoint, &path, api_key, "application/json")?;
    let mut body = Vec::new();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<u64>().ok());
    if chunked {
        read_chunked(reader, |b| {
            body.extend_from_slice(b);
            true
        })?;
    } else {
        reader
            .take(length.unwrap_or(1 << 20))
            .read_to_end(&mut body)?;
    }
    if status != 200 {
        bail!("{path} answered {status}");
    }
    Ok(serde_json::from_slice(&body)?)
}

/// Reads a body in chunked transfer coding, handing each chunk to `feed` until it returns
/// `false` or the last chunk arrives.
fn read_chunked(
    mut reader: BufReader<TcpStream>,
    mut feed: impl FnMut(&[u8]) -> bool,
) -> std::io::Result<()> {
    let mut line = String::new();
    let mut chunk = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let size = line.trim().split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("bad chunk size {size:?}"),
            )
        })?;
        if size == 0 {
            return Ok(());
        }
        chunk.resize(size, 0);
        reader.read_exact(&mut chunk)?;
        line.clear();
        reader.read_line(&mut line)?;
        if !feed(&chunk) {
            return Ok(());
        }
    }
}

/// Reads a body delimited by the connection's end.
fn read_plain(
    mut reader: BufReader<TcpStream>,
    mut feed: impl FnMut(&[u8]) -> bool,
) -> std::io::Result<()> {
    let mut buf = [0u8; 4096];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 || !feed(&buf[..n]) {
            return Ok(());
        }
    }
}

/// The Server-Sent Events parser: `event:` and `data:` lines, dispatched at a blank line.
#[derive(Default)]
struct Sse {
    pending: Vec<u8>,
    event: String,
    data: String,
}

impl Sse {
    /// Takes bytes; sends each complete event. `false` once the receiver is gone.
    fn feed(&mut self, bytes: &[u8], tx: &mpsc::Sender<Event>) -> bool {
        self.pending.extend_from_slice(bytes);
        while let Some(i) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=i).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if !self.data.is_empty() {
                    let data = serde_json::from_str(&self.data).unwrap_or(Value::Null);
                    let name = if self.event.is_empty() {
                        "message".to_string()
                    } else {
                        std::mem::take(&mut self.event)
                    };
                    if tx.send(Ok((name, data))).is_err() {
                        return false;
                    }
                }
                self.event.clear();
                self.data.clear();
            } else if let Some(v) = line.strip_prefix("event:") {
                self.event = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                if !self.data.is_empty() {
                    self.data.push('\n');
                }
                self.data.push_str(v.trim_start());
            }
            // `id:`, `retry:` and `:` comments (keep-alives) carry nothing to draw.
        }
        true
    }
}

/// Waits until the process has exited (or, without its pid, until the admin API stops
/// accepting connections) and says so. Bounded only as a hang guard.
fn wait_for_exit(endpoint: &Endpoint, pid: Option<u64>) -> String {
    const GUARD: Duration = Duration::from_secs(120);
    let began = Instant::now();
    while began.elapsed() < GUARD {
        let gone = match pid {
            Some(pid) => !alive(pid),
            None => TcpStream::connect(&endpoint.addr).is_err(),
        };
        if gone {
            return match pid {
                Some(pid) => format!(
                    "process {pid} exited ({} after the final phase)",
                    human(began.elapsed().as_secs_f64())
                ),
                None => format!(
                    "the admin API at {} stopped answering: the process exited",
                    endpoint.addr
                ),
            };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    match pid {
        Some(pid) => format!(
            "process {pid} is still running {} after the final phase",
            human(GUARD.as_secs_f64())
        ),
        None => format!("the admin API at {} still answers", endpoint.addr),
    }
}

/// `true` while `/proc/PID` exists and is not a zombie (an exited child not yet reaped).
fn alive(pid: u64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses, which may hold spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_prefixes() {
        let e = Endpoint::from_url("http://127.0.0.1:9090").unwrap();
        assert_eq!((e.addr.as_str(), e.prefix.as_str()), ("127.0.0.1:9090", ""));
        let e = Endpoint::from_url("http://127.0.0.1:9090/api/v1/daemon/health/ready").unwrap();
        assert_eq!(e.prefix, "/api/v1/daemon");
        let e = Endpoint::from_url("http://localhost:1/x/events").unwrap();
        assert_eq!(e.prefix, "/x");
        assert!(Endpoint::from_url("https://x").is_err());
    }

    #[test]
    fn a_shutdown_followed_event_by_event_draws_the_final_view() {
        let mut live = Live::default();
        let phase = |p: &str, e: f64| json!({"phase": p, "elapsed": e, "remaining": 30.0 - e});
        live.apply("phase", &json!({"phase": "running"}));
        live.apply("phase", &phase("initiated", 0.0));
        live.apply(
            "phase",
            &json!({"phase": "draining_connections", "elapsed": 0.001, "remaining": 29.9,
                    "limit": {"what": "drain_timeout", "seconds": 10.0}}),
        );
        let style = Style {
            colour: false,
            live: false,
            width: 80,
        };
        assert!(
            live.view(style).contains("drain_timeout: "),
            "{}",
            live.view(style)
        );
        live.apply("phase", &phase("closing_resources", 0.5));
        let line = live
            .apply(
                "resource_closed",
                &json!({"name": "db", "priority": 100, "outcome": {"status": "closed"}, "seconds": 0.2}),
            )
            .unwrap();
        assert!(
            line.contains("resource db (priority 100) closed in 200ms"),
            "{line}"
        );
        live.apply("phase", &phase("completed", 0.75));
        assert!(live.finished());
        let view = live.view(style);
        assert!(view.starts_with("COMPLETED in 750ms"), "{view}");
        assert!(view.contains("  p100 db"), "{view}");
        assert!(!view.contains("now: "), "{view}");
    }

    /// Seconds of a duration as the view writes it (`4.99s`, `750ms`, `12µs`).
    fn seconds(text: &str) -> f64 {
        let (number, scale) = [("µs", 1e-6), ("ms", 1e-3), ("s", 1.0)]
            .iter()
            .find_map(|(unit, scale)| text.strip_suffix(unit).map(|n| (n, *scale)))
            .unwrap_or_else(|| panic!("not a duration: {text}"));
        number.parse::<f64>().expect("a number") * scale
    }

    /// The time left that the view's last line gives `what`.
    fn left(view: &str, what: &str) -> f64 {
        let line = view.lines().last().unwrap_or_default();
        let after = line
            .split_once(&format!("{what}: "))
            .unwrap_or_else(|| panic!("no `{what}` in {line:?}"))
            .1;
        seconds(after.split(" left").next().unwrap_or_default())
    }

    #[test]
    fn each_close_class_counts_its_own_deadline_down() {
        let style = Style {
            colour: false,
            live: false,
            width: 80,
        };
        let mut live = Live::default();
        live.apply(
            "phase",
            &json!({"phase": "closing_resources", "elapsed": 0.5, "remaining": 29.5,
                    "limit": {"what": "resource_close_timeout", "seconds": 5.0}}),
        );
        let line = live
            .apply(
                "close_class",
                &json!({"priority": 50, "resources": 2, "seconds": 4.0, "elapsed": 1.0}),
            )
            .unwrap();
        assert!(
            line.contains("close priority 50: 2 close(s), deadline 4s"),
            "{line}"
        );
        let first = live.view(style);
        assert!(!first.contains("resource_close_timeout: "), "{first}");
        // The same view, drawn two seconds later on our clock.
        let (elapsed, seen) = live.at.expect("on the service's clock");
        live.at = Some((elapsed, seen - Duration::from_secs(2)));
        let later = live.view(style);
        assert!(
            left(&later, "close priority 50") < left(&first, "close priority 50"),
            "{first}{later}"
        );
        assert!(
            left(&later, "timeout") < left(&first, "timeout"),
            "{first}{later}"
        );
        // The next class brings its own deadline.
        live.apply(
            "close_class",
            &json!({"priority": 100, "resources": 1, "seconds": 5.0, "elapsed": 3.5}),
        );
        let next = live.view(style);
        assert!(left(&next, "close priority 100") > 4.0, "{next}");
        assert!(!next.contains("close priority 50: "), "{next}");
    }

    #[test]
    fn sse_events_are_split_at_blank_lines_across_reads() {
        let (tx, rx) = mpsc::channel();
        let mut sse = Sse::default();
        assert!(sse.feed(b": keep-alive\n\nevent: phase\nid: 1\nda", &tx));
        assert!(rx.try_recv().is_err());
        assert!(sse.feed(b"ta: {\"phase\":\"initiated\"}\n\n", &tx));
        let (name, data) = rx.try_recv().unwrap().unwrap();
        assert_eq!(name, "phase");
        assert_eq!(data["phase"], "initiated");
    }
}
