//! How long does `status` take for 50 managed processes on a machine running ~1000?
//!
//! Setup: 50 `sleep` processes, each with a PID file and a unique `pattern`, plus extra
//! `sleep`s until the machine holds about 1000 processes; all of them are killed at the
//! end (also on panic). Measured:
//! - `snapshot_and_collect`: what `status` does, one `/proc` read + 50 lookups;
//! - `collect_only`: the 50 lookups against an existing snapshot;
//! - `rescan_per_service`: the design the issue forbids (one `/proc` scan per service),
//!   as the figure to compare against;
//! - `binary_status_json`: the whole `gracefulctl status --json` command, process start
//!   and manifest parsing included.
//!
//! Run: `cargo bench -p gracefulctl --bench status`

use std::fmt::Write as _;
use std::fs;
use std::hint::black_box;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use criterion::Criterion;
use gracefulctl::manifest::Manifest;
use gracefulctl::procs::Snapshot;
use gracefulctl::status;

const MANAGED: usize = 50;
const TARGET_PROCS: usize = 1000;

/// Kills and reaps every spawned process when dropped.
struct Fleet(Vec<Child>);

impl Drop for Fleet {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
        }
        for c in &mut self.0 {
            let _ = c.wait();
        }
    }
}

fn spawn_sleep(fleet: &mut Fleet, secs: u64) -> Option<u32> {
    let child = Command::new("sleep")
        .arg(secs.to_string())
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let pid = child.id();
    fleet.0.push(child);
    Some(pid)
}

fn write_manifest(dir: &Path, fleet: &mut Fleet) -> Option<()> {
    let mut toml = String::new();
    for i in 0..MANAGED {
        // A unique duration per service makes a unique command line to match.
        let secs = 900_000 + i as u64;
        let pid = spawn_sleep(fleet, secs)?;
        fs::write(dir.join(format!("svc{i}.pid")), format!("{pid}\n")).ok()?;
        let _ = write!(
            toml,
            "[[process]]\nname = \"svc{i}\"\npid_file = \"svc{i}.pid\"\npattern = \"sleep {secs}\"\npriority = {i}\ncritical = true\n\n"
        );
    }
    fs::write(dir.join("gracefulctl.toml"), toml).ok()
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut fleet = Fleet(Vec::new());
    write_manifest(dir.path(), &mut fleet).expect("spawn the managed processes");
    let present = Snapshot::capture().len();
    for _ in present..TARGET_PROCS {
        if spawn_sleep(&mut fleet, 3600).is_none() {
            break;
        }
    }
    let manifest = Manifest::load(&dir.path().join("gracefulctl.toml")).expect("manifest");
    let snap = Snapshot::capture();
    let report = status::collect(&manifest, &snap);
    assert!(
        report.all_critical_running,
        "all 50 managed processes are found"
    );
    eprintln!(
        "bench setup: {} processes on the machine, {} managed",
        snap.len(),
        manifest.processes.len()
    );

    // CPU time (user + system) per `status`, less sensitive than wall time to other load
    // on a shared machine.
    let me = i32::try_from(std::process::id()).expect("pid");
    let ticks = || gracefulctl::procs::ProcInfo::read(me).map_or(0, |p| p.cpu_ticks);
    // `cargo test --benches` runs this file without `--bench`: keep that pass short.
    let runs = if std::env::args().any(|a| a == "--bench") {
        100
    } else {
        2
    };
    let before = ticks();
    for _ in 0..runs {
        black_box(status::collect(&manifest, &Snapshot::capture()));
    }
    let cpu_ms = (ticks() - before) as f64 * 1000.0 / snap.ticks_per_sec as f64 / f64::from(runs);
    eprintln!("bench: CPU time per status (snapshot + collect): {cpu_ms:.1} ms (mean of {runs})");

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    let label = format!("status_{MANAGED}_services_{}_procs", snap.len());
    let mut group = c.benchmark_group(label);
    group.bench_function("snapshot_and_collect", |b| {
        b.iter(|| {
            let snap = Snapshot::capture();
            black_box(status::collect(&manifest, &snap))
        });
    });
    group.bench_function("collect_only", |b| {
        b.iter(|| black_box(status::collect(&manifest, &snap)));
    });
    group.sample_size(10);
    group.bench_function("rescan_per_service", |b| {
        b.iter(|| {
            let mut rows = Vec::with_capacity(MANAGED);
            for p in &manifest.processes {
                let snap = Snapshot::capture();
                rows.push(gracefulctl::locate::locate(p, &snap));
            }
            black_box(rows)
        });
    });
    let bin = env!("CARGO_BIN_EXE_gracefulctl");
    let config = dir.path().join("gracefulctl.toml");
    group.bench_function("binary_status_json", |b| {
        b.iter(|| {
            let out = Command::new(bin)
                .arg("--config")
                .arg(&config)
                .args(["status", "--json"])
                .output()
                .expect("run gracefulctl");
            assert!(out.status.success());
            black_box(out.stdout.len())
        });
    });
    group.finish();
    c.final_summary();
    drop(fleet);
}
