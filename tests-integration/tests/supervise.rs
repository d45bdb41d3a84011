//! Supervised background tasks in a real process stopped by a real SIGTERM.

#[path = "../fixtures/integrations_support.rs"]
mod support;

use nix::sys::signal::Signal;
use support::Fixture;

/// `flaky` panics twice and is restarted with a doubling backoff, then stops cleanly at
/// shutdown; `stubborn` ignores cancellation and is aborted at its 500 ms deadline, and the
/// report names it.
#[test]
fn panics_are_restarted_with_backoff_and_a_stubborn_task_is_aborted_and_reported() {
    let mut f = Fixture::start(["supervise"]);
    f.wait_for("ready");
    f.signal(Signal::SIGTERM);
    let done = f.finish();
    let out = done.output();

    // Three runs; the gaps between them are at least the backoff (100 ms, then 200 ms).
    let runs: Vec<u64> = done
        .lines
        .iter()
        .filter_map(|l| l.strip_prefix("flaky-run "))
        .filter_map(|l| l.split(' ').nth(1)?.parse().ok())
        .collect();
    assert_eq!(runs.len(), 3, "{out}");
    assert!(runs[1] - runs[0] >= 100, "first backoff: {runs:?}");
    assert!(runs[2] - runs[1] >= 200, "second backoff: {runs:?}");
    assert!(
        done.has("flaky-stopped"),
        "flaky stops through its token:\n{out}"
    );

    // Progress showed each task's state and restarts while running.
    assert!(
        done.has("progress supervised flaky: running, 2 restart(s)"),
        "{out}"
    );
    assert!(
        done.has("progress supervised stubborn: running, 0 restart(s)"),
        "{out}"
    );

    let report = done.report();
    let hooks = report["hooks"].as_array().expect("hooks");
    let hook = |name: &str| {
        hooks
            .iter()
            .find(|h| h["name"] == name)
            .unwrap_or_else(|| panic!("no hook {name}: {report:#}"))
    };
    assert_eq!(
        hook("supervised flaky")["outcome"]["status"],
        "closed",
        "{report:#}"
    );
    let stubborn = hook("supervised stubborn");
    assert_eq!(stubborn["outcome"]["status"], "failed", "{report:#}");
    let detail = stubborn["outcome"]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("`stubborn` ignored cancellation and was aborted"),
        "{detail}"
    );
}
