//! `start`, `restart`, `health`, `backup`, `logs`, and manifest errors from the command line.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};

use common::*;

fn start_manifest(w: &World) {
    w.manifest(
        r#"
[[process]]
name = "web"
pid_file = "web.pid"
depends_on = ["api"]
critical = true
[process.start]
command = "exec sh {fixtures}/graceful.sh web {dir} 0"

[[process]]
name = "db"
pid_file = "db.pid"
critical = true
[process.start]
command = "exec sh {fixtures}/graceful.sh db {dir} 0 1"

[[process]]
name = "api"
pid_file = "api.pid"
depends_on = ["db"]
[process.start]
command = "exec sh {fixtures}/graceful.sh api {dir} 0"
ready_timeout = "20s"
"#,
    );
}

fn events(w: &World) -> Vec<String> {
    w.read("events").lines().map(str::to_owned).collect()
}

#[test]
fn start_goes_in_reverse_order_waiting_for_readiness() {
    let w = World::new();
    start_manifest(&w);
    let out = w.ctl().arg("start").output().expect("run");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    // db takes a second to write its PID file; api must not begin before that.
    assert_eq!(
        events(&w),
        [
            "begin db",
            "ready db",
            "begin api",
            "ready api",
            "begin web",
            "ready web"
        ]
    );
    assert!(
        stdout(&out).contains("summary: started 3, already running 0, failed 0, not attempted 0")
    );
    w.ctl().arg("status").assert().success();

    // A second start finds everything running.
    let again = w.ctl().arg("start").output().expect("run");
    assert!(again.status.success());
    assert!(
        stdout(&again).contains("already running 3"),
        "{}",
        stdout(&again)
    );

    w.ctl().arg("stop").assert().success();
    assert_eq!(w.order(), ["web", "api", "db"]);
    assert_eq!(
        w.ctl().arg("status").output().expect("run").status.code(),
        Some(1)
    );
}

#[test]
fn restart_stops_then_starts() {
    let w = World::new();
    start_manifest(&w);
    w.ctl().arg("start").assert().success();
    let first_db = w.pid_file("db");
    let out = w.ctl().arg("restart").output().expect("run");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(w.order(), ["web", "api", "db"]);
    assert_eq!(
        events(&w)[6..],
        [
            "begin db",
            "ready db",
            "begin api",
            "ready api",
            "begin web",
            "ready web"
        ]
    );
    assert!(!alive(first_db));
    assert!(alive(w.pid_file("db")));
    w.ctl().arg("stop").assert().success();
}

#[test]
fn a_process_that_never_gets_ready_stops_the_start() {
    let w = World::new();
    w.manifest(
        r#"
[[process]]
name = "late"
pid_file = "late.pid"
priority = 2
[process.start]
command = "true"
ready_timeout = "1s"

[[process]]
name = "after"
pid_file = "after.pid"
priority = 1
[process.start]
command = "exec sh {fixtures}/graceful.sh after {dir} 0"

[[process]]
name = "broken"
pid_file = "broken.pid"
[process.start]
command = "echo oops >&2; exit 3"
"#,
    );
    let out = w.ctl().arg("start").output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("late: FAILED: not ready after 1s (pid-file)"),
        "{text}"
    );
    assert!(text.contains("failed 1, not attempted 2"), "{text}");
    assert!(
        !w.path("after.pid").exists(),
        "nothing after the failure was started"
    );

    let out = w
        .ctl()
        .args(["start", "--only", "broken"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("exited with exit status: 3"),
        "{}",
        stdout(&out)
    );
    assert!(w.read("logs/broken.out").contains("oops"));
}

