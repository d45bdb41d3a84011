//! A rolling restart behind a real load balancer loses no request.
//!
//! HAProxy on 127.0.0.1 balances three fixture instances and health-checks
//! `/health/ready`. Load runs while each instance in turn gets SIGTERM, drains, exits 0 and
//! is started again on its port. Zero failed requests, twice:
//! - HAProxy in `mode http` with a load generator of keep-alive and new connections;
//! - HAProxy in `mode tcp`, which forwards connections as a Kubernetes Service does and
//!   cannot retry a request, with clients that never retry either (`common_http::noretry`,
//!   HTTP/1.1 and h2c).
//!
//! Needs the `haproxy` binary: `.ci/run` installs it.
//!
//! Run: `cargo test -p graceful-tests-integration --features axum --test rolling_restart -- --ignored`

mod common_http;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use common_http::*;

/// Upper bound on the requests the load generator sends.
const MAX_REQUESTS: u64 = 60_000;
/// Workers on keep-alive connections, and workers opening a connection per request.
const KEEP_ALIVE_WORKERS: usize = 8;
const NEW_CONN_WORKERS: usize = 4;

struct Haproxy {
    child: Child,
    socket: std::path::PathBuf,
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Haproxy {
    /// `mode` is `http` or `tcp`.
    fn start(dir: &Path, port: u16, backends: &[u16], mode: &str) -> Haproxy {
        let socket = dir.join("admin.sock");
        let mut servers = String::new();
        for (i, p) in backends.iter().enumerate() {
            servers.push_str(&format!("    server s{i} 127.0.0.1:{p} check\n"));
        }
        // The recipe of docs/http.md: health checks every 100 ms, one failed check takes the
        // instance out; the instances' readiness_delay (1 s) is many check intervals. No retry
        // of any kind (`retries 0`, no `redispatch`, no `retry-on`): a connect HAProxy makes
        // to an instance that refuses it reaches the client as a failure, as it would through
        // a balancer that cannot retry, so the instances alone must lose nothing.
        let config = format!(
            "global\n\
             \x20   maxconn 4096\n\
             \x20   stats socket {sock} mode 600 level admin\n\
             defaults\n\
             \x20   mode {mode}\n\
             \x20   timeout connect 2s\n\
             \x20   timeout client 30s\n\
             \x20   timeout server 30s\n\
             \x20   retries 0\n\
             frontend fe\n\
             \x20   bind 127.0.0.1:{port}\n\
             \x20   default_backend be\n\
             backend be\n\
             \x20   balance roundrobin\n\
             \x20   option httpchk GET /health/ready\n\
             \x20   http-check expect status 200\n\
             \x20   default-server inter 100ms fastinter 100ms downinter 100ms fall 1 rise 1\n\
             {servers}",
            sock = socket.display()
        );
        let cfg = dir.join("haproxy.cfg");
        std::fs::write(&cfg, config).expect("write haproxy.cfg");
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start haproxy (apt-get install -y haproxy)");
        Haproxy { child, socket }
    }

    /// Server name → status (`UP`, `DOWN`, …), from the stats socket.
    fn statuses(&self) -> Vec<(String, String)> {
        let Ok(mut s) = UnixStream::connect(&self.socket) else {
            return Vec::new();
        };
        if s.write_all(b"show stat\n").is_err() {
            return Vec::new();
        }
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        let mut lines = out.lines();
        let Some(header) = lines.next() else {
            return Vec::new();
        };
        let cols: Vec<&str> = header.trim_start_matches("# ").split(',').collect();
        let (Some(px), Some(sv), Some(st)) = (
            cols.iter().position(|c| *c == "pxname"),
            cols.iter().position(|c| *c == "svname"),
            cols.iter().position(|c| *c == "status"),
        ) else {
            return Vec::new();
        };
        lines
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|f| f.len() > st && f[px] == "be" && f[sv].starts_with('s'))
            .map(|f| (f[sv].to_string(), f[st].to_string()))
            .collect()
    }

