//! The engine, tested through a real child process (`graceful-fixture`) and real signals.
//! No assertion depends on how fast this machine is: order comes from printed lines and the
//! report; time bounds are only guards against hangs.

mod common;

use common::{Proc, read_report, temp_dir};
use nix::sys::signal::Signal;

const FIXTURE: &str = env!("CARGO_BIN_EXE_graceful-fixture");

/// The entry of `list` (`"resources"`, `"hooks"`) named `name`.
fn find(report: &serde_json::Value, list: &str, name: &str) -> serde_json::Value {
    report[list]
        .as_array()
        .and_then(|l| l.iter().find(|r| r["name"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("no {list} entry `{name}` in {report}"))
}

/// The record of `name` in the report's phases.
fn phase(report: &serde_json::Value, name: &str) -> serde_json::Value {
    report["phases"]
        .as_array()
        .and_then(|l| l.iter().find(|p| p["phase"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("no phase `{name}` in {report}"))
}

fn start(scenario: &str, state: &std::path::Path) -> Proc {
    start_with(scenario, state, &[])
}

fn start_with(scenario: &str, state: &std::path::Path, env: &[(&str, &str)]) -> Proc {
    let mut all = vec![("SHUTDOWN_STATE_DIR", state.to_str().expect("utf8"))];
    all.extend_from_slice(env);
    Proc::start(FIXTURE, &[scenario], &all)
}

#[test]
fn sigterm_closes_by_priority_and_equal_priorities_concurrently() {
    let dir = temp_dir();
    let mut p = start("order", dir.path());
    p.wait_line("ready");
    p.signal(Signal::SIGTERM);
    let status = p.wait();
    assert_eq!(status.code(), Some(0), "stderr: {:?}", p.stderr());
    let end_http = p.pos("close-end http");
    let (start_cache, end_cache) = (p.pos("close-start cache"), p.pos("close-end cache"));
    let (start_queue, end_queue) = (p.pos("close-start queue"), p.pos("close-end queue"));
    let start_db = p.pos("close-start db");
    assert!(
        end_http < start_cache && end_http < start_queue,
        "priority 10 closes first"
    );
    assert!(
        start_cache < end_queue && start_queue < end_cache,
        "equal priority overlaps: {:?}",
        p.stdout()
    );
    assert!(
        end_cache < start_db && end_queue < start_db,
        "priority 100 closes last"
    );
    let report = read_report(dir.path());
    assert_eq!(report["result"], "completed");
    assert_eq!(report["reason"]["kind"], "signal");
    assert_eq!(report["reason"]["signal"], "Term");
    let phases: Vec<&str> = report["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .filter_map(|p| p["phase"].as_str())
        .collect();
    assert_eq!(
        phases,
        [
            "initiated",
            "stopping_new_requests",
            "draining_connections",
            "saving_state",
            "closing_resources",
            "flushing_buffers"
        ]
    );
}

#[test]
fn hung_close_is_forced_the_next_class_closes_and_the_process_exits_before_timeout() {
    let dir = temp_dir();
    let mut p = start("hung", dir.path());
    p.wait_line("ready");
    p.signal(Signal::SIGTERM);
    let status = p.wait();
    assert_eq!(
        status.code(),
        Some(i32::from(graceful::exit::FORCED)),
        "stderr: {:?}",
        p.stderr()
    );
    assert!(
        p.stdout().iter().any(|l| l == "close-end db"),
        "the next class still closed"
    );
    let report = read_report(dir.path());
    assert_eq!(report["result"], "forced");
    let hung = report["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["name"] == "hung")
        .expect("hung");
    assert_eq!(hung["outcome"]["status"], "timed_out");
    assert_eq!(
        phase(&report, "closing_resources")["within_deadline"],
        false,
        "a timed-out close is a missed deadline of its phase: {report}"
    );
    // The engine's own clock, not this machine's speed: the shutdown ended within `timeout` (6s).
    assert!(report["total"].as_f64().expect("total") < 6.0, "{report}");
    assert!(
        p.stderr()
            .iter()
            .any(|l| l.contains("`hung` did not close in time")),
        "{:?}",
        p.stderr()
    );
}

#[test]
fn a_close_that_blocks_the_runtime_is_ended_by_the_watchdog_which_names_it_and_writes_the_report() {
    for door in ["", "raw:"] {
        let dir = temp_dir();
        let mut p = start(&format!("{door}hung-blocking"), dir.path());
        p.wait_line("ready");
        p.signal(Signal::SIGTERM);
        let status = p.wait();
        assert_eq!(
            status.code(),
            Some(i32::from(graceful::exit::FORCED)),
            "{door} {:?}",
            p.stderr()
        );
        assert!(p.stdout().iter().any(|l| l == "close-start stuck"));
        let stderr = p.stderr().join("\n");
        assert!(
            stderr.contains(
                "overall shutdown timeout (3s) expired; held by resource `stuck` (closing for"
            ),
            "{door}: the culprit is named: {stderr}"
        );
        assert!(
            stderr.contains("phase closing_resources"),
            "pending work is named: {stderr}"
        );
        let report = read_report(dir.path());
        assert_eq!(report["result"], "forced", "{report}");
        assert_eq!(
            find(&report, "resources", "stuck")["outcome"]["status"],
            "timed_out"
        );
        assert!(
            report["abandoned"][0]
                .as_str()
                .is_some_and(|a| a.starts_with("resource `stuck`")),
            "{report}"
        );
        assert_eq!(
            phase(&report, "closing_resources")["within_deadline"],
            false,
            "{report}"
        );
        assert_eq!(report["main"]["status"], "ok", "{report}");
    }
}

#[test]
fn a_stuck_blocking_task_does_not_keep_the_process_alive_on_any_door() {
    for door in ["", "builder:", "raw:"] {
        let dir = temp_dir();
        let mut p = start(&format!("{door}blocking-task"), dir.path());
        p.wait_line("ready");
        p.signal(Signal::SIGTERM);
        let status = p.wait();
        assert_eq!(status.code(), Some(0), "{door} {:?}", p.stderr());
        assert!(p.stdout().iter().any(|l| l == "close-end db"), "{door}");
        let report = read_report(dir.path());
        assert_eq!(report["result"], "completed", "{door} {report}");
        if door == "raw:" {
            // The program's own runtime could not stop: the watchdog ended the process with
            // the report's code.
            assert!(p.stdout().iter().any(|l| l == "report printed"));
            let stderr = p.stderr().join("\n");
            assert!(
                stderr.contains("the shutdown finished (completed) but the process was still running at the overall deadline (3s)")
                    && stderr.contains("exiting with 0"),
                "{stderr}"
            );
        }
    }
}

#[test]
fn a_close_that_blocks_a_worker_thread_ends_the_process_with_124_on_every_door() {
    for door in ["", "builder:", "raw:"] {
        let dir = temp_dir();
        let mut p = start(&format!("{door}hung-worker"), dir.path());
        p.wait_line("ready");
        p.signal(Signal::SIGTERM);
        let status = p.wait();
        assert_eq!(
            status.code(),
            Some(i32::from(graceful::exit::FORCED)),
            "{door} {:?}",
            p.stderr()
        );
        let report = read_report(dir.path());
        assert_eq!(report["result"], "forced", "{door} {report}");
        assert_eq!(
            find(&report, "resources", "stuck")["outcome"]["status"],
            "timed_out"
        );
        let stderr = p.stderr().join("\n");
        if door == "raw:" {
            // The program's own runtime could not stop: the watchdog ended the process.
            assert!(
                stderr.contains("the shutdown finished (forced) but the process was still running")
                    && stderr.contains("exiting with 124"),
                "{stderr}"
            );
        } else {
            assert!(
                stderr.contains("`stuck` did not close in time"),
                "{door} {stderr}"
            );
        }
    }
}

#[test]
fn fail_runs_an_orderly_shutdown_and_exits_69_on_both_doors() {
    for door in ["", "builder:", "raw:"] {
        let dir = temp_dir();
        let mut p = start(&format!("{door}fail"), dir.path());
        let status = p.wait();
        assert_eq!(
            status.code(),
            Some(i32::from(graceful::exit::FAILED)),
            "{door} {:?}",
            p.stderr()
        );
        assert!(p.stdout().iter().any(|l| l == "close-end db"), "{door}");
        let report = read_report(dir.path());
        assert_eq!(report["result"], "completed");
        assert_eq!(report["reason"]["kind"], "resource_failed");
        if door != "raw:" {
            let stderr = p.stderr().join("\n");
            assert!(
                stderr.contains("graceful: shutdown failed in ")
                    && !stderr.contains("completed with errors")
                    && stderr.contains("resource `queue` failed: connection lost")
                    && stderr.contains("exiting with 69"),
                "{door}: {stderr}"
            );
        }
    }
}

#[test]
fn erroring_and_panicking_closes_are_reported_by_name_the_rest_close_and_the_exit_is_74() {
    for door in ["", "builder:"] {
        let dir = temp_dir();
        let mut p = start(&format!("{door}close-errors"), dir.path());
        p.wait_line("ready");
        p.signal(Signal::SIGTERM);
        let status = p.wait();
        assert_eq!(
            status.code(),
            Some(i32::from(graceful::exit::COMPLETED_WITH_ERRORS)),
            "deadlines were met, but closes failed: {door} {:?}",
            p.stderr()
        );
        assert!(p.stdout().iter().any(|l| l == "close-end db"));
        let report = read_report(dir.path());
        assert_eq!(report["result"], "completed");
        let find = |n: &str| find(&report, "resources", n);
        assert_eq!(find("failing")["outcome"]["status"], "failed");
        assert_eq!(
            find("failing")["outcome"]["detail"],
            "flush failed: disk full"
        );
        assert_eq!(find("panicking")["outcome"]["status"], "panicked");
        assert_eq!(find("panicking")["outcome"]["detail"], "close exploded");
        assert_eq!(find("db")["outcome"]["status"], "closed");
        let stderr = p.stderr().join("\n");
        assert!(
            stderr.contains("graceful: shutdown completed with errors in ")
                && stderr.contains("exiting with 74")
                && stderr.contains("resource `failing` failed to close: flush failed: disk full")
                && stderr.contains("resource `panicking` panicked while closing: close exploded"),
            "{door}: {stderr}"
        );
    }
}

/// A person pressing again, later than the repeat window after the first signal (which the
/// process saw before it printed `close-start`): the second signal ends the process at once
/// with 128 + its number, and what was pending is logged.
fn a_second_signal_after_the_window_exits_at_once(signal: Signal, code: i32) {
    let dir = temp_dir();
    let mut p = start_with(
        "slow",
        dir.path(),
        &[("SHUTDOWN_SIGNAL_REPEAT_WINDOW", "100ms")],
    );
    p.wait_line("ready");
    p.signal(signal);
    p.wait_line("close-start slow");
    std::thread::sleep(std::time::Duration::from_millis(300));
    p.signal(signal);
    let status = p.wait();
    assert_eq!(status.code(), Some(code), "stderr: {:?}", p.stderr());
    let stderr = p.stderr().join("\n");
    assert!(
        stderr.contains(&format!("second signal {signal} during shutdown")),
        "{stderr}"
    );
    assert!(
        stderr.contains("resources closed 0/1"),
        "what was pending is logged: {stderr}"
    );
}

#[test]
fn a_second_sigint_during_a_slow_shutdown_exits_at_once_with_130() {
    a_second_signal_after_the_window_exits_at_once(Signal::SIGINT, 130);
}

#[test]
fn a_copy_of_the_first_sigterm_is_the_same_request_and_the_shutdown_completes() {
    // A process-group SIGTERM plus the copy a forwarding wrapper sends. The window is wide so
    // that the copy lands in it however slow this machine is.
    for back_to_back in [true, false] {
        let dir = temp_dir();
        let mut p = start_with(
            "order",
            dir.path(),
            &[("SHUTDOWN_SIGNAL_REPEAT_WINDOW", "30s")],
        );
        p.wait_line("ready");
        p.signal(Signal::SIGTERM);
        if !back_to_back {
            // The copy arrives while the shutdown already runs.
            p.wait_line("phase initiated");
        }
        p.signal(Signal::SIGTERM);
        let status = p.wait();
        assert_eq!(status.code(), Some(0), "stderr: {:?}", p.stderr());
        let report = read_report(dir.path());
        assert_eq!(report["result"], "completed", "{report}");
        let closed: Vec<&str> = report["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .filter(|r| r["outcome"]["status"] == "closed")
            .filter_map(|r| r["name"].as_str())
            .collect();
        assert_eq!(closed.len(), 4, "every resource closed: {report}");
    }
}

/// Two configured names that stand for one OS signal (`CTRL_BREAK` is SIGINT on Unix) are one
/// listener: a single SIGINT is one request, a graceful shutdown, on every door. The repeat
/// window is zero, so no copy filter can hide a second delivery.
#[test]
fn names_of_one_os_signal_are_one_request_a_single_sigint_completes_on_every_door() {
    for signals in ["SIGINT,CTRL_BREAK", "CTRL_BREAK,SIGINT,CTRL_CLOSE,SIGTERM"] {
        for door in ["", "builder:"] {
            let dir = temp_dir();
            let mut p = start_with(
                &format!("{door}order"),
                dir.path(),
                &[
                    ("SHUTDOWN_SIGNALS", signals),
                    ("SHUTDOWN_SIGNAL_REPEAT_WINDOW", "0"),
                ],
            );
            p.wait_line("ready");
            p.signal(Signal::SIGINT);
            let status = p.wait();
            assert_eq!(
                status.code(),
                Some(0),
                "{signals} through {door:?}: stderr: {:?}",
                p.stderr()
            );
            let report = read_report(dir.path());
            assert_eq!(
                report["result"], "completed",
                "{signals} {door:?}: {report}"
            );
            assert_eq!(report["reason"]["signal"], "Int", "{report}");
            assert_eq!(
                phase(&report, "closing_resources")["within_deadline"],
                true,
                "{report}"
            );
        }
    }
}

/// The default list (SIGTERM, SIGINT, SIGHUP), zero repeat window: one SIGINT and one SIGTERM
/// are each one request.
#[test]
fn with_the_default_signals_one_signal_is_one_request() {
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        let dir = temp_dir();
        let mut p = start_with(
            "order",
            dir.path(),
            &[("SHUTDOWN_SIGNAL_REPEAT_WINDOW", "0")],
        );
        p.wait_line("ready");
        p.signal(signal);
        let status = p.wait();
        assert_eq!(status.code(), Some(0), "{signal}: stderr: {:?}", p.stderr());
        assert_eq!(read_report(dir.path())["result"], "completed");
    }
}

#[test]
fn the_same_signal_after_the_repeat_window_is_a_second_signal_and_exits_143() {
    a_second_signal_after_the_window_exits_at_once(Signal::SIGTERM, 143);
}

#[test]
fn a_failing_tracked_task_is_named_and_starts_an_orderly_shutdown_that_exits_non_zero() {
    for (how, status, detail) in [
        ("panic", "panicked", "ingest exploded"),
        ("error", "failed", "\"lost the broker connection\""),
    ] {
        let dir = temp_dir();
        let mut p = start_with("task-fails", dir.path(), &[("FIXTURE_TASK", how)]);
        let exit = p.wait();
        assert_eq!(
            exit.code(),
            Some(i32::from(graceful::exit::FAILED)),
            "{how}: {:?}",
            p.stderr()
        );
        let report = read_report(dir.path());
        assert_eq!(report["reason"]["kind"], "task_failed", "{how}: {report}");
        assert_eq!(report["reason"]["task"], "ingest", "{report}");
        assert_eq!(report["tasks"][0]["name"], "ingest", "{report}");
        assert_eq!(report["tasks"][0]["outcome"]["status"], status, "{report}");
        assert_eq!(report["tasks"][0]["outcome"]["detail"], detail, "{report}");
        assert_eq!(report["tasks"][0]["fatal"], true, "{report}");
        assert_eq!(
            report["resources"][0]["outcome"]["status"], "closed",
            "an orderly shutdown: {report}"
        );
        assert!(p.stdout().iter().any(|l| l == "close-end db"));
    }
}

#[test]
fn a_task_spawned_non_fatal_is_recorded_and_the_service_goes_on() {
    let dir = temp_dir();
    let mut p = start_with("task-fails", dir.path(), &[("FIXTURE_TASK", "nonfatal")]);
    p.wait_line("task-done");
    p.signal(Signal::SIGTERM);
    let exit = p.wait();
    assert_eq!(exit.code(), Some(0), "{:?}", p.stderr());
    let report = read_report(dir.path());
    assert_eq!(report["reason"]["kind"], "signal", "{report}");
    assert_eq!(report["tasks"][0]["name"], "ingest", "{report}");
    assert_eq!(report["tasks"][0]["fatal"], false, "{report}");
}

#[test]
fn a_forced_shutdown_still_runs_the_state_save_and_skips_the_closes() {
    let dir = temp_dir();
    let mut p = start("forced-save", dir.path());
    p.wait_line("ready");
    p.send_line("force");
    let exit = p.wait();
    assert_eq!(
        exit.code(),
        Some(i32::from(graceful::exit::FORCED)),
        "{:?}",
        p.stderr()
    );
    assert!(p.stdout().iter().any(|l| l == "saved"), "{:?}", p.stdout());
    let report = read_report(dir.path());
    assert_eq!(report["hooks"][0]["name"], "save jobs", "{report}");
    assert_eq!(
        report["hooks"][0]["outcome"]["status"], "closed",
        "{report}"
    );
    assert_eq!(
        report["resources"][0]["outcome"]["status"], "skipped",
        "{report}"
    );
    assert!(
        !p.stdout().iter().any(|l| l == "close-start db"),
        "closes are skipped"
    );
    // It says what happened: forced, not a drain deadline that never expired, and the task it
    // names is not counted a second time as an anonymous unit of work.
    assert_eq!(report["deadlines"], serde_json::json!([]), "{report}");
    let stderr = p.stderr().join("\n");
    assert!(
        stderr.contains("abandoned: the shutdown was forced: stuck"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("drain deadline") && !stderr.contains("tracked unit"),
        "{stderr}"
    );
}

#[test]
fn a_failing_constructor_closes_only_what_was_built_and_names_file_and_line() {
    let dir = temp_dir();
    let mut p = start("failing-startup", dir.path());
    let status = p.wait();
    assert_eq!(
        status.code(),
        Some(i32::from(graceful::exit::STARTUP_FAILED))
    );
    let stderr = p.stderr().join("\n");
    assert!(
        stderr.contains("resource `cache` (tests-integration/fixtures/core.rs:")
            && stderr.contains("failed to start: connection refused"),
        "{stderr}"
    );
    let out = p.stdout();
    assert!(
        out.iter().any(|l| l == "close-end db"),
        "db was built, so it is closed: {out:?}"
    );
    assert!(
        !out.iter().any(|l| l.contains("queue")),
        "queue was never built: {out:?}"
    );
    assert!(!out.iter().any(|l| l == "ready"), "main never ran");
}

#[test]
fn main_returning_an_error_still_closes_resources_prints_it_once_and_exits_1() {
    for door in ["", "builder:"] {
        let dir = temp_dir();
        let mut p = start(&format!("{door}main-error"), dir.path());
        let status = p.wait();
        assert_eq!(status.code(), Some(1), "{door}");
        assert!(p.stdout().iter().any(|l| l == "close-end db"));
        let report = read_report(dir.path());
        assert_eq!(report["main"]["status"], "error");
        assert_eq!(report["main"]["detail"], "\"main gave up\"");
        assert_eq!(report["reason"]["kind"], "main_failed");
        // As Rust's own `fn main() -> Result` prints it, with no tracing subscriber installed.
        let stderr = p.stderr();
        let printed: Vec<_> = stderr
            .iter()
            .filter(|l| l.contains("main gave up"))
            .collect();
        assert_eq!(printed, ["Error: \"main gave up\""], "{door}: {stderr:?}");
    }
}

#[test]
fn a_failed_start_up_is_printed_once() {
    for door in ["", "builder:"] {
        let dir = temp_dir();
        let mut p = start(&format!("{door}failing-startup"), dir.path());
        let status = p.wait();
        assert_eq!(
            status.code(),
            Some(i32::from(graceful::exit::STARTUP_FAILED))
        );
        let stderr = p.stderr();
        let printed: Vec<_> = stderr
            .iter()
            .filter(|l| l.contains("connection refused"))
            .collect();
        assert_eq!(printed.len(), 1, "{door}: {stderr:?}");
        assert!(
            printed[0].starts_with("graceful: start-up failed: resource `cache`"),
            "{printed:?}"
        );
    }
}

#[test]
fn sigterm_trigger_and_main_returning_at_once_give_one_shutdown() {
    for _ in 0..5 {
        let dir = temp_dir();
        let mut p = start("race", dir.path());
        p.wait_line("ready");
        p.send_line("go");
        p.signal(Signal::SIGTERM);
        let status = p.wait();
        assert_eq!(
            status.code(),
            Some(0),
            "a first SIGTERM during a shutdown started by trigger() does not cut it short: {:?}",
            p.stderr()
        );
        let initiated = p
            .stdout()
            .iter()
            .filter(|l| *l == "phase initiated")
            .count();
        assert!(initiated <= 1, "one shutdown: {:?}", p.stdout());
        let report = read_report(dir.path());
        assert_eq!(
            report["phases"].as_array().expect("phases").len(),
            6,
            "one walk through the phases"
        );
        assert_eq!(report["result"], "completed");
    }
}

#[test]
fn drain_waits_for_guards_and_ends_when_the_last_one_drops() {
    let dir = temp_dir();
    let mut p = start("drain", dir.path());
    p.wait_line("ready");
    p.signal(Signal::SIGTERM);
    p.wait_line("phase draining_connections");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        !p.poll().iter().any(|l| l == "phase saving_state"),
        "the drain must wait for the three guards: {:?}",
        p.stdout()
    );
    p.send_line("release");
    let status = p.wait();
    assert_eq!(status.code(), Some(0), "stderr: {:?}", p.stderr());
    let report = read_report(dir.path());
    assert_eq!(report["result"], "completed");
    let drain = report["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .find(|p| p["phase"] == "draining_connections")
        .cloned()
        .expect("drain");
    assert_eq!(
        drain["within_deadline"], true,
        "ended by the last guard, not the 5s deadline"
    );
}

#[test]
fn with_wait_for_connections_false_the_drain_does_not_wait_for_guards() {
    let dir = temp_dir();
    let mut p = Proc::start(
        FIXTURE,
        &["drain"],
        &[
            ("SHUTDOWN_STATE_DIR", dir.path().to_str().expect("utf8")),
            ("SHUTDOWN_WAIT_FOR_CONNECTIONS", "false"),
        ],
    );
    p.wait_line("ready");
    p.signal(Signal::SIGTERM);
    // The report is written when the engine's run ends. The three guards are still held
    // (nothing was sent on stdin), so a report that says `completed` means the drain went on
    // without them; with the default it would wait out `drain` and say `forced`.
    let report_path = dir.path().join("last-shutdown.json");
    let deadline = std::time::Instant::now() + common::HANG_GUARD;
    while !report_path.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "hang guard: no report; stdout {:?}",
            p.poll()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        !p.poll().iter().any(|l| l == "released"),
        "the guards were still held: {:?}",
        p.stdout()
    );
    let report = read_report(dir.path());
    assert_eq!(report["result"], "completed", "{report}");
    p.send_line("release");
    let status = p.wait();
    assert_eq!(status.code(), Some(0), "stderr: {:?}", p.stderr());
    assert!(
        report["abandoned"].as_array().is_some_and(|a| a
            .iter()
            .any(|x| x.as_str().is_some_and(|x| x.contains("tracked unit")))),
        "{report}"
    );
}

#[test]
fn resources_are_injected_and_dependents_close_first() {
    let dir = temp_dir();
    let mut p = start("di", dir.path());
    let status = p.wait();
    assert_eq!(status.code(), Some(0), "stderr: {:?}", p.stderr());
    assert!(p.stdout().iter().any(|l| l == "repo built with pool"));
    assert!(
        p.stdout().iter().any(|l| l == "get repo: true"),
        "graceful::get works under the entry"
    );
    assert!(p.pos("close-end repo") < p.pos("close-start pool"));
}

#[test]
fn a_priority_that_contradicts_a_dependency_is_a_startup_error_naming_both() {
    let dir = temp_dir();
    let mut p = start("di-contradiction", dir.path());
    let status = p.wait();
    assert_eq!(
        status.code(),
        Some(i32::from(graceful::exit::STARTUP_FAILED))
    );
    let stderr = p.stderr().join("\n");
    assert!(
        stderr.contains("`repo` (priority 50) depends on `pool` (priority 10)"),
        "{stderr}"
    );
    assert!(!p.stdout().iter().any(|l| l == "ready"));
}

#[test]
fn the_admin_argument_starts_the_admin_api_or_says_which_feature_it_needs() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let dir = temp_dir();
    let mut p = Proc::start(
        FIXTURE,
        &["admin-arg"],
        &[
            ("FIXTURE_ADMIN_ADDR", addr.as_str()),
            ("SHUTDOWN_STATE_DIR", dir.path().to_str().expect("utf8")),
        ],
    );
    if !cfg!(feature = "admin") {
        let status = p.wait();
        assert_eq!(status.code(), Some(i32::from(graceful::exit::CONFIG_ERROR)));
        let stderr = p.stderr().join("\n");
        assert!(
            stderr.contains("needs graceful's `admin` feature"),
            "{stderr}"
        );
        return;
    }
    p.wait_line("ready");
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(&addr).expect("admin listener accepts");
    conn.write_all(b"GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut answer = String::new();
    conn.read_to_string(&mut answer).expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    p.signal(Signal::SIGTERM);
    assert_eq!(p.wait().code(), Some(0), "{:?}", p.stderr());
}

#[test]
#[cfg(feature = "admin")]
fn the_admin_argument_lingers_when_configured_so_a_poller_reads_stopped() {
    use std::io::{Read, Write};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut p = Proc::start(
        FIXTURE,
        &["admin-arg"],
        &[
            ("FIXTURE_ADMIN_ADDR", addr.as_str()),
            ("GRACEFUL_ADMIN_LINGER", "60s"),
        ],
    );
    p.wait_line("ready");
    p.signal(Signal::SIGTERM);
    // The liveness route names the state without a key; after the shutdown has finished,
    // the macro path keeps it answering for the linger instead of exiting at once.
    let start = std::time::Instant::now();
    loop {
        let mut answer = String::new();
        let got = std::net::TcpStream::connect(&addr).and_then(|mut c| {
            c.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
            c.read_to_string(&mut answer)
        });
        assert!(
            got.is_ok(),
            "the admin API went away before answering STOPPED: {:?}",
            p.stderr()
        );
        if answer.contains("\"state\":\"STOPPED\"") {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "never STOPPED: {answer}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    p.signal(Signal::SIGKILL);
    let _ = p.wait();
}

/// `GET path` on 127.0.0.1 with plain TCP: the status code and the body.
#[cfg(feature = "admin")]
fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(addr).expect("admin listener accepts");
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut answer = String::new();
    conn.read_to_string(&mut answer).expect("read");
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

#[test]
#[cfg(feature = "admin")]
fn readiness_waits_for_start_up_and_for_the_programs_holds() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let dir = temp_dir();
    let mut p = start_with(
        "admin-readiness",
        dir.path(),
        &[("FIXTURE_ADMIN_ADDR", addr.as_str())],
    );
    p.wait_line("constructing db");
    let (status, body) = http_get(&addr, "/health/ready");
    assert_eq!(status, 503, "not ready while a constructor runs: {body}");
    assert!(body.contains("\"starting\""), "{body}");
    p.send_line("connected");
    p.wait_line("ready");
    let (status, body) = http_get(&addr, "/health/ready");
    assert_eq!(status, 503, "held down by main: {body}");
    assert!(body.contains("warming cache"), "the hold is named: {body}");
    p.send_line("warmed");
    p.wait_line("warmed");
    let (status, body) = http_get(&addr, "/health/ready");
    assert_eq!(status, 200, "{body}");
    p.signal(Signal::SIGTERM);
    assert_eq!(p.wait().code(), Some(0), "{:?}", p.stderr());
}

#[test]
fn report_svg_draws_the_hung_close_beside_the_report_on_every_door() {
    for door in ["", "builder:", "raw:"] {
        let dir = temp_dir();
        let mut p = start_with(
            &format!("{door}hung"),
            dir.path(),
            &[("SHUTDOWN_REPORT_SVG", "true")],
        );
        p.wait_line("ready");
        p.signal(Signal::SIGTERM);
        p.wait();
        let report = read_report(dir.path());
        assert_eq!(report["result"], "forced", "{door} {report}");
        // The timeline's fields: the drain, and each deadline set with whether it was met.
        assert!(report["drain"]["in_flight"].is_u64(), "{door} {report}");
        let class = report["limits"]
            .as_array()
            .and_then(|l| l.iter().find(|d| d["what"] == "close priority 50"))
            .unwrap_or_else(|| panic!("{door}: no deadline for the hung class in {report}"));
        assert_eq!(class["met"], false, "{door} {class}");
        let svg = std::fs::read_to_string(dir.path().join("last-shutdown.svg"))
            .unwrap_or_else(|e| panic!("{door}: no last-shutdown.svg: {e}"));
        let late = svg
            .split("<g ")
            .find(|g| g.starts_with("class=\"row close late\""))
            .unwrap_or_else(|| panic!("{door}: the hung close is not highlighted:\n{svg}"));
        assert!(late.contains("<title>p50 hung: "), "{door} {late}");
        // The picture is the report's own: the same file `gracefulctl timeline --svg` draws.
        let json = std::fs::read_to_string(dir.path().join("last-shutdown.json")).expect("json");
        let drawn = graceful::timeline::svg::render(
            &graceful::timeline::Timeline::from_json(&json).expect("reads"),
        );
        assert_eq!(svg, drawn, "{door}");
    }
}

#[test]
fn init_runs_before_the_resources_so_their_logs_and_the_start_up_lines_are_printed() {
    // `MainArgs::init` (what `#[graceful::main(init = …)]` writes) and `Entry::init`.
    for door in ["", "builder:"] {
        let dir = temp_dir();
        let mut p = start(&format!("{door}startup-logs"), dir.path());
        p.wait_line("ready");
        p.signal(Signal::SIGTERM);
        let status = p.wait();
        assert_eq!(status.code(), Some(0), "{door}: {:?}", p.stderr());
        let stderr = p.stderr();
        let at = |needle: &str| {
            stderr
                .iter()
                .position(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("{door}: no `{needle}` on stderr: {stderr:#?}"))
        };
        let constructor = at("connecting to the database");
        let built = at("resource built resource=db priority=100 took=");
        let started = at("graceful::startup: started resources=1");
        assert!(
            constructor < built && built < started,
            "{door}: {stderr:#?}"
        );
    }
}

#[test]
fn an_anyhow_error_from_main_gives_a_one_line_reason_and_one_error_block() {
    for door in ["", "builder:"] {
        let dir = temp_dir();
        let mut p = start_with(
            &format!("{door}main-anyhow-error"),
            dir.path(),
            &[("RUST_BACKTRACE", "1")],
        );
        let status = p.wait();
        assert_eq!(status.code(), Some(1), "{door}");
        let stderr = p.stderr();
        let trigger: Vec<_> = stderr
            .iter()
            .filter(|l| l.contains("shutdown requested"))
            .collect();
        assert_eq!(trigger.len(), 1, "{door}: {stderr:#?}");
        assert!(
            trigger[0].ends_with("reason=main failed: cannot reach the queue: connection refused"),
            "{door}: the trigger line holds the message chain only: {trigger:?}"
        );
        let backtraces = stderr
            .iter()
            .filter(|l| l.contains("Stack backtrace:"))
            .count();
        assert_eq!(
            backtraces, 1,
            "{door}: the backtrace is printed once, after `Error:`: {stderr:#?}"
        );
        assert!(
            stderr.iter().any(|l| l == "Error: cannot reach the queue"),
            "{door}: {stderr:#?}"
        );
    }
}
