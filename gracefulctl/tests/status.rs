//! `gracefulctl status`: the table, `--json`, stale PID files, exit status, `--watch`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;
use serde_json::Value;

fn manifest(w: &World) {
    let dir = w.dir_str();
    w.manifest(&format!(
        r#"
[[process]]
name = "web"
pid_file = "web.pid"
critical = true

[[process]]
name = "scanner"
pattern = "graceful.sh scanner {dir}"

[[process]]
name = "monitor"
pid_file = "monitor.pid"

[[process]]
name = "router"
pid_file = "router.pid"
critical = true
"#
    ));
}

#[test]
fn json_parses_and_matches_the_table() {
    let mut w = World::new();
    manifest(&w);
    let web = w.graceful("web", "0");
    let scanner = w.graceful("scanner", "0");
    let router = w.graceful("router", "0");
    w.write("monitor.pid", "999999999\n"); // stale: no such process

    let table = w.ctl().arg("status").output().expect("run");
    let json = w.ctl().args(["status", "--json"]).output().expect("run");
    assert!(table.status.success(), "{}", stdout(&table));
    assert!(json.status.success());
    let v: Value = serde_json::from_slice(&json.stdout).expect("valid JSON");
    assert_eq!(v["all_critical_running"], Value::Bool(true));
    let rows = v["processes"].as_array().expect("array");
    assert_eq!(rows.len(), 4);

    let expect = [
        ("web", Some(web), "running", "pid-file", "yes"),
        ("scanner", Some(scanner), "running", "pattern", "no"),
        ("monitor", None, "stale", "-", "no"),
        ("router", Some(router), "running", "pid-file", "yes"),
    ];
    let text = stdout(&table);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        [
            "NAME", "PID", "STATE", "UPTIME", "MEMORY", "CPU%", "CRITICAL", "SOURCE"
        ]
    );
    for (row, (name, pid, state, source, critical)) in rows.iter().zip(expect) {
        assert_eq!(row["name"], name);
        assert_eq!(row["pid"].as_i64(), pid.map(i64::from), "{name}");
        assert_eq!(row["state"], state, "{name}");
        // The table line for the same process says the same.
        let line = lines
            .iter()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} in table:\n{text}"));
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            cells[1],
            pid.map_or("-".to_owned(), |p| p.to_string()),
            "{line}"
        );
        assert_eq!(cells[2], state, "{line}");
        assert_eq!(cells[cells.len() - 2], critical, "{line}");
        assert_eq!(cells[cells.len() - 1], source, "{line}");
        if state == "running" {
            assert!(row["memory_bytes"].as_u64().is_some_and(|m| m > 0), "{row}");
            assert!(row["uptime_secs"].is_u64(), "{row}");
            assert!(row["cpu_percent"].is_f64(), "{row}");
        }
    }
    // The stale PID file is reported with its reason, in both forms.
    assert!(text.contains("monitor: stale PID file"), "{text}");
    assert!(text.contains("PID 999999999 is not running"), "{text}");
    assert!(
        rows[2]["note"]
            .as_str()
            .is_some_and(|n| n.contains("999999999"))
    );
}

#[test]
fn exit_status_says_whether_every_critical_process_runs() {
    let mut w = World::new();
    manifest(&w);
    w.graceful("web", "0");
    // router (critical) is not running; scanner and monitor are not critical.
    let out = w.ctl().arg("status").output().expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("NOT all critical processes are running"));
    let json = w.ctl().args(["status", "--json"]).output().expect("run");
    assert_eq!(json.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&json.stdout).expect("valid JSON");
    assert_eq!(v["all_critical_running"], Value::Bool(false));

    w.graceful("router", "0");
    w.ctl().arg("status").assert().success();
}

#[test]
fn config_comes_from_the_environment_too() {
    let mut w = World::new();
    manifest(&w);
    w.graceful("web", "0");
    w.graceful("router", "0");
    ctl_bare()
        .env("GRACEFULCTL_CONFIG", w.manifest_path())
        .arg("status")
        .assert()
        .success()
        .stdout(predicates::str::contains("web"));
}

#[test]
fn watch_refreshes_until_interrupted() {
    let w = World::new();
    manifest(&w);
    let bin = assert_cmd::cargo::cargo_bin("gracefulctl");
    let mut cmd = Command::new(bin);
    cmd.arg("--config")
        .arg(w.manifest_path())
        .args(["status", "--watch", "1"])
        .stdout(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let out = child.stdout.take().expect("stdout");
    let mut headers = 0;
    for line in BufReader::new(out).lines() {
        let line = line.expect("line");
        if line.starts_with("NAME") {
            headers += 1;
            if headers == 2 {
                break;
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(headers, 2, "the table was printed twice");
}

#[test]
fn detailed_shows_command_line_source_children_ports_and_log() {
    use std::os::fd::AsRawFd;

    let mut w = World::new();
    w.manifest("[[process]]\nname = \"web\"\npid_file = \"web.pid\"\nlog = \"web.log\"\n");
    let log: String = (1..=12).map(|i| format!("entry-{i:02}\n")).collect();
    w.write("web.log", &log);
    // The service inherits a listening socket (as from a supervisor) and has a child.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    nix::fcntl::fcntl(
        listener.as_raw_fd(),
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
    )
    .expect("let the child inherit the socket");
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(format!(
        "sleep 1000 & echo $$ > {dir}/web.pid; wait",
        dir = w.dir_str()
    ));
    let pid = w.spawn(cmd);
    drop(listener);
    w.wait_for(|| w.path("web.pid").exists(), "web.pid");

    let out = w
        .ctl()
        .args(["status", "--detailed", "--json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).expect("json");
    let d = &v["details"][0];
    assert_eq!(d["name"], "web", "{v}");
    assert!(
        d["pid_source"]
            .as_str()
            .is_some_and(|s| s.starts_with("pid-file ") && s.ends_with("web.pid")),
        "{d}"
    );
    let p = &d["processes"][0];
    assert_eq!(p["pid"], pid, "{d}");
    assert!(
        p["command_line"]
            .as_str()
            .is_some_and(|c| c.starts_with("sh -c sleep 1000")),
        "{d}"
    );
    assert!(
        p["children"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c[1] == "sleep 1000")),
        "{d}"
    );
    assert!(
        p["listening"]
            .as_array()
            .is_some_and(|l| l.iter().any(|a| a == &format!("127.0.0.1:{port}"))),
        "{d}"
    );
    let lines = d["log"]["lines"].as_array().expect("log lines");
    assert_eq!(lines.len(), 10, "{d}");
    assert_eq!(lines[0], "entry-03");
    assert_eq!(lines[9], "entry-12");

    // The text form says the same.
    let out = w
        .ctl()
        .args(["status", "--detailed"])
        .output()
        .expect("run");
    let text = stdout(&out);
    assert!(
        text.contains(&format!("PID {pid}: sh -c sleep 1000"))
            && text.contains(&format!("listening: 127.0.0.1:{port}"))
            && text.contains("| entry-12"),
        "{text}"
    );
}
