//! Idle shutdown: SIGTERM → process exit of a program with 100 registered no-op resources
//! (`bench_idle_graceful`) against a plain `#[tokio::main]` program that exits on SIGTERM
//! (`bench_idle_tokio`), measured in the same run, interleaved.
//!
//! ```text
//! cargo bench -p graceful-benches --bench idle_shutdown   # 30 runs of each; IDLE_RUNS=N for more
//! ```
//!
//! Each run starts the program, waits for its `ready` line (resources built, signal handlers
//! installed), lets it sit idle for 50 ms, sends SIGTERM and times until `wait()` returns. The
//! programs are this package's binaries (`programs/`), built by cargo with the benchmark's
//! profile, or taken from `$GRACEFUL_BENCH_PROGRAMS` when set. Run without `--bench` (as
//! `cargo test --benches` does) it makes one run of each, as a smoke test.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const PROGRAMS: [&str; 2] = ["bench_idle_graceful", "bench_idle_tokio"];
const WARM_UP_RUNS: usize = 2;
const IDLE_BEFORE_SIGNAL: Duration = Duration::from_millis(50);

/// The two programs, built by cargo as binaries of this package (`CARGO_BIN_EXE_*`), or taken
/// from `$GRACEFUL_BENCH_PROGRAMS` (a directory holding both) to measure other builds.
fn programs() -> [PathBuf; 2] {
    let built = [
        PathBuf::from(env!("CARGO_BIN_EXE_bench_idle_graceful")),
        PathBuf::from(env!("CARGO_BIN_EXE_bench_idle_tokio")),
    ];
    match std::env::var_os("GRACEFUL_BENCH_PROGRAMS") {
        Some(dir) => PROGRAMS.map(|p| Path::new(&dir).join(p)),
        None => built,
    }
}

/// Starts `program`, waits for `ready`, sends SIGTERM after a short idle time, and returns the
/// time from the signal to the process's exit.
fn one_run(program: &Path) -> Result<Duration, String> {
    let mut child = Command::new(program)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    loop {
        line.clear();
        let n = stdout
            .read_line(&mut line)
            .map_err(|e| format!("reading the output of {}: {e}", program.display()))?;
        if n == 0 {
            let status = child.wait().map_err(|e| e.to_string())?;
            return Err(format!(
                "{} exited ({status}) before printing `ready`",
                program.display()
            ));
        }
        if line.trim() == "ready" {
            break;
        }
    }
    std::thread::sleep(IDLE_BEFORE_SIGNAL);
    let pid = Pid::from_raw(i32::try_from(child.id()).expect("pid fits in i32"));
    let start = Instant::now();
    kill(pid, Signal::SIGTERM).map_err(|e| format!("kill -TERM {pid}: {e}"))?;
    let status = child.wait().map_err(|e| e.to_string())?;
    let elapsed = start.elapsed();
    if !status.success() {
        return Err(format!(
            "{} ended with {status} after SIGTERM; expected exit status 0",
            program.display()
        ));
    }
    Ok(elapsed)
}

/// The `q`-quantile (0..=1) of sorted samples, nearest rank.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let runs: usize = match std::env::var("IDLE_RUNS") {
        Ok(v) => v.parse().expect("IDLE_RUNS must be a positive integer"),
        Err(_) if bench_mode => 30,
        Err(_) => 1,
    };
    let programs = programs();
    if let Some(missing) = programs.iter().find(|p| !p.is_file()) {
        eprintln!("{} does not exist", missing.display());
        std::process::exit(2);
    }

    let warm_up = if bench_mode { WARM_UP_RUNS } else { 0 };
    let mut samples: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    for i in 0..(warm_up + runs) {
        // Interleave, alternating which program goes first, so drift hits both alike.
        let order = if i % 2 == 0 { [0, 1] } else { [1, 0] };
        for k in order {
            let t = one_run(&programs[k]).unwrap_or_else(|e| panic!("{e}"));
            if i >= warm_up {
                samples[k].push(t);
            }
        }
    }

    println!(
        "idle shutdown, SIGTERM → exit, {runs} runs each (interleaved, after {warm_up} warm-up runs):"
    );
    let mut stats = Vec::new();
    for (k, s) in samples.iter_mut().enumerate() {
        s.sort();
        let (min, median, p90) = (s[0], quantile(s, 0.5), quantile(s, 0.9));
        println!(
            "  {:<22} median {:>7.3} ms   p90 {:>7.3} ms   min {:>7.3} ms",
            PROGRAMS[k],
            ms(median),
            ms(p90),
            ms(min)
        );
        stats.push((median, p90));
    }
    let (g, t) = (stats[0], stats[1]);
    println!(
        "  graceful − tokio:      median {:>+7.3} ms   p90 {:>+7.3} ms   (median ratio {:.2})",
        ms(g.0) - ms(t.0),
        ms(g.1) - ms(t.1),
        g.0.as_secs_f64() / t.0.as_secs_f64()
    );
}
