//! HTTP benchmarks, same machine, same load generator, same run:
//!
//! 1. Throughput and p99 latency of a hello-world axum app served by
//!    `graceful::http::serve` + `TrackLayer` vs plain `axum::serve`, measured with `wrk`
//!    (Debian: `apt-get install -y wrk`) against the fixture program in both modes,
//!    alternating rounds.
//! 2. Time from the last in-flight response (as the client sees it) to process exit, after
//!    SIGTERM, vs `axum::serve(..).with_graceful_shutdown(..)`.
//!
//! Run: `cargo bench -p graceful-benches --bench http`
//! (`HTTP_BENCH_SECS` sets the length of each wrk round, default 3; `HTTP_BENCH_ROUNDS` the
//! number of paired rounds, default 10.)

#[path = "../../tests-integration/tests/common_http/mod.rs"]
mod common_http;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use common_http::Fixture;

#[derive(Debug, Clone, Copy)]
struct Wrk {
    rps: f64,
    p99_ms: f64,
}

fn wrk(addr: SocketAddr, secs: u64) -> Wrk {
    let out = Command::new("wrk")
        .args(["-t1", "-c64", &format!("-d{secs}s"), "--latency"])
        .arg(format!("http://{addr}/hello"))
        .output()
        .expect("run wrk (apt-get install -y wrk)");
    let text = String::from_utf8_lossy(&out.stdout);
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk output:\n{text}"));
    let p99 = text
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("99%"))
        .map(|v| parse_wrk_time(v.trim()))
        .unwrap_or_else(|| panic!("no 99% line in wrk output:\n{text}"));
    Wrk { rps, p99_ms: p99 }
}

fn parse_wrk_time(v: &str) -> f64 {
    let (num, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len()));
    let n: f64 = num.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => f64::NAN,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One in-flight request, SIGTERM while it runs; returns (response received → exit).
fn last_response_to_exit(args: &[&str]) -> Duration {
    let mut server = Fixture::start(args);
    let mut s = TcpStream::connect(server.addr).expect("connect");
    s.write_all(b"GET /slow?ms=200 HTTP/1.1\r\nhost: a\r\n\r\n")
        .expect("write");
    std::thread::sleep(Duration::from_millis(50));
    server.term();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    while !buf.ends_with(b"end") {
        let n = s.read(&mut chunk).expect("read");
        assert!(
            n > 0,
            "closed before the response: {}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    }
    let responded = Instant::now();
    let status = server.child.wait().expect("wait");
    let exited = Instant::now();
    assert!(status.success(), "{args:?} exited with {status}");
    exited - responded
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing we need.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let secs: u64 = std::env::var("HTTP_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let rounds: usize = std::env::var("HTTP_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);

    println!("== throughput: hello world, wrk -t1 -c64 -d{secs}s, {rounds} alternating rounds ==");
    let graceful = Fixture::start(&["server=graceful", "track=1"]);
    let plain = Fixture::start(&["server=axum"]);
    // Warm-up.
    wrk(graceful.addr, 1);
    wrk(plain.addr, 1);
    // Rounds are paired (ABBA order, to cancel drift on a shared machine); the ratio of
    // each pair is what is compared.
    let (mut g, mut p, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (gr, pr) = if round % 2 == 0 {
            let gr = wrk(graceful.addr, secs);
            (gr, wrk(plain.addr, secs))
        } else {
            let pr = wrk(plain.addr, secs);
            (wrk(graceful.addr, secs), pr)
        };
        println!(
            "round {round}: graceful {:>9.0} req/s p99 {:>6.2} ms | axum::serve {:>9.0} req/s p99 {:>6.2} ms | ratio {:>5.1}%",
            gr.rps,
            gr.p99_ms,
            pr.rps,
            pr.p99_ms,
            100.0 * gr.rps / pr.rps
        );
        ratios.push(gr.rps / pr.rps);
        g.push(gr);
        p.push(pr);
    }
    let (g_rps, p_rps) = (
        median(g.iter().map(|w| w.rps).collect()),
        median(p.iter().map(|w| w.rps).collect()),
    );
    let (g_p99, p_p99) = (
        median(g.iter().map(|w| w.p99_ms).collect()),
        median(p.iter().map(|w| w.p99_ms).collect()),
    );
    println!("median: graceful::http::serve + TrackLayer {g_rps:.0} req/s, p99 {g_p99:.2} ms");
    println!("median: axum::serve                        {p_rps:.0} req/s, p99 {p_p99:.2} ms");
    println!(
        "median of paired throughput ratios: {:.1}% of axum::serve; p99 {:+.1}%",
        100.0 * median(ratios),
        100.0 * (g_p99 - p_p99) / p_p99
    );
    drop(graceful);
    drop(plain);

    let samples = 15;
    println!("\n== last in-flight response -> process exit, {samples} runs each ==");
    for (name, args) in [
        ("graceful::http::serve", &["server=graceful"][..]),
        ("axum with_graceful_shutdown", &["server=axum"][..]),
    ] {
        let mut ms: Vec<f64> = (0..samples)
            .map(|_| last_response_to_exit(args).as_secs_f64() * 1000.0)
            .collect();
        ms.sort_by(f64::total_cmp);
        println!(
            "{name:<28} median {:>6.2} ms  min {:>6.2} ms  max {:>6.2} ms",
            ms[ms.len() / 2],
            ms[0],
            ms[ms.len() - 1]
        );
    }
}