#[test]
fn health_probes_tcp_http_and_pid_files() {
    let w = World::new();
    let tcp = TcpListener::bind("127.0.0.1:0").expect("bind");
    let http = TcpListener::bind("127.0.0.1:0").expect("bind");
    let tcp_port = tcp.local_addr().expect("addr").port();
    let http_port = http.local_addr().expect("addr").port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = http.accept().expect("accept");
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    w.manifest(&format!(
        r#"
[[process]]
name = "tcp"
pid_file = "tcp.pid"
ready = "tcp://127.0.0.1:{tcp_port}"

[[process]]
name = "http"
pid_file = "http.pid"
ready = "http://127.0.0.1:{http_port}/health/ready"
"#
    ));
    let out = w.ctl().args(["health", "--json"]).output().expect("run");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v[0]["ready"], true);
    assert_eq!(v[1]["ready"], true);
    assert!(
        v[1]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("answered 200"))
    );
    server.join().expect("server");

    drop(tcp);
    w.manifest("[[process]]\nname = \"gone\"\npid_file = \"gone.pid\"\n");
    let out = w.ctl().arg("health").output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("NOT READY"), "{}", stdout(&out));
}

#[test]
fn backup_command_copies_now() {
    let w = World::new();
    w.manifest(
        "[[process]]\nname = \"a\"\npattern = \"x-never-matches-x\"\nbackup = [\"state.json\"]\n",
    );
    w.write("state.json", "{\"n\": 1}");
    let out = w.ctl().arg("backup").output().expect("run");
    assert!(out.status.success(), "{}", stdout(&out));
    let dir = only_backup_dir(&w.path("backups"));
    assert_eq!(
        std::fs::read_to_string(dir.join("a/state.json")).expect("copy"),
        "{\"n\": 1}"
    );
    assert!(w.read("logs/gracefulctl.log").contains("backup a:"));
}

