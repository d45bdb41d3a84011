//! In-place upgrades: a new binary replaces the old one on disk, the running service starts it
//! with its listeners, and nobody is refused. Real processes, real signals, real sockets on
//! 127.0.0.1; the load runs for the whole test.
//!
//! The service alternates between two builds: `v1` (the builder, `Graceful::run` on its own
//! runtime) and `v2` (`#[graceful::main]`), so every upgrade crosses the two doors.

#[path = "../common/mod.rs"]
mod common;

mod client;
mod failures;
mod notify;
mod service;
mod systemd;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(crate) use client::*;
use common::{HANG_GUARD, Proc};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
pub(crate) use notify::NotifySocket;
pub(crate) use service::*;

pub(crate) const V1: &str = env!("CARGO_BIN_EXE_graceful-fixture-upgrade-v1");
pub(crate) const V2: &str = env!("CARGO_BIN_EXE_graceful-fixture-upgrade-v2");
pub(crate) const BROKEN: &str = env!("CARGO_BIN_EXE_graceful-fixture-upgrade-broken");
pub(crate) const KEY: &str = "upgrade-test-key";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

#[test]
#[ignore = "load test (about a minute): 20 upgrades under load; .ci/run runs it"]
fn twenty_upgrades_under_load_lose_nothing() {
    let mut service = Service::start(&[]);
    let port = service.addr.port();
    let inode = listening_inode(port).expect("the listening socket");
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut threads = load(service.addr, stop.clone(), seen.clone());
    threads.push(probe(service.admin, stop.clone(), seen.clone()));
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
            upgrade_by_signal(&mut service.proc, pid)
        };
        assert_ne!(new_pid, pid);
        assert_eq!(
            successor_of(&mut service.proc, pid),
            new_pid,
            "the old process stops with reason `upgrade → pid {new_pid}`"
        );
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
    // A probe of the shared admin listener never sees an upgrade: each one, inside the upgrade
    // windows or not, got 200 from whichever process answered.
    let probes_in_windows = seen
        .probes
        .iter()
        .filter(|(at, _)| windows.iter().any(|(a, b)| at >= a && at <= b))
        .count();
    let failed_probes: Vec<_> = seen
        .probes
        .iter()
        .filter(|(_, status)| *status != 200)
        .map(|(at, status)| {
            let window = windows.iter().position(|(a, b)| at >= a && at <= b);
            format!("status {status} (0: no answer), upgrade window {window:?}")
        })
        .collect();
    assert!(
        failed_probes.is_empty(),
        "{} of {} readiness probes failed ({probes_in_windows} inside upgrade windows): {:#?}",
        failed_probes.len(),
        seen.probes.len(),
        &failed_probes[..failed_probes.len().min(20)]
    );
    assert!(probes_in_windows > 0, "no probe landed inside an upgrade");
    // No client retries: every refused, reset or non-2xx request is a failure of the upgrade.
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
    // Two generations answered at some moment (the old one drains while the new one serves):
    // the spans from each pid's first to its last answered request overlap.
    let spans: Vec<_> = per_pid.values().collect();
    let overlaps = spans
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
        "requests: {} (none retried), readiness probes: {} ({probes_in_windows} inside upgrade windows); latency steady p50 {:?} p99 {:?} max {:?} (n={}); during upgrades p50 {:?} p99 {:?} max {:?} (n={}); trigger → old exit p50 {:?} max {:?}",
        seen.results.len(),
        seen.probes.len(),
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

