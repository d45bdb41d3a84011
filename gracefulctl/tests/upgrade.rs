//! `gracefulctl upgrade` and PID file locks, against real processes: the fixture
//! (`fixtures/upgrader.rs`) is this test binary itself, started with `--upgrader`, so it can
//! block SIGUSR2 before any thread exists. Hence `harness = false` and the small runner in
//! `main` (test names as filters, `--exact`, `--list`).

mod common;
#[path = "fixtures/upgrader.rs"]
mod upgrader;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::{Command, ExitCode};

use common::*;
use serde_json::Value;

/// A graceful-like service `web` with a locked PID file (`upgrader.rs`, by MODE).
fn upgrader(w: &mut World, mode: &str) -> i32 {
    let mut cmd = Command::new(std::env::current_exe().expect("own binary"));
    cmd.arg(upgrader::FLAG).arg(mode).arg(w.path("web.pid"));
    let pid = w.spawn(cmd);
    w.wait_for(|| w.read("web.pid").trim() == pid.to_string(), "web.pid");
    pid
}

fn web_manifest(w: &World, extra: &str) {
    w.manifest(&format!(
        "[[process]]\nname = \"web\"\npid_file = \"web.pid\"\nlog = \"web.log\"\n{extra}\n"
    ));
}

fn upgrade_hands_over_to_a_new_process() {
    let mut w = World::new();
    web_manifest(&w, "");
    let old = upgrader(&mut w, "upgrade");

    let dry = w
        .ctl()
        .args(["upgrade", "web", "--dry-run"])
        .output()
        .expect("run");
    assert!(dry.status.success(), "{}{}", stdout(&dry), stderr(&dry));
    let text = stdout(&dry);
    assert!(text.contains("dry run"), "{text}");
    assert!(
        text.contains(&format!("PID {old}")) && text.contains("SIGUSR2"),
        "{text}"
    );
    assert_eq!(w.pid_file("web"), old, "a dry run sends nothing");
    assert!(!w.path("logs").exists(), "a dry run writes no log");

    let out = w.ctl().args(["upgrade", "web"]).output().expect("run");
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    let new = w.pid_file("web");
    assert_ne!(new, old);
    assert!(
        text.contains(&format!(
            "web: upgraded: pid {old} → pid {new} (ready after "
        )),
        "{text}"
    );
    assert!(text.contains("old exited after"), "{text}");
    assert_eq!(w.reap(old).code(), Some(0), "the old process exits 0");
    assert!(alive(new));

    // `status` follows the new owner, through its locked PID file.
    let json = w.ctl().args(["status", "--json"]).output().expect("run");
    let v: Value = serde_json::from_slice(&json.stdout).expect("valid JSON");
    assert_eq!(v["processes"][0]["pid"].as_i64(), Some(i64::from(new)));
    assert_eq!(v["processes"][0]["source"], "pid-file-locked");

    let log = w.read("logs/gracefulctl.log");
    assert!(
        log.contains(&format!("signal web: SIGUSR2 sent to PID {old}")),
        "{log}"
    );
    assert!(
        log.contains(&format!("upgrade web: upgraded: pid {old} → pid {new}")),
        "{log}"
    );
}

fn an_ignored_upgrade_leaves_the_old_process_serving() {
    let mut w = World::new();
    web_manifest(&w, "");
    let old = upgrader(&mut w, "ignore");
    let out = w
        .ctl()
        .args(["upgrade", "web", "--timeout", "1s"])
        .output()
        .expect("run");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("web: NOT upgraded"), "{text}");
    assert!(
        text.contains("the upgrade did not happen and the old process still serves"),
        "{text}"
    );
    assert!(
        text.contains(&w.path("web.log").display().to_string()),
        "{text}"
    );
    assert!(alive(old));
    assert_eq!(w.pid_file("web"), old);
}

fn an_old_process_gone_without_a_successor_fails_the_upgrade() {
    let mut w = World::new();
    web_manifest(&w, "");
    let old = upgrader(&mut w, "vanish");
    let out = w.ctl().args(["upgrade", "web"]).output().expect("run");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains(&format!("web: upgrade FAILED: PID {old} exited after")),
        "{text}"
    );
    assert!(text.contains("no live process took over"), "{text}");
    assert!(text.contains("is not locked"), "{text}");
    assert_eq!(w.reap(old).code(), Some(0));
}