    fn all_up(&self, n: usize) -> bool {
        let s = self.statuses();
        s.len() == n && s.iter().all(|(_, st)| st == "UP")
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn instance(port: u16, id: usize) -> Fixture {
    Fixture::start(&[
        &format!("port={port}"),
        &format!("id=s{id}"),
        "readiness_delay=1s",
        "drain=10s",
        "timeout=20s",
    ])
}

#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    failed: AtomicU64,
    sent: AtomicU64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs haproxy: apt-get install haproxy (.ci/run installs it)"]
async fn rolling_restart_behind_haproxy_loses_no_request() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut instances: Vec<Option<Fixture>> = (0..3).map(|i| Some(instance(0, i))).collect();
    let ports: Vec<u16> = instances.iter().flatten().map(|f| f.addr.port()).collect();
    let lb_port = free_port();
    let lb = Haproxy::start(dir.path(), lb_port, &ports, "http");
    let lb_addr: std::net::SocketAddr = ([127, 0, 0, 1], lb_port).into();
    eventually("haproxy sees three UP instances", || async { lb.all_up(3) }).await;
    eventually("haproxy answers", || async {
        get(lb_addr, "/hello").await.is_ok_and(|g| g.status == 200)
    })
    .await;

    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..KEEP_ALIVE_WORKERS + NEW_CONN_WORKERS {
        let counts = counts.clone();
        let stop = stop.clone();
        let keep_alive = w < KEEP_ALIVE_WORKERS;
        workers.push(tokio::spawn(async move {
            let mut conn: Option<H1> = None;
            let mut errors = Vec::new();
            while !stop.load(Ordering::Relaxed)
                && counts.sent.fetch_add(1, Ordering::Relaxed) < MAX_REQUESTS
            {
                let path = if w % 3 == 0 { "/slow?ms=20" } else { "/hello" };
                let result = if keep_alive {
                    if conn.as_ref().is_none_or(|c| c.sender.is_closed()) {
                        conn = h1(lb_addr).await.ok();
                    }
                    match conn.as_mut() {
                        Some(c) => c.get(path).await.map_err(|e| e.to_string()),
                        None => Err("connect to haproxy failed".into()),
                    }
                } else {
                    get(lb_addr, path).await
                };
                match result {
                    Ok(g) if g.status == 200 => {
                        counts.ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(g) => {
                        counts.failed.fetch_add(1, Ordering::Relaxed);
                        errors.push(format!(
                            "status {} {:?}",
                            g.status,
                            String::from_utf8_lossy(&g.body)
                        ));
                    }
                    Err(e) => {
                        counts.failed.fetch_add(1, Ordering::Relaxed);
                        errors.push(e);
                        conn = None;
                    }
                }
            }
            errors
        }));
    }

    let ok = || counts.ok.load(Ordering::Relaxed);
    restart_each(&mut instances, &ports, &lb, ok).await;
    stop.store(true, Ordering::Relaxed);
    let mut errors = Vec::new();
    for w in workers {
        errors.extend(w.await.expect("worker"));
    }
    let ok = counts.ok.load(Ordering::Relaxed);
    let failed = counts.failed.load(Ordering::Relaxed);
    eprintln!("rolling restart: {ok} requests succeeded, {failed} failed");
    assert!(ok >= 2000, "thousands of requests: {ok}");
    assert_eq!(
        failed,
        0,
        "failed requests: {:?}",
        &errors[..errors.len().min(20)]
    );
}

/// Restarts each instance in turn (SIGTERM, exit 0 with a completed report, the same port
/// again, HAProxy sees it UP), letting `progress` grow by 500 before each restart and after
/// the last.
async fn restart_each(
    instances: &mut [Option<Fixture>],
    ports: &[u16],
    lb: &Haproxy,
    progress: impl Fn() -> u64,
) {
    let flows = |before: u64| {
        let p = &progress;
        async move { eventually("traffic flows", || async { p() > before + 500 }).await }
    };
    for i in 0..instances.len() {
        flows(progress()).await;
        let old = instances[i].take().expect("running");
        old.term();
        let (status, report) = old.wait();
        assert_eq!(
            status.code(),
            Some(0),
            "instance {i} exited badly: {report}"
        );
        assert_eq!(report["result"], "completed", "{report}");
        instances[i] = Some(instance(ports[i], i));
        eventually("haproxy sees the restarted instance UP", || async {
            lb.all_up(instances.len())
        })
        .await;
    }
    flows(progress()).await;
}

/// Behind an L4 balancer (HAProxy `mode tcp`: it forwards connections and cannot retry a
/// request), clients that never retry (HTTP/1.1 keep-alive and h2c, one request at a time
/// per connection, never resent) see no failure across a rolling restart: during
/// `readiness_delay` the instance tells them to reconnect (`Connection: close`, GOAWAY), and
/// HAProxy sends the new connections elsewhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs haproxy: apt-get install haproxy (.ci/run installs it)"]
async fn rolling_restart_behind_l4_haproxy_loses_nothing_with_non_retrying_clients() {
    use common_http::noretry::{Load, Plan, Proto};

    let dir = tempfile::tempdir().expect("temp dir");
    let mut instances: Vec<Option<Fixture>> = (0..3).map(|i| Some(instance(0, i))).collect();
    let ports: Vec<u16> = instances.iter().flatten().map(|f| f.addr.port()).collect();
    let lb_port = free_port();
    let lb = Haproxy::start(dir.path(), lb_port, &ports, "tcp");
    let lb_addr: std::net::SocketAddr = ([127, 0, 0, 1], lb_port).into();
    eventually("haproxy sees three UP instances", || async { lb.all_up(3) }).await;
    eventually("haproxy answers", || async {
        get(lb_addr, "/hello").await.is_ok_and(|g| g.status == 200)
    })
    .await;

    let plan = |proto, connections, path| Plan {
        addr: lb_addr,
        proto,
        connections,
        path,
        pause: std::time::Duration::ZERO,
        stop_when_refused: false,
    };
    let loads = [
        Load::start(plan(Proto::Http1, 8, "/hello")),
        Load::start(plan(Proto::Http1, 4, "/slow?ms=20")),
        Load::start(plan(Proto::Http2, 4, "/hello")),
    ];
    let tallies: Vec<_> = loads.iter().map(|l| l.tally.clone()).collect();
    let answered = || tallies.iter().map(|t| t.get(&t.answered)).sum::<u64>();
    restart_each(&mut instances, &ports, &lb, answered).await;
    let mut failures = Vec::new();
    for (name, load) in ["http1 /hello", "http1 /slow", "h2c /hello"]
        .iter()
        .zip(loads)
    {
        let t = load.stop().await;
        eprintln!("rolling restart, HAProxy mode tcp, {name}: {}", t.summary());
        if t.get(&t.lost) + t.get(&t.dropped) + t.get(&t.refused) > 0 {
            failures.push(format!("{name}: {}; {:?}", t.summary(), t.errors()));
        }
    }
    let total = answered();
    assert!(total >= 2000, "thousands of requests: {total}");
    assert!(failures.is_empty(), "failed requests: {failures:#?}");
}
