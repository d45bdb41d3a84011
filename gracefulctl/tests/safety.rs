//! What gracefulctl must never do: signal PID 1, its parent, another user's process, a
//! process that merely reuses a PID, or one of several processes a pattern matches.

mod common;

use std::os::unix::process::CommandExt;
use std::process::Command;

use common::*;

#[test]
fn pid_1_in_a_pid_file_is_refused() {
    let w = World::new();
    w.manifest("[[process]]\nname = \"init\"\npid_file = \"init.pid\"\n");
    w.write("init.pid", "1\n");
    let out = w.ctl().arg("stop").output().expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("refusing to signal PID 1 (init)"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("skipped 1"));
    assert!(
        w.path("init.pid").exists(),
        "the PID file of a refused process is kept"
    );

    let dry = w.ctl().args(["stop", "--dry-run"]).output().expect("run");
    assert_eq!(dry.status.code(), Some(1));
    assert!(
        stdout(&dry).contains("1. init: SKIP: refusing to signal PID 1"),
        "{}",
        stdout(&dry)
    );
}

#[test]
fn its_own_parent_is_refused() {
    // gracefulctl's parent is this test process: a SIGTERM would kill the test.
    let w = World::new();
    w.manifest("[[process]]\nname = \"me\"\npid_file = \"me.pid\"\n");
    w.write("me.pid", &format!("{}\n", std::process::id()));
    let out = w.ctl().arg("stop").output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("gracefulctl's parent"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_reused_pid_is_stale_and_not_killed() {
    let mut w = World::new();
    let dir = w.dir_str();
    w.manifest(&format!(
        "[[process]]\nname = \"web\"\npid_file = \"web.pid\"\npattern = \"graceful.sh web {dir}\"\n"
    ));
    // The PID file points at a live process with another command line.
    let innocent = w.sleeper();
    w.write("web.pid", &format!("{innocent}\n"));

    let status = w.ctl().arg("status").output().expect("run");
    let text = stdout(&status);
    assert!(text.contains("PID reused"), "{text}");
    assert!(text.contains("sleep 1000"), "{text}");
    let row = text.lines().find(|l| l.starts_with("web")).expect("row");
    assert_eq!(row.split_whitespace().nth(2), Some("stale"), "{row}");

    let out = w.ctl().arg("stop").output().expect("run");
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("web: not running"),
        "{}",
        stdout(&out)
    );
    assert!(
        alive(innocent),
        "the process reusing the PID was not signalled"
    );
    assert!(!w.path("web.pid").exists(), "the stale PID file is removed");
}

#[test]
fn a_pattern_matching_two_processes_is_reported_not_acted_on() {
    let mut w = World::new();
    let dir = w.dir_str();
    w.manifest(&format!(
        "[[process]]\nname = \"dup\"\npattern = \"graceful.sh dup {dir}\"\n"
    ));
    let a = w.graceful("dup", "0");
    std::fs::remove_file(w.path("dup.pid")).expect("rm");
    let b = w.graceful("dup", "0");

    let status = w.ctl().args(["status", "--json"]).output().expect("run");
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).expect("json");
    assert_eq!(v["processes"][0]["state"], "ambiguous");
    let pids: Vec<i64> = v["processes"][0]["pids"]
        .as_array()
        .expect("pids")
        .iter()
        .filter_map(serde_json::Value::as_i64)
        .collect();
    let mut expected = vec![i64::from(a), i64::from(b)];
    expected.sort_unstable();
    assert_eq!(pids, expected);

    let out = w.ctl().arg("stop").output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("matches 2 processes"),
        "{}",
        stdout(&out)
    );
    assert!(alive(a) && alive(b));
    assert!(w.order().is_empty());
}

#[test]
fn max_matches_allows_several_workers() {
    let mut w = World::new();
    let dir = w.dir_str();
    w.manifest(&format!(
        "[[process]]\nname = \"worker\"\npattern = \"graceful.sh worker {dir}\"\nmax_matches = 2\n"
    ));
    let a = w.graceful("worker", "0");
    std::fs::remove_file(w.path("worker.pid")).expect("rm");
    let b = w.graceful("worker", "0");
    w.ctl().arg("stop").assert().success();
    assert_eq!(w.reap(a).code(), Some(0));
    assert_eq!(w.reap(b).code(), Some(0));
    assert_eq!(w.order(), ["worker", "worker"]);
}

#[test]
fn another_users_process_is_refused_unless_allowed() {
    if !nix::unistd::getuid().is_root() {
        eprintln!("skipped: needs root to start a process as another user");
        return;
    }
    let mut w = World::new();
    w.manifest("[[process]]\nname = \"theirs\"\npid_file = \"theirs.pid\"\n");
    let mut cmd = Command::new("sleep");
    cmd.arg("1000").uid(65534).gid(65534);
    let pid = w.spawn(cmd);
    w.write("theirs.pid", &format!("{pid}\n"));

    let out = w.ctl().arg("stop").output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("belongs to uid 65534"),
        "{}",
        stdout(&out)
    );
    assert!(alive(pid));

    w.ctl()
        .args(["stop", "--allow-other-users"])
        .assert()
        .success();
    assert_eq!(killed_by(w.reap(pid)), Some(15));
}

#[test]
fn without_a_pattern_a_process_younger_than_its_pid_file_is_a_reused_pid() {
    let mut w = World::new();
    w.manifest("[[process]]\nname = \"old\"\npid_file = \"old.pid\"\n\n[[process]]\nname = \"junk\"\npid_file = \"junk.pid\"\n");
    let newcomer = w.sleeper();
    w.write("old.pid", &format!("{newcomer}\n"));
    // The PID file was written an hour ago: the process now holding that PID is younger.
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(w.path("old.pid"))
        .and_then(|f| f.set_modified(hour_ago))
        .expect("set mtime");
    w.write("junk.pid", "not a pid\n");

    let out = w.ctl().args(["status", "--json"]).output().expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["processes"][0]["state"], "stale");
    let note = v["processes"][0]["note"].as_str().unwrap_or_default();
    assert!(
        note.contains("started after the PID file was written"),
        "{note}"
    );
    assert_eq!(v["processes"][1]["state"], "stale");
    assert!(
        v["processes"][1]["note"]
            .as_str()
            .is_some_and(|n| n.contains("does not hold a PID"))
    );

    w.ctl().arg("stop").assert().success();
    assert!(alive(newcomer), "the newcomer was not signalled");
    assert!(
        !w.path("old.pid").exists() && !w.path("junk.pid").exists(),
        "stale PID files removed"
    );
}

#[test]
fn its_ancestors_are_refused() {
    // gracefulctl's grandparent is whatever runs this test (cargo, nextest).
    let grandparent = nix::unistd::getppid().as_raw();
    if grandparent <= 1 {
        eprintln!("skipped: the test process has no ancestor but init");
        return;
    }
    let w = World::new();
    w.manifest("[[process]]\nname = \"runner\"\npid_file = \"runner.pid\"\n");
    w.write("runner.pid", &format!("{grandparent}\n"));
    let out = w.ctl().arg("stop").output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains(&format!(
            "refusing to signal PID {grandparent}: it is an ancestor of gracefulctl"
        )),
        "{}",
        stdout(&out)
    );
    assert!(alive(grandparent));
}