/// A successor that takes its time to start (2 s in one constructor) while a readiness probe
/// hits the shared admin listener every 10 ms: it accepts nothing there before it is ready, so
/// no probe lands on a process that is still starting, and none on the old one once it handed
/// over.
#[test]
fn probes_never_land_on_a_successor_that_is_still_starting() {
    let mut service = Service::start(&[("UPGRADE_SLOW_START", "2000")]);
    service.wait_pid_file(service.pid);
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let prober = probe(service.admin, stop.clone(), seen.clone());
    install(V1, &service.svc());
    let began = Instant::now();
    let new_pid = upgrade_by_signal(&mut service.proc, service.pid);
    assert_eq!(reap(service.pid), 0, "the old process exits 0");
    service.wait_pid_file(new_pid);
    let ended = Instant::now();
    // A few more probes, answered by the successor alone.
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    prober.join().expect("probe thread");
    let seen = seen.lock().expect("lock");
    let during = seen
        .probes
        .iter()
        .filter(|(at, _)| *at >= began && *at <= ended)
        .count();
    let failed: Vec<u16> = seen
        .probes
        .iter()
        .map(|(_, status)| *status)
        .filter(|status| *status != 200)
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} probes failed ({during} during the upgrade); statuses (0: no answer): {:?}",
        failed.len(),
        seen.probes.len(),
        &failed[..failed.len().min(20)]
    );
    assert!(during > 0, "no probe during the upgrade");
}

/// A keep-alive connection to the admin listener that the old process accepted before the
/// hand-over: its next readiness probe is answered as the successor would (200, with the
/// successor's pid) and with `Connection: close`, and the next connection reaches the successor.
/// A request held on the service port keeps the old process draining meanwhile.
#[test]
fn an_admin_connection_of_the_old_process_answers_ready_and_closes_after_the_hand_over() {
    let dir = common::temp_dir();
    let hold = dir.path().join("hold");
    let mut service = Service::start(&[
        ("GRACEFUL_ADMIN_HEADER_TIMEOUT", "60s"),
        ("UPGRADE_HOLD_FILE", hold.to_str().expect("utf-8")),
    ]);
    service.wait_pid_file(service.pid);
    let old = service.pid;
    let mut admin = connect(service.admin).expect("admin");
    let (first, closes) = exchange_on(&mut admin, "/health/ready", false);
    assert!(matches!(first, Outcome::Answered(200, _)), "{first:?}");
    assert!(!closes, "before the upgrade the connection is kept alive");
    let addr = service.addr;
    let held = std::thread::spawn(move || {
        let mut s = connect(addr).expect("service");
        exchange(&mut s, "/hold", true)
    });
    // Wait until the old process counts the held request in flight.
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        let mut s = connect(service.admin).expect("admin");
        let req = format!(
            "GET /status HTTP/1.1\r\nHost: t\r\nX-API-Key: {KEY}\r\nConnection: close\r\n\r\n"
        );
        if let Outcome::Answered(200, body) = exchange_raw(&mut s, &req) {
            let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
            if v["data"]["in_flight"].as_u64().unwrap_or(0) > 0 {
                break;
            }
        }
        assert!(Instant::now() < deadline, "the held request never arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    install(V2, &service.svc());
    let new_pid = upgrade_by_signal(&mut service.proc, old);
    assert!(
        alive(old),
        "the held request keeps the old process draining"
    );

    let (after, closes) = exchange_on(&mut admin, "/health/ready", false);
    match &after {
        Outcome::Answered(200, body) => {
            let v: serde_json::Value = serde_json::from_str(body).expect("JSON");
            assert_eq!(
                v["data"]["handed_over_to"].as_i64(),
                Some(i64::from(new_pid)),
                "answered as the successor would: {body}"
            );
        }
        other => panic!("the old process's admin connection after the hand-over: {other:?}"),
    }
    assert!(closes, "answered with Connection: close");
    // A new connection reaches the successor.
    let mut s = connect(service.admin).expect("admin");
    let req =
        format!("GET /status HTTP/1.1\r\nHost: t\r\nX-API-Key: {KEY}\r\nConnection: close\r\n\r\n");
    match exchange_raw(&mut s, &req) {
        Outcome::Answered(200, body) => {
            let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
            assert_eq!(
                v["data"]["pid"].as_i64(),
                Some(i64::from(new_pid)),
                "{body}"
            );
        }
        other => panic!("GET /status after the hand-over: {other:?}"),
    }
    std::fs::write(&hold, b"").expect("let the held request go");
    match held.join().expect("held request") {
        Outcome::Answered(200, body) => assert!(body.starts_with(&format!("v1 {old} held"))),
        other => panic!("the held request: {other:?}"),
    }
    assert_eq!(reap(old), 0, "the old process exits 0");
}
