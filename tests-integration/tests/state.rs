//! Saved state, with the real `job_queue` example (run through the fixture binary), real
//! signals, and SIGKILL during saves.

mod common;
#[path = "../fixtures/integrations_support.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use graceful::state::{Snapshot, load};
use nix::sys::signal::Signal;
use support::Fixture;

/// The `digest …` and `N pending` of a `running:` / `restored:` / `stopping:` line.
fn summary(line: &str) -> (u64, String) {
    let pending = line
        .split(": ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("pending count");
    let digest = line
        .split("digest ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .expect("digest");
    (pending, digest.to_string())
}

/// The `job_queue` example with its state in `dir`, and `env` besides.
fn job_queue_with_env(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Fixture {
    let mut env = env.to_vec();
    env.push(("GRACEFUL_FIXTURE_JOB_QUEUE", "1"));
    env.push(("SHUTDOWN_STATE_DIR", dir.to_str().expect("utf-8")));
    Fixture::start_with_env(args, &env)
}

fn job_queue(dir: &std::path::Path, args: &[&str]) -> Fixture {
    job_queue_with_env(dir, args, &[])
}

#[test]
fn the_job_queue_stops_and_restarts_with_the_same_1000_pending_jobs() {
    let tmp = common::temp_dir();
    let dir = tmp.path();
    let mut first = job_queue(dir, &["--seed", "1000", "--job-ms", "0"]);
    let running = first.wait_for("running: ");
    assert_eq!(summary(&running).0, 1000, "{running}");
    first.signal(Signal::SIGTERM);
    let first = first.finish();
    assert!(first.status.success(), "{}", first.output());
    let stopped = summary(first.line("stopping: ").expect("stopping line"));
    // The engine writes its report to the state directory.
    let report = common::read_report(dir);
    let hook = report["hooks"]
        .as_array()
        .and_then(|h| h.iter().find(|h| h["name"] == "save state job-queue"))
        .expect("the save hook ran");
    assert_eq!(hook["outcome"]["status"], "closed", "{report:#}");

    let mut second = job_queue(dir, &["--job-ms", "0"]);
    let restored = second.wait_for("restored: ");
    assert_eq!(summary(&restored), stopped, "{restored}");
    assert_eq!(stopped.0, 1000);
    // The timers came back with the time they had left (at most their period).
    assert!(restored.contains("heartbeat in "), "{restored}");
    second.signal(Signal::SIGTERM);
    assert!(second.finish().status.success());
}

/// Interrupted at random moments while working, the queue resumes where it left off: every
/// job is done exactly once across all runs.
#[test]
fn interrupted_work_resumes_exactly_where_it_left_off() {
    const JOBS: usize = 60;
    let tmp = common::temp_dir();
    let dir = tmp.path();
    let mut done: BTreeMap<u64, usize> = BTreeMap::new();
    let mut record = |lines: &[String]| {
        for l in lines {
            if let Some(id) = l
                .strip_prefix("done job ")
                .and_then(|s| s.split(' ').next())
                .and_then(|s| s.parse().ok())
            {
                *done.entry(id).or_default() += 1;
            }
        }
    };
    for round in 0..5 {
        let seed = if round == 0 {
            JOBS.to_string()
        } else {
            "0".to_string()
        };
        let mut f = job_queue(dir, &["--seed", &seed, "--job-ms", "20"]);
        f.wait_for("running: ");
        std::thread::sleep(Duration::from_millis(fastrand::u64(50..300)));
        f.signal(Signal::SIGTERM);
        let finished = f.finish();
        assert!(finished.status.success(), "{}", finished.output());
        record(&finished.lines);
    }
    // The last run finishes the queue.
    let mut f = job_queue(dir, &["--job-ms", "20"]);
    let running = f.wait_for("running: ");
    let left = summary(&running).0 as usize;
    for _ in 0..left {
        f.wait_for("done job ");
    }
    f.signal(Signal::SIGTERM);
    let finished = f.finish();
    record(&finished.lines);
    let ids: Vec<u64> = done.keys().copied().collect();
    assert_eq!(ids, (0..JOBS as u64).collect::<Vec<_>>(), "every job done");
    assert!(
        done.values().all(|n| *n == 1),
        "a job was done twice: {done:?}"
    );
}

/// The fixture's `state-churn` snapshot: generation g holds items i * g.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Churn {
    generation: u64,
    items: Vec<u64>,
}

impl Snapshot for Churn {
    const NAME: &'static str = "churn";
    const VERSION: u32 = 1;
}

/// SIGKILL at random moments while the program saves in a loop, 100 times: the file on disk
/// is always the previous snapshot or the new one, intact, never torn.
#[test]
fn sigkill_during_saves_never_leaves_a_torn_snapshot() {
    let tmp = common::temp_dir();
    let dir = tmp.path();
    let mut last_intact = 0;
    for _ in 0..100 {
        let mut f = Fixture::start(["state-churn", dir.to_str().expect("utf-8")]);
        let restored: u64 = f.wait_for("restored ")["restored ".len()..]
            .parse()
            .expect("generation");
        assert_eq!(
            restored, last_intact,
            "the restart restored what was on disk"
        );
        std::thread::sleep(Duration::from_millis(fastrand::u64(0..40)));
        f.signal(Signal::SIGKILL);
        let finished = f.finish();
        let last_saved = finished
            .line("saved ")
            .and_then(|l| l["saved ".len()..].parse::<u64>().ok())
            .unwrap_or(restored);
        match load::<Churn>(dir) {
            Ok(Some(s)) => {
                assert!(
                    s.generation == last_saved || s.generation == last_saved + 1,
                    "on disk: generation {}, last completed save {last_saved}",
                    s.generation
                );
                assert!(
                    s.items
                        .iter()
                        .enumerate()
                        .all(|(i, v)| *v == i as u64 * s.generation),
                    "torn content"
                );
                last_intact = s.generation;
            }
            Ok(None) => assert_eq!(last_saved, 0, "a completed save left no file"),
            Err(e) => panic!("the snapshot is damaged after SIGKILL: {e}"),
        }
    }
    assert!(last_intact > 0, "at least one save completed in 100 runs");
}

#[test]
fn a_corrupted_snapshot_is_reported_and_kept_aside() {
    let tmp = common::temp_dir();
    let dir = tmp.path();
    let path = dir.join("job-queue.snapshot");
    std::fs::write(&path, b"{\"format\":\"graceful-snapshot\"} torn").expect("write");
    let mut f = job_queue(dir, &["--job-ms", "0"]);
    let started = f.wait_for("started empty; the unusable snapshot is at ");
    f.signal(Signal::SIGTERM);
    let finished = f.finish();
    let out = finished.output();
    assert!(finished.status.success(), "{out}");
    // The documented message, on stderr.
    assert!(
        out.contains("stderr: graceful: snapshot `job-queue` at ")
            && out.contains("is corrupted: ")
            && out.contains("; moved aside to "),
        "{out}"
    );
    let aside = started.rsplit(' ').next().expect("aside path");
    assert!(aside.contains("job-queue.snapshot.corrupt-"), "{aside}");
    assert_eq!(
        std::fs::read(aside).expect("the bad file is kept"),
        b"{\"format\":\"graceful-snapshot\"} torn"
    );
    // The shutdown then saved a good snapshot in its place (`Ok(None)` would mean no file).
    assert!(
        load::<JobQueueProbe>(dir)
            .expect("the new snapshot is intact")
            .is_some(),
        "the shutdown saved no snapshot"
    );
}

#[test]
fn on_corrupt_refuse_stops_start_up_and_leaves_the_file() {
    let tmp = common::temp_dir();
    let dir = tmp.path();
    let path = dir.join("job-queue.snapshot");
    std::fs::write(&path, b"garbage").expect("write");
    let config = dir.join("graceful.toml");
    std::fs::write(&config, "[state]\non_corrupt = \"refuse\"\n").expect("config");
    let f = job_queue_with_env(
        dir,
        &["--job-ms", "0"],
        &[("SHUTDOWN_CONFIG", config.to_str().expect("utf-8"))],
    );
    let finished = f.finish();
    let out = finished.output();
    assert!(!finished.status.success(), "start-up must fail:\n{out}");
    assert!(
        out.contains("start-up failed")
            && out.contains("snapshot `job-queue`")
            && out.contains("is corrupted"),
        "{out}"
    );
    assert_eq!(std::fs::read(&path).expect("left in place"), b"garbage");
}

/// Reads the example's snapshot loosely (any JSON), to check a file is intact.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct JobQueueProbe(serde_json::Value);

impl Snapshot for JobQueueProbe {
    const NAME: &'static str = "job-queue";
    const VERSION: u32 = 1;
}

/// `#[graceful::state]` through `#[graceful::main]`: the `saved_state` example is restored
/// before `main` and saved in SavingState, with no builder code, across two real processes.
#[test]
fn a_state_declared_with_the_attribute_is_restored_before_main_and_saved_on_sigterm() {
    let tmp = common::temp_dir();
    let dir = tmp.path().to_str().expect("utf-8").to_owned();
    let program = common::example_bin("saved_state");
    for run in 1..=2 {
        let mut p = common::Proc::start(&program, &[], &[("SHUTDOWN_STATE_DIR", &dir)]);
        let first = p.wait_for(|l| l.starts_with("run "));
        let how = if run == 1 {
            "fresh start"
        } else {
            "restored from the snapshot"
        };
        assert_eq!(
            first,
            format!("run {run} ({how}); runs so far: {run}"),
            "run {run}"
        );
        p.wait_for(|l| l.starts_with("ready"));
        p.signal(Signal::SIGTERM);
        let status = p.wait();
        assert_eq!(status.code(), Some(0), "stderr: {:?}", p.stderr());
        assert!(
            tmp.path().join("visits.snapshot").is_file(),
            "the snapshot was written in SavingState"
        );
    }
}

/// Without `state_dir`, the attribute's state cannot be restored: start-up fails naming it.
#[test]
fn a_state_declared_with_the_attribute_needs_a_state_dir() {
    let program = common::example_bin("saved_state");
    assert!(
        std::env::var_os("SHUTDOWN_STATE_DIR").is_none(),
        "this test needs SHUTDOWN_STATE_DIR unset"
    );
    let mut p = common::Proc::start(&program, &[], &[]);
    let status = p.wait();
    assert_eq!(status.code(), Some(graceful::exit::STARTUP_FAILED.into()));
    let stderr = p.stderr().join("\n");
    assert!(
        stderr.contains("snapshot `visits` needs a state directory"),
        "names the snapshot and what to set: {stderr}"
    );
}
