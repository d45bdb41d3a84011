//! The examples a user copies from, run as real processes with real signals: they must do
//! what their docs say.

mod common;

use common::{Proc, example_bin};
use nix::sys::signal::Signal;

#[test]
fn quickstart_prints_each_phase_closes_by_priority_and_exits_0_on_sigterm() {
    let mut p = Proc::start(example_bin("quickstart"), &[], &[]);
    p.wait_for(|l| l.starts_with("ready"));
    p.signal(Signal::SIGTERM);
    let status = p.wait();
    assert_eq!(status.code(), Some(0), "stderr: {:?}", p.stderr());
    for phase in [
        "initiated",
        "stopping_new_requests",
        "draining_connections",
        "saving_state",
        "closing_resources",
    ] {
        p.pos(&format!("phase: {phase}"));
    }
    let worker = p
        .stdout()
        .iter()
        .position(|l| l.starts_with("worker: stopped"))
        .expect("worker stopped");
    let cache = p.pos("cache: persisted 42 entries");
    let metrics = p.pos("metrics: flushed");
    let db = p.pos("database: disconnected from postgres://127.0.0.1/app");
    assert!(
        worker < p.pos("phase: saving_state"),
        "the drain waited for the worker"
    );
    assert!(
        cache < db && metrics < db,
        "priority 50 closes before priority 100"
    );
    // The subscriber the example installs (`init = logging`, before the resources are built)
    // shows the engine's own log lines on stderr, the start-up lines included.
    let stderr = p.stderr().join("\n");
    assert!(
        stderr.contains("INFO") && stderr.contains("closing_resources"),
        "the engine's tracing events reach stderr: {stderr}"
    );
    let plain = without_colours(&stderr);
    for resource in ["database", "cache", "metrics"] {
        assert!(
            plain.contains(&format!("resource built resource={resource}")),
            "the start-up line of `{resource}` reaches stderr: {plain}"
        );
    }
    assert!(
        plain.contains("started resources=3"),
        "the engine says it started: {plain}"
    );
}

/// `text` without its ANSI colour sequences (`ESC [ … m`), as the example's subscriber writes
/// them even into a pipe.
fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn quickstart_second_ctrl_c_exits_130() {
    let mut p = Proc::start(example_bin("quickstart"), &[], &[]);
    p.wait_for(|l| l.starts_with("ready"));
    p.signal(Signal::SIGINT);
    p.wait_line("phase: initiated");
    p.signal(Signal::SIGINT);
    let status = p.wait();
    // Either the second signal arrived while stopping (130), or the shutdown had already
    // completed (0): both are correct; the first is what a person pressing twice sees.
    assert!(
        matches!(status.code(), Some(130) | Some(0)),
        "{status:?} {:?}",
        p.stderr()
    );
}

#[test]
fn failing_startup_closes_what_was_built_and_names_the_constructor() {
    let mut p = Proc::start(example_bin("failing_startup"), &[], &[]);
    let status = p.wait();
    assert_eq!(
        status.code(),
        Some(i32::from(graceful::exit::STARTUP_FAILED))
    );
    let stderr = p.stderr().join("\n");
    assert!(
        stderr.contains("resource `broker` (examples/failing_startup.rs:"),
        "{stderr}"
    );
    assert!(stderr.contains("connection refused"), "{stderr}");
    assert!(
        p.stdout().iter().any(|l| l == "database: closed"),
        "{:?}",
        p.stdout()
    );
    assert!(
        !p.stdout().iter().any(|l| l.starts_with("main:")),
        "main never ran"
    );
}

#[test]
fn hung_resource_is_forced_with_exit_124_and_named() {
    let mut p = Proc::start(example_bin("hung_resource"), &[], &[]);
    p.wait_for(|l| l.starts_with("ready"));
    p.signal(Signal::SIGINT);
    let status = p.wait();
    assert_eq!(status.code(), Some(i32::from(graceful::exit::FORCED)));
    assert!(
        p.stdout().iter().any(|l| l == "database: closed"),
        "the next class still closed"
    );
    let stderr = p.stderr().join("\n");
    assert!(
        stderr.contains("`stuck_client` did not close in time"),
        "{stderr}"
    );
}

#[test]
fn builder_example_stops_on_sigint() {
    let mut p = Proc::start(example_bin("builder"), &[], &[]);
    p.wait_for(|l| l.starts_with("ready"));
    p.signal(Signal::SIGINT);
    let status = p.wait();
    assert_eq!(status.code(), Some(0), "{:?}", p.stderr());
    assert!(p.pos("queue: closed") < p.pos("database: closed"));
}

#[cfg(all(
    feature = "upgrade",
    feature = "axum",
    feature = "admin",
    feature = "state"
))]
#[test]
fn upgrade_example_hands_over_the_socket_and_the_hit_count_on_sigusr2() {
    use std::io::{Read, Write};
    let state = common::temp_dir();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let admin = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let admin_addr = admin.local_addr().expect("addr").to_string();
    drop(admin);
    let get = || {
        let mut s = std::net::TcpStream::connect(addr).expect("served");
        s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .expect("write");
        let mut r = String::new();
        s.read_to_string(&mut r).expect("read");
        r.rsplit("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    let mut p = Proc::start(
        example_bin("upgrade"),
        &[],
        &[
            ("APP_ADDR", &addr.to_string()),
            ("GRACEFUL_ADMIN_ADDR", &admin_addr),
            ("SHUTDOWN_STATE_DIR", state.path().to_str().expect("utf-8")),
        ],
    );
    let first = p.wait_for(|l| l.starts_with("version 1, pid "));
    let old: i32 = first
        .split([' ', ','])
        .nth(4)
        .and_then(|s| s.parse().ok())
        .expect("pid");
    assert!(get().ends_with("hit 1"));
    p.signal(nix::sys::signal::Signal::SIGUSR2);
    let line =
        p.wait_for(|l| l.starts_with("version 1, pid ") && !l.contains(&format!("pid {old},")));
    let successor = line.split([' ', ',']).nth(4).expect("pid").to_string();
    p.wait_line(&format!("pid {old} stopped: upgrade → pid {successor}"));
    assert!(p.wait().success(), "the old process exits 0");
    let answer = get();
    assert!(!answer.contains(&format!("pid {old},")), "{answer}");
    assert!(
        answer.ends_with("hit 2"),
        "the count was handed over: {answer}"
    );
    let new: i32 = answer
        .split([' ', ','])
        .nth(4)
        .and_then(|s| s.parse().ok())
        .expect("pid");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(new),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM");
}
