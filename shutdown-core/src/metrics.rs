//! Shutdown metrics through the [`metrics`](https://docs.rs/metrics) facade (feature
//! `metrics`), exported as Prometheus text by the admin API's `/metrics`.
//!
//! Recording goes through the facade, so the program's own `metrics::counter!` calls and
//! these land in the same registry and on the same `/metrics` page. Rendering uses
//! `metrics-exporter-prometheus` (its recorder only, no HTTP listener of its own): the
//! exporter is the reference implementation of the text format, so we do not maintain a
//! renderer of our own.
//!
//! | metric | type | meaning |
//! |---|---|---|
//! | `graceful_in_flight` | gauge | tracked units of work in flight (requests, tasks) |
//! | `graceful_ready` | gauge | 1 while ready ([`Shutdown::readiness`](crate::Shutdown::readiness)), 0 during start-up, under a readiness hold, and from the first moment of shutdown |
//! | `graceful_phase{phase}` | gauge | 1 for the current phase, 0 for the others |
//! | `graceful_shutdown_duration_seconds` | gauge | time since the shutdown started (final value at the end) |
//! | `graceful_resource_close_duration_seconds{resource,outcome}` | gauge | how long each close took |
//! | `graceful_degraded{reason}` | gauge | 1 while `reason` (`memory`, `cpu`) is over its admin threshold (set when `/metrics` is read) |
//! | `graceful_http_panics_total` | counter | requests whose handler panicked, answered 500 by `http::serve` |
//! | `graceful_shutdowns_total{result}` | counter | shutdowns by result: `completed` (within every deadline) or `forced` (a deadline was hit, or forced) |
//! | `graceful_previous_shutdown_duration_seconds` | gauge | the previous process's shutdown, from the state directory |
//! | `graceful_previous_shutdown_forced` | gauge | 1 if the previous shutdown was forced |
//!
//! A process's own shutdown metrics die with it; that is why the engine writes its final
//! report to `<state_dir>/last-shutdown.json` and the next start exports it as
//! `graceful_previous_shutdown_*`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::sync::broadcast::error::RecvError;

use crate::phase::Phase;
use crate::shutdown::{Event, Shutdown};

static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// The Prometheus recorder could not be installed, because the program installed another
/// `metrics` recorder first. Give that recorder's `PrometheusHandle` to the admin API
/// (`AdminBuilder::prometheus_handle`) instead.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot install the Prometheus recorder ({0}); another `metrics` recorder is installed")]
pub struct InstallError(String);

/// Installs a Prometheus recorder as the global `metrics` recorder (once per process; later
/// calls return the same handle) and returns its handle.
pub fn install() -> Result<PrometheusHandle, InstallError> {
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .install_recorder()
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(InstallError)
}

/// Marks an engine whose metrics are already recorded, so that [`attach`] is idempotent.
#[derive(Default)]
struct Attached(std::sync::atomic::AtomicBool);

impl crate::shutdown::Extension for Attached {}

