//! `gracefulctl stop` against real processes: order, escalation, groups, backups,
//! dry runs, failures, summaries and exit codes.

mod common;

use std::fs;

use common::*;

#[test]
fn stops_in_priority_order_and_removes_pid_files() {
    let mut w = World::new();
    w.manifest(
        r#"
[[process]]
name = "router"
priority = 30
pid_file = "router.pid"

[[process]]
name = "bot"
priority = 10
pid_file = "bot.pid"

[[process]]
name = "web"
priority = 20
pid_file = "web.pid"
"#,
    );
    let pids: Vec<i32> = ["router", "bot", "web"]
        .iter()
        .map(|n| w.graceful(n, "0.2"))
        .collect();

    let out = w.ctl().arg("stop").output().expect("run");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(w.order(), ["bot", "web", "router"]);
    assert!(
        stdout(&out).contains("summary: stopped 3, killed 0, not running 0, skipped 0, survived 0"),
        "{}",
        stdout(&out)
    );
    for (name, pid) in ["router", "bot", "web"].iter().zip(pids) {
        // Each exited by itself, through its SIGTERM handler.
        let status = w.reap(pid);
        assert_eq!(status.code(), Some(0), "{name}: {status:?}");
        assert!(
            !w.path(&format!("{name}.pid")).exists(),
            "{name}.pid removed"
        );
    }
    let log = w.read("logs/gracefulctl.log");
    assert!(log.contains("signal bot: SIGTERM sent to PID"), "{log}");
    assert!(log.contains("summary: stopped 3"), "{log}");
}

#[test]
fn dependents_stop_before_their_dependencies() {
    let mut w = World::new();
    w.manifest(
        r#"
[[process]]
name = "db"
pid_file = "db.pid"

[[process]]
name = "web"
pid_file = "web.pid"
depends_on = ["api"]

[[process]]
name = "api"
pid_file = "api.pid"
depends_on = ["db"]
"#,
    );
    for n in ["db", "web", "api"] {
        w.graceful(n, "0");
    }
    w.ctl().arg("stop").assert().success();
    assert_eq!(w.order(), ["web", "api", "db"]);
}

#[test]
fn a_process_ignoring_sigterm_is_killed_after_its_timeout() {
    let mut w = World::new();
    w.manifest(
        r#"
[[process]]
name = "stubborn"
pid_file = "stubborn.pid"
stop_timeout = "1s"
"#,
    );
    let dir = w.dir_str();
    let pid = w.spawn_fixture("ignore_term.sh", &["stubborn", &dir], "stubborn.pid");

    let out = w.ctl().arg("stop").output().expect("run");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    // SIGTERM first, SIGKILL after the timeout, and it died of SIGKILL.
    let term = text
        .find("sent SIGTERM")
        .unwrap_or_else(|| panic!("{text}"));
    let kill = text
        .find("sent SIGKILL")
        .unwrap_or_else(|| panic!("{text}"));
    assert!(term < kill, "{text}");
    assert!(text.contains("(stop_timeout expired)"), "{text}");
    assert!(text.contains("killed 1"), "{text}");
    assert_eq!(killed_by(w.reap(pid)), Some(9));
    assert!(w.read("logs/gracefulctl.log").contains("SIGKILL sent"));
}

#[test]
fn force_skips_the_wait() {
    let mut w = World::new();
    // Its handler would take a minute, and stop_timeout would wait for it.
    w.manifest("[[process]]\nname = \"slow\"\npid_file = \"slow.pid\"\nstop_timeout = \"5m\"\n");
    let pid = w.graceful("slow", "60");
    // PATIENCE bounds the command; without --force it would wait 5 minutes. What shows
    // that the wait was skipped is the reason given for the SIGKILL, not a clock.
    let out = w.ctl().args(["stop", "--force"]).output().expect("run");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("sent SIGKILL to PID") && text.contains("(--force / overall timeout)"),
        "{text}"
    );
    assert!(!text.contains("stop_timeout expired"), "{text}");
    assert_eq!(killed_by(w.reap(pid)), Some(9));
}