#[test]
fn logs_shows_and_follows_the_action_log() {
    let w = World::new();
    w.manifest("[[process]]\nname = \"a\"\npid_file = \"a.pid\"\n");
    let out = w.ctl().arg("logs").output().expect("run");
    assert_eq!(out.status.code(), Some(2), "no log yet");
    w.ctl().arg("stop").assert().success();
    let out = w.ctl().arg("logs").output().expect("run");
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("stop a: not running"), "{text}");
    // Every line starts with a timestamp.
    for line in text.lines() {
        assert!(
            line.get(..4)
                .is_some_and(|y| y.chars().all(|c| c.is_ascii_digit())),
            "{line}"
        );
        assert_eq!(line.as_bytes().get(10), Some(&b'T'), "{line}");
    }
    let last = w.ctl().args(["logs", "-n", "1"]).output().expect("run");
    assert_eq!(stdout(&last).lines().count(), 1);

    let mut follow = Command::new(assert_cmd::cargo::cargo_bin("gracefulctl"))
        .arg("--config")
        .arg(w.manifest_path())
        .args(["logs", "--follow", "-n", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Read the follower on a thread so a hang fails the test instead of blocking it.
    let reader = BufReader::new(follow.stdout.take().expect("stdout"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in reader.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = rx.recv_timeout(PATIENCE).expect("the last line");
    assert!(first.contains("summary"), "{first}");
    w.ctl().args(["stop", "--only", "a"]).assert().success();
    let next = rx.recv_timeout(PATIENCE);
    let _ = follow.kill();
    let _ = follow.wait();
    let next = next.expect("a followed line");
    assert!(next.contains("stop -: begin: 1 process(es)"), "{next}");
}

#[test]
fn invalid_manifests_name_file_line_and_key() {
    let w = World::new();
    let cases = [
        (
            "[[process]]\nname = \"a\"\npid_file = \"a.pid\"\nstop_timout = \"3s\"\n",
            ":4:",
            "stop_timout",
        ),
        (
            "[[process]]\nname = \"a\"\npid_file = \"a.pid\"\nstop_timeout = \"soon\"\n",
            ":4:",
            "process[0].stop_timeout",
        ),
        (
            "[[process]]\nname = \"a\"\npid_file = \"a.pid\"\n[[process]]\nname = \"a\"\npid_file = \"b.pid\"\n",
            ":5:",
            "duplicate process name `a`",
        ),
        (
            "[[process]]\nname = \"a\"\npid_file = \"a.pid\"\ndepends_on = [\"b\"]\n",
            ":4:",
            "process[0].depends_on[0]",
        ),
        (
            "[[process]]\nname = \"a\"\npattern = \"a\"\ndepends_on = [\"b\"]\n[[process]]\nname = \"b\"\npattern = \"b\"\ndepends_on = [\"a\"]\n",
            ":2:",
            "dependency cycle",
        ),
        (
            "[[process]]\nname = \"a\"\npid_file = \"a.pid\"\nready = \"ftp://x\"\n",
            ":4:",
            "process[0].ready",
        ),
        ("[settings]\nlog_dir = \"x\"\n", ":2:", "log_dir"),
    ];
    for (text, line, key) in cases {
        w.write("gracefulctl.toml", text);
        let out = w.ctl().arg("status").output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = stderr(&out);
        let file = w.manifest_path().display().to_string();
        assert!(err.contains(&format!("{file}{line}")), "{err}");
        assert!(err.contains(key), "{err}");
    }
    let out = ctl_bare()
        .arg("--config")
        .arg(w.path("nope.toml"))
        .arg("status")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("nope.toml: cannot read the manifest"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn restart_dry_run_prints_both_plans_and_touches_nothing() {
    let mut w = World::new();
    start_manifest(&w);
    let db = w.graceful("db", "0");
    let out = w
        .ctl()
        .args(["restart", "--dry-run"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("1. web: not running"), "{text}");
    assert!(text.contains(&format!("3. db: PID {db} ")), "{text}");
    assert!(
        text.contains("then start, in order:\n1. db: run `exec sh"),
        "{text}"
    );
    assert!(alive(db));
    assert!(w.order().is_empty());
    assert!(!w.path("logs").exists());
}

#[test]
fn the_default_manifest_is_not_the_services_config_file() {
    let mut w = World::new();
    // A service's own configuration file, named as the service expects it.
    w.write(
        "graceful.toml",
        "timeout = \"30s\"\n\n[admin]\naddr = \"127.0.0.1:9090\"\n",
    );
    // Without --config, gracefulctl reads gracefulctl.toml, never graceful.toml.
    let out = ctl_bare()
        .current_dir(w.dir.path())
        .arg("status")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("gracefulctl.toml: cannot read the manifest"),
        "{}",
        stderr(&out)
    );
    // Pointed at the service's file, it says what the file is and what it reads instead.
    let out = ctl_bare()
        .arg("--config")
        .arg(w.path("graceful.toml"))
        .arg("status")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("graceful.toml:1:")
            && err.contains("not a gracefulctl manifest")
            && err.contains("gracefulctl.toml"),
        "{err}"
    );
    // The default name works.
    w.manifest("[[process]]\nname = \"web\"\npid_file = \"web.pid\"\n");
    w.graceful("web", "0");
    let out = ctl_bare()
        .current_dir(w.dir.path())
        .arg("status")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn wait_until_stopped_and_until_ready() {
    let mut w = World::new();
    w.manifest(
        "[[process]]\nname = \"web\"\npid_file = \"web.pid\"\n\n[[process]]\nname = \"bot\"\npid_file = \"bot.pid\"\n",
    );
    let web = w.graceful("web", "0");
    w.graceful("bot", "0");

    // Ready now.
    let out = w
        .ctl()
        .args(["wait", "web", "bot", "--until", "ready", "--timeout", "5s"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("web: ready"), "{}", stdout(&out));

    // Not stopped: the timeout passes, exit 1, naming the process.
    let out = w
        .ctl()
        .args(["wait", "web", "--until", "stopped", "--timeout", "300ms"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("web: not stopped after 300ms: still running"),
        "{}",
        stdout(&out)
    );

    // Stopped once it has stopped: a wait started before the stop returns after it.
    let waiter = std::thread::spawn({
        let mut cmd = w.ctl();
        cmd.args(["wait", "web", "--until", "stopped", "--timeout", "60s"]);
        move || cmd.output().expect("run")
    });
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(web),
        nix::sys::signal::Signal::SIGTERM,
    );
    w.reap(web);
    let out = waiter.join().expect("waiter");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("web: stopped"), "{}", stdout(&out));

    // An unknown name is a usage error.
    let out = w
        .ctl()
        .args(["wait", "nope", "--until", "ready", "--timeout", "1s"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