/// Describes the metrics and starts recording this engine's: phase, readiness and in-flight
/// gauges, each resource close, the shutdown's duration and result, and the previous
/// shutdown read from the state directory. Records nothing until a recorder is installed.
///
/// Calling it again for the same engine does nothing (the admin API calls it from `spawn`).
pub fn attach(shutdown: &Shutdown) {
    if shutdown
        .extension::<Attached>()
        .0
        .swap(true, std::sync::atomic::Ordering::SeqCst)
    {
        return;
    }
    describe();
    if let Some(dir) = &shutdown.config().state_dir.value {
        match crate::report::read_last(dir) {
            Some(Ok(report)) => {
                if let Some(total) = report.get("total").and_then(serde_json::Value::as_f64) {
                    metrics::gauge!("graceful_previous_shutdown_duration_seconds").set(total);
                }
                let forced =
                    report.get("result").and_then(serde_json::Value::as_str) == Some("forced");
                metrics::gauge!("graceful_previous_shutdown_forced").set(if forced {
                    1.0
                } else {
                    0.0
                });
            }
            Some(Err(e)) => {
                tracing::warn!(target: "graceful::metrics", "previous shutdown report ignored: {e}")
            }
            None => {}
        }
    }
    for result in [Phase::Completed, Phase::Forced] {
        metrics::counter!("graceful_shutdowns_total", "result" => result.as_str()).increment(0);
    }
    set_phase(shutdown.current_phase());
    refresh(shutdown);
    let mut events = shutdown.events();
    // The engine waits (briefly) for the final counters before it returns.
    let done = shutdown.hold_finish();
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        let _done = done;
        loop {
            match events.recv().await {
                Ok(Event::Phase { phase }) => {
                    set_phase(phase);
                    refresh(&shutdown);
                    if phase.is_finished() {
                        metrics::counter!("graceful_shutdowns_total", "result" => phase.as_str())
                            .increment(1);
                        if let Some(r) = shutdown.report() {
                            metrics::gauge!("graceful_shutdown_duration_seconds")
                                .set(r.total.as_secs_f64());
                        }
                        return;
                    }
                }
                Ok(Event::ResourceClosed {
                    name,
                    outcome,
                    seconds,
                    ..
                }) => {
                    let outcome = match outcome {
                        crate::report::CloseOutcome::Closed => "closed",
                        crate::report::CloseOutcome::Failed(_) => "failed",
                        crate::report::CloseOutcome::Panicked(_) => "panicked",
                        crate::report::CloseOutcome::TimedOut => "timed_out",
                        crate::report::CloseOutcome::Skipped => "skipped",
                    };
                    metrics::gauge!("graceful_resource_close_duration_seconds", "resource" => name, "outcome" => outcome)
                        .set(seconds);
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
        }
    });
}

/// Updates the sampled gauges (in-flight, readiness, shutdown duration so far); the admin API
/// calls it before each scrape.
pub fn refresh(shutdown: &Shutdown) {
    metrics::gauge!("graceful_in_flight").set(shutdown.in_flight() as f64);
    metrics::gauge!("graceful_ready").set(if shutdown.is_ready() { 1.0 } else { 0.0 });
    if let Some(e) = shutdown.elapsed()
        && shutdown.report().is_none()
    {
        metrics::gauge!("graceful_shutdown_duration_seconds").set(e.as_secs_f64());
    }
}

fn set_phase(current: Phase) {
    let all = [Phase::Running]
        .into_iter()
        .chain(Phase::SEQUENCE)
        .chain([Phase::Completed, Phase::Forced]);
    for p in all {
        metrics::gauge!("graceful_phase", "phase" => p.as_str()).set(if p == current {
            1.0
        } else {
            0.0
        });
    }
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge};
    describe_gauge!("graceful_in_flight", "Tracked units of work in flight.");
    describe_gauge!(
        "graceful_ready",
        "1 while the service is ready, 0 during start-up, under a readiness hold and once shutting down."
    );
    describe_gauge!(
        "graceful_phase",
        "1 for the current shutdown phase, 0 for the others."
    );
    describe_gauge!(
        "graceful_shutdown_duration_seconds",
        Unit::Seconds,
        "Time since the shutdown started; the total once it finished."
    );
    describe_gauge!(
        "graceful_resource_close_duration_seconds",
        Unit::Seconds,
        "How long each resource took to close."
    );
    describe_gauge!(
        "graceful_degraded",
        "1 while the reason (memory, cpu) is over its admin threshold."
    );
    describe_counter!(
        "graceful_http_panics_total",
        "Requests whose handler panicked, answered 500 by http::serve."
    );
    describe_counter!(
        "graceful_shutdowns_total",
        "Shutdowns by result: completed (within every deadline) or forced."
    );
    describe_gauge!(
        "graceful_previous_shutdown_duration_seconds",
        Unit::Seconds,
        "How long the previous process's shutdown took (from the state directory)."
    );
    describe_gauge!(
        "graceful_previous_shutdown_forced",
        "1 if the previous process's shutdown was forced."
    );
}