fn upgrade_needs_a_pid_file() {
    let w = World::new();
    w.manifest("[[process]]\nname = \"web\"\npattern = \"web-server\"\n");
    let out = w.ctl().args(["upgrade", "web"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("`pid_file`") && err.contains("`web`"), "{err}");
}

fn an_unlocked_pid_file_is_not_signalled() {
    let mut w = World::new();
    web_manifest(&w, "");
    // A shell script: SIGUSR2 would terminate it.
    let pid = w.graceful("web", "0");
    let out = w.ctl().args(["upgrade", "web"]).output().expect("run");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains("is not locked") && text.contains("nothing sent"),
        "{text}"
    );
    assert!(alive(pid), "the process was not signalled");
}

fn a_locked_pid_file_is_live_and_stale_once_its_owner_is_gone() {
    let mut w = World::new();
    // The pattern does not match the fixture's command line: an unlocked file would be
    // taken for a reused PID; the lock says its owner is alive.
    web_manifest(&w, "pattern = \"web-server\"");
    let pid = upgrader(&mut w, "ignore");

    let out = w
        .ctl()
        .args(["status", "--detailed"])
        .output()
        .expect("run");
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    let row = text.lines().nth(1).unwrap_or_default();
    assert!(
        row.starts_with("web") && row.contains(&pid.to_string()),
        "{text}"
    );
    assert!(row.ends_with("pid-file (locked)"), "{text}");
    assert!(
        text.contains(&format!("names PID {pid}, locked (a live owner holds it)")),
        "{text}"
    );

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill");
    w.reap(pid);
    let out = w
        .ctl()
        .args(["status", "--detailed"])
        .output()
        .expect("run");
    let text = stdout(&out);
    assert!(text.contains("web: stale PID file"), "{text}");
    assert!(
        text.contains(&format!("PID {pid} is not running")),
        "{text}"
    );
    assert!(
        text.contains("not locked, so no live graceful service owns it"),
        "{text}"
    );
    assert!(
        text.contains(&format!("names PID {pid}, not locked")),
        "{text}"
    );
}

const TESTS: &[(&str, fn())] = &[
    (
        "upgrade_hands_over_to_a_new_process",
        upgrade_hands_over_to_a_new_process,
    ),
    (
        "an_ignored_upgrade_leaves_the_old_process_serving",
        an_ignored_upgrade_leaves_the_old_process_serving,
    ),
    (
        "an_old_process_gone_without_a_successor_fails_the_upgrade",
        an_old_process_gone_without_a_successor_fails_the_upgrade,
    ),
    ("upgrade_needs_a_pid_file", upgrade_needs_a_pid_file),
    (
        "an_unlocked_pid_file_is_not_signalled",
        an_unlocked_pid_file_is_not_signalled,
    ),
    (
        "a_locked_pid_file_is_live_and_stale_once_its_owner_is_gone",
        a_locked_pid_file_is_live_and_stale_once_its_owner_is_gone,
    ),
];

fn main() -> ExitCode {
    if let Some(code) = upgrader::run_if_asked() {
        return code;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in TESTS {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    let exact = args.iter().any(|a| a == "--exact");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let chosen: Vec<&(&str, fn())> = TESTS
        .iter()
        .filter(|(name, _)| {
            filters.is_empty()
                || filters.iter().any(|f| {
                    if exact {
                        *name == f.as_str()
                    } else {
                        name.contains(f.as_str())
                    }
                })
        })
        .collect();
    let total = chosen.len();
    println!("\nrunning {total} tests");
    let mut failed = Vec::new();
    for (name, test) in chosen {
        let ok = catch_unwind(AssertUnwindSafe(test)).is_ok();
        println!("test {name} ... {}", if ok { "ok" } else { "FAILED" });
        if !ok {
            failed.push(*name);
        }
    }
    let passed = total - failed.len();
    println!(
        "\ntest result: {}. {} passed; {} failed",
        if failed.is_empty() { "ok" } else { "FAILED" },
        passed,
        failed.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
