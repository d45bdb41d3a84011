//! Child processes as resources: real shell-script children, a real SIGTERM to the service.

mod common;
#[path = "../fixtures/integrations_support.rs"]
mod support;

use std::sync::{Arc, Mutex};

use graceful::process::ChildProcess;
use graceful::{Close, Graceful};
use nix::sys::signal::Signal;
use support::{Fixture, live_members};

/// Three children: `low` (priority 10) and `mid` (20) trap SIGTERM and exit after 200 ms;
/// `stubborn` (30) ignores SIGTERM. They stop in ascending priority; `stubborn` is SIGKILLed
/// after its 1 s deadline; nothing of any of their process groups survives.
#[test]
fn children_stop_in_priority_order_and_the_stubborn_one_is_killed() {
    let tmp = common::temp_dir();
    let dir = tmp.path();
    let log = dir.join("children.log");
    let scripts = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/scripts");
    let mut f = Fixture::start(["children", scripts, log.to_str().expect("utf-8 path")]);
    let mut groups = Vec::new();
    for name in ["low", "mid", "stubborn"] {
        let line = f.wait_for(&format!("pgid {name} "));
        groups.push((
            name,
            line.rsplit(' ')
                .next()
                .and_then(|p| p.parse::<i32>().ok())
                .expect("pgid"),
        ));
    }
    f.wait_for("ready");
    // Every script logs `started` before its loop; wait for all three so none misses the signal.
    for _ in 0..500 {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.lines().filter(|l| l.ends_with(" started")).count() == 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    f.signal(Signal::SIGTERM);
    let done = f.finish();
    let out = done.output();
    // A child that had to be killed is a failed close: the shutdown completed with errors.
    assert_eq!(
        done.status.code(),
        Some(i32::from(graceful::exit::COMPLETED_WITH_ERRORS)),
        "exit status {:?}\n{out}",
        done.status
    );

    // Order: low stops completely before mid receives its signal; stubborn never logs a term.
    let text = std::fs::read_to_string(&log).expect("log");
    let events: Vec<&str> = text.lines().filter(|l| !l.ends_with(" started")).collect();
    assert_eq!(
        events,
        ["low term", "low exit", "mid term", "mid exit"],
        "log:\n{text}"
    );

    let report = done.report();
    let resources = report["resources"].as_array().expect("resources");
    let names: Vec<&str> = resources
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["low", "mid", "stubborn"], "{report:#}");
    let at = |name: &str, field: &str| {
        resources
            .iter()
            .find(|r| r["name"] == name)
            .and_then(|r| r[field].as_f64())
            .expect("time")
    };
    assert!(at("low", "finished") <= at("mid", "started"), "{report:#}");
    assert!(
        at("mid", "finished") <= at("stubborn", "started"),
        "{report:#}"
    );
    let stubborn = resources
        .iter()
        .find(|r| r["name"] == "stubborn")
        .expect("stubborn");
    let detail = stubborn["outcome"]["detail"].as_str().unwrap_or_default();
    assert_eq!(stubborn["outcome"]["status"], "failed", "{report:#}");
    assert!(detail.contains("killed with SIGKILL"), "{detail}");

    // Exit statuses are recorded: 0 for the two that trapped SIGTERM, signal 9 for stubborn.
    assert!(
        out.contains("child-exit low Some(ExitStatus(unix_wait_status(0)))"),
        "{out}"
    );
    assert!(
        out.contains("child-exit mid Some(ExitStatus(unix_wait_status(0)))"),
        "{out}"
    );
    assert!(
        out.contains("child-exit stubborn Some(ExitStatus(unix_wait_status(9)))"),
        "{out}"
    );

    // No orphan: every process of the three groups (including each script's `sleep 300`) is gone.
    for (name, pgid) in groups {
        let left = live_members(pgid);
        assert!(
            left.is_empty(),
            "process group of {name} ({pgid}) still has {left:?}"
        );
    }
}

/// What a child prints reaches `tracing`, with the child's name.
#[tokio::test]
async fn output_is_forwarded_to_tracing_with_the_childs_name() {
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg("echo hello from the child; echo oops >&2");
    let child = ChildProcess::<()>::spawn("greeter", cmd).expect("spawn");
    let status = child.wait().await.expect("wait");
    assert!(status.success());
    // The forwarding tasks read until EOF; give them a bounded moment.
    for _ in 0..200 {
        let text = String::from_utf8_lossy(&buf.0.lock().expect("lock")).into_owned();
        if text.contains("hello from the child") && text.contains("oops") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let text = String::from_utf8_lossy(&buf.0.lock().expect("lock")).into_owned();
    assert!(
        text.contains("child=greeter") && text.contains("hello from the child"),
        "{text}"
    );
    assert!(
        text.contains("stream=\"stderr\"") || text.contains("stream=stderr"),
        "{text}"
    );
    child
        .close()
        .await
        .expect("closing an exited child is fine");
}

/// The engine closes a child like any resource and records its exit status.
#[tokio::test]
async fn a_child_resource_is_stopped_by_the_engine() {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg("trap 'exit 3' TERM; while :; do sleep 0.05; done");
    let outcome = Graceful::builder()
        .signals([])
        .resource(ChildProcess::<()>::resource("worker", 10, cmd).into_resource())
        .build()
        .expect("config")
        .run(|shutdown| async move {
            let child = shutdown
                .resources()
                .get::<ChildProcess>()
                .expect("registered");
            assert!(child.exit_status().is_none());
        })
        .await;
    assert!(
        outcome.report.errors().is_empty(),
        "{:?}",
        outcome.report.errors()
    );
}