#[test]
fn overall_timeout_bounds_the_whole_stop() {
    let mut w = World::new();
    w.manifest(
        "[[process]]\nname = \"a\"\npid_file = \"a.pid\"\nstop_timeout = \"5m\"\n\n[[process]]\nname = \"b\"\npid_file = \"b.pid\"\nstop_timeout = \"5m\"\npriority = 1\n",
    );
    let a = w.graceful("a", "60");
    let b = w.graceful("b", "60");
    let out = w
        .ctl()
        .args(["stop", "--timeout", "1s"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(killed_by(w.reap(a)), Some(9));
    assert_eq!(killed_by(w.reap(b)), Some(9));
    // Once the overall deadline is spent, b is not waited for at all.
    assert!(
        stdout(&out).contains("b: sent SIGKILL to PID"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("killed 2"), "{}", stdout(&out));
}

#[test]
fn group_signalling_leaves_no_grandchild() {
    let mut w = World::new();
    w.manifest(
        "[[process]]\nname = \"forker\"\npid_file = \"forker.pid\"\nprocess_group = true\nstop_timeout = \"1s\"\n",
    );
    let dir = w.dir_str();
    let pid = w.spawn_fixture("forker.sh", &["forker", &dir], "forker.grandchild.pid");
    w.wait_for(|| w.path("forker.pid").exists(), "forker.pid");
    let grandchild = w.pid_file("forker.grandchild");
    assert!(alive(grandchild));

    // The plan names the group and its members, grandchild included.
    let dry = w.ctl().args(["stop", "--dry-run"]).output().expect("run");
    let plan = stdout(&dry);
    let members = plan
        .split(&format!("process group {pid} ("))
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("group in plan: {plan}"))
        .to_owned();
    let listed = |p: i32| members.split([' ', ',']).any(|m| m == p.to_string());
    assert!(listed(grandchild) && listed(pid), "{members}");

    let out = w.ctl().arg("stop").output().expect("run");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains(&format!("process group {pid}")),
        "{}",
        stdout(&out)
    );
    // The grandchild ignored SIGTERM: the group SIGKILL got it.
    assert!(stdout(&out).contains("sent SIGKILL"), "{}", stdout(&out));
    w.reap(pid);
    assert!(!alive(grandchild), "grandchild {grandchild} survived");
}

#[test]
fn without_group_signalling_the_grandchild_is_a_stray() {
    // The contrast case, so the test above means something: only the PID is signalled.
    let mut w = World::new();
    w.manifest(
        "[[process]]\nname = \"forker\"\npid_file = \"forker.pid\"\nstop_timeout = \"1s\"\n",
    );
    let dir = w.dir_str();
    let pid = w.spawn_fixture("forker.sh", &["forker", &dir], "forker.grandchild.pid");
    w.wait_for(|| w.path("forker.pid").exists(), "forker.pid");
    let grandchild = w.pid_file("forker.grandchild");
    w.ctl().arg("stop").assert().success();
    assert_eq!(w.reap(pid).code(), Some(0));
    assert!(alive(grandchild), "only the PID was signalled");
    // World's Drop kills the stray.
}

#[test]
fn backs_up_declared_files_before_stopping() {
    let mut w = World::new();
    w.manifest(
        r#"
[[process]]
name = "bot"
pid_file = "bot.pid"
backup = ["data/bot.db", "conf", "{dir}/abs.json", "missing.txt"]
"#,
    );
    w.write("data/bot.db", "precious rows");
    w.write("conf/a.ini", "x = 1");
    w.write("conf/deep/b.ini", "y = 2");
    w.write("abs.json", "{}");
    w.graceful("bot", "0");

    let out = w.ctl().arg("stop").output().expect("run");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let backup = only_backup_dir(&w.path("backups"));
    let name = backup
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    assert!(
        name.starts_with("shutdown_") && name.len() == "shutdown_YYYYMMDD_HHMMSS".len(),
        "{name}"
    );
    assert!(
        name["shutdown_".len()..]
            .replace('_', "")
            .chars()
            .all(|c| c.is_ascii_digit()),
        "{name}"
    );
    assert_eq!(
        fs::read_to_string(backup.join("bot/data/bot.db")).expect("db"),
        "precious rows"
    );
    assert_eq!(
        fs::read_to_string(backup.join("bot/conf/a.ini")).expect("a"),
        "x = 1"
    );
    assert_eq!(
        fs::read_to_string(backup.join("bot/conf/deep/b.ini")).expect("b"),
        "y = 2"
    );
    assert_eq!(
        fs::read_to_string(backup.join("bot/abs.json")).expect("abs"),
        "{}"
    );
    assert!(
        stdout(&out).contains("missing.txt does not exist"),
        "{}",
        stdout(&out)
    );
    // The backup came before the stop signal.
    let text = stdout(&out);
    let backed = text.find("backup: bot: copied").expect("backup line");
    let signalled = text.find("sent SIGTERM").expect("signal line");
    assert!(backed < signalled, "{text}");
}

#[test]
fn dry_run_prints_the_plan_and_touches_nothing() {
    let mut w = World::new();
    w.manifest(
        r#"
[[process]]
name = "b"
priority = 2
pid_file = "b.pid"
backup = ["data.db"]

[[process]]
name = "a"
priority = 1
pid_file = "a.pid"
stop_signal = "SIGINT"

[[process]]
name = "gone"
priority = 3
pid_file = "gone.pid"
"#,
    );
    w.write("data.db", "v1");
    let a = w.graceful("a", "0");
    let b = w.graceful("b", "0");
    w.write("gone.pid", "999999999\n");
    let before: Vec<(String, String)> =
        ["a.pid", "b.pid", "gone.pid", "data.db", "gracefulctl.toml"]
            .iter()
            .map(|f| (f.to_string(), w.read(f)))
            .collect();

    let out = w.ctl().args(["stop", "--dry-run"]).output().expect("run");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    let dir = w.dir_str();
    assert!(
        text.contains(&format!("1. a: PID {a} (found by PID file {dir}/a.pid): send SIGINT to PID {a}, wait up to 10s, then SIGKILL if still alive; remove {dir}/a.pid")),
        "{text}"
    );
    assert!(text.contains(&format!("2. b: PID {b} ")), "{text}");
    assert!(
        text.contains(&format!(
            "3. gone: not running; remove stale PID file {dir}/gone.pid"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("copy {dir}/data.db -> {dir}/backups/shutdown_")),
        "{text}"
    );

    // Nothing happened.
    assert!(alive(a) && alive(b));
    assert!(w.order().is_empty(), "no stop signal was sent");
    for (f, contents) in before {
        assert_eq!(w.read(&f), contents, "{f} untouched");
    }
    assert!(!w.path("backups").exists(), "no backup made");
    assert!(!w.path("logs").exists(), "no log written");

    // The plan reflects --force, --timeout, --only and --no-backup.
    let out = w
        .ctl()
        .args([
            "stop",
            "--dry-run",
            "--force",
            "--timeout",
            "1m30s",
            "--only",
            "a",
            "--no-backup",
        ])
        .output()
        .expect("run");
    let text = stdout(&out);
    assert!(text.contains("overall timeout: 1m 30s"), "{text}");
    assert!(text.contains("backup: skipped (--no-backup)"), "{text}");
    assert!(
        text.contains(&format!(
            "send SIGINT to PID {a}, no wait (--force), then SIGKILL"
        )),
        "{text}"
    );
    assert!(!text.contains("2. "), "only a: {text}");
    assert!(alive(a) && alive(b));
}

#[test]
fn only_stops_the_named_processes() {
    let mut w = World::new();
    w.manifest("[[process]]\nname = \"a\"\npid_file = \"a.pid\"\n[[process]]\nname = \"b\"\npid_file = \"b.pid\"\n[[process]]\nname = \"c\"\npid_file = \"c.pid\"\n");
    let a = w.graceful("a", "0");
    let b = w.graceful("b", "0");
    let c = w.graceful("c", "0");
    w.ctl()
        .args(["stop", "--only", "c", "a"])
        .assert()
        .success();
    assert_eq!(w.order(), ["a", "c"]);
    w.reap(a);
    w.reap(c);
    assert!(alive(b));

    let out = w
        .ctl()
        .args(["stop", "--only", "nope"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown process(es): nope"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn continues_past_a_failure_and_exits_non_zero() {
    let mut w = World::new();
    let dir = w.dir_str();
    // "twin" matches two processes: reported, not acted on. "last" must still be stopped.
    w.manifest(&format!(
        "[[process]]\nname = \"twin\"\npattern = \"ignore_term.sh twin {dir}\"\npriority = 1\n\n[[process]]\nname = \"last\"\npid_file = \"last.pid\"\npriority = 2\n"
    ));
    let t1 = w.spawn_fixture("ignore_term.sh", &["twin", &dir], "twin.pid");
    fs::remove_file(w.path("twin.pid")).expect("rm");
    let t2 = w.spawn_fixture("ignore_term.sh", &["twin", &dir], "twin.pid");
    let last = w.graceful("last", "0");

    let out = w.ctl().arg("stop").output().expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("matches 2 processes"), "{text}");
    assert!(
        text.contains("summary: stopped 1, killed 0, not running 0, skipped 1, survived 0"),
        "{text}"
    );
    assert_eq!(w.reap(last).code(), Some(0));
    assert!(alive(t1) && alive(t2), "ambiguous matches are left alone");
    assert_eq!(w.order(), ["last"]);
}

#[test]
fn a_pattern_found_process_is_stopped_and_nothing_is_reported_for_a_stopped_one() {
    let mut w = World::new();
    let dir = w.dir_str();
    w.manifest(&format!(
        "[[process]]\nname = \"p\"\npattern = \"graceful.sh p {dir}\"\n\n[[process]]\nname = \"idle\"\npattern = \"graceful.sh idle {dir}\"\n"
    ));
    let p = w.graceful("p", "0");
    let out = w.ctl().arg("stop").output().expect("run");
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("idle: not running"),
        "{}",
        stdout(&out)
    );
    assert_eq!(w.reap(p).code(), Some(0));
    assert_eq!(w.order(), ["p"]);
}

#[test]
fn a_pid_file_rewritten_for_a_new_process_is_kept() {
    let mut w = World::new();
    w.manifest("[[process]]\nname = \"svc\"\npid_file = \"svc.pid\"\n");
    let successor = w.sleeper();
    let dir = w.dir_str();
    let successor_arg = successor.to_string();
    let pid = w.spawn_fixture(
        "graceful.sh",
        &["svc", &dir, "0", "0", &successor_arg],
        "svc.pid",
    );

    let out = w.ctl().arg("stop").output().expect("run");
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(w.reap(pid).code(), Some(0));
    assert!(
        stdout(&out).contains(&format!(
            "kept PID file {dir}/svc.pid: it now names PID {successor}"
        )),
        "{}",
        stdout(&out)
    );
    assert_eq!(w.pid_file("svc"), successor);
    assert!(alive(successor));
}

#[test]
fn stop_writes_a_status_snapshot_first_and_signals_through_a_pidfd() {
    let mut w = World::new();
    w.manifest(
        "[[process]]\nname = \"web\"\npid_file = \"web.pid\"\n\n[[process]]\nname = \"bot\"\npid_file = \"bot.pid\"\n",
    );
    let web = w.graceful("web", "0");
    // bot's PID file names a process that is gone: stale.
    w.write("bot.pid", "999999\n");

    let out = w.ctl().arg("stop").output().expect("run");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    w.reap(web);
    let text = stdout(&out);

    // The snapshot was written before anything was signalled, and holds the state then.
    let snapshot_line = text.find("status before stop: ").expect("snapshot line");
    let signal_line = text.find("sent SIGTERM").expect("signal line");
    assert!(snapshot_line < signal_line, "{text}");
    let snapshots: Vec<_> = fs::read_dir(w.path("logs"))
        .expect("logs dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("system_status_") && n.ends_with(".json"))
        .collect();
    assert_eq!(snapshots.len(), 1, "{snapshots:?}");
    let snap: serde_json::Value =
        serde_json::from_str(&w.read(&format!("logs/{}", snapshots[0]))).expect("json");
    let web_row = snap["processes"]
        .as_array()
        .and_then(|p| p.iter().find(|r| r["name"] == "web"))
        .expect("web in the snapshot");
    assert_eq!(web_row["state"], "running", "{snap}");
    assert_eq!(web_row["pid"], web, "{snap}");

    // Linux ≥ 5.3 offers pidfds: the signal went through one.
    assert!(
        text.contains(&format!("sent SIGTERM to PID {web} (through a pidfd)")),
        "{text}"
    );
    // The stale PID file is removed, with the reason.
    assert!(
        text.contains("bot: removed stale PID file") && text.contains("PID 999999 is not running"),
        "{text}"
    );
    assert!(
        w.read("logs/gracefulctl.log")
            .contains("PID 999999 is not running"),
        "the action log keeps the reason"
    );
}
