//! The handlers of the read-only routes: probes, status, progress, metrics.

use http::{Response, StatusCode};
use serde_json::{Map, Value, json};

use super::context::State;
use super::envelope::{self, ApiError, Body};
use super::report::PreviousShutdown;
use crate::phase::Phase;
use crate::readiness::Readiness;
use crate::shutdown::Shutdown;

/// The phase as operators should see it: a shutdown that was requested but whose engine has
/// not yet entered `initiated` is already `initiated` (and `STOPPING`), never `RUNNING`.
pub(crate) fn phase_of(shutdown: &Shutdown) -> Phase {
    match shutdown.current_phase() {
        Phase::Running if shutdown.is_shutting_down() => Phase::Initiated,
        p => p,
    }
}

/// `GET /health/live`.
pub(crate) fn live(shutdown: &Shutdown, id: &str) -> Response<Body> {
    envelope::ok(
        StatusCode::OK,
        json!({ "live": true, "state": phase_of(shutdown).state() }),
        id,
    )
}

/// Readiness as a probe of this listener must see it. Once this process handed over to a
/// successor that said it is ready (an in-place upgrade), the listener belongs to the
/// successor, and so does the answer: ready, with the successor's pid. Otherwise this
/// process's own.
fn readiness(shutdown: &Shutdown) -> (Readiness, Option<u32>) {
    match super::handover::successor(shutdown) {
        Some(pid) => (
            Readiness {
                ready: true,
                reasons: Vec::new(),
            },
            Some(pid),
        ),
        None => (shutdown.readiness(), None),
    }
}

/// `GET /health/ready`.
pub(crate) fn ready(shutdown: &Shutdown, id: &str) -> Result<Response<Body>, ApiError> {
    // Read once, so the body and the status code agree.
    let (phase, (r, successor)) = (phase_of(shutdown), readiness(shutdown));
    let data = json!({
        "ready": r.ready,
        "phase": phase,
        "state": phase.state(),
        "reasons": r.reasons,
        "handed_over_to": successor,
    });
    if r.ready {
        Ok(envelope::ok(StatusCode::OK, data, id))
    } else {
        Err(not_ready(shutdown, &r.reasons, data))
    }
}

/// `GET /health`: 503 when not ready; 200 otherwise, with `"health": "degraded"` and the
/// reasons while a memory or CPU threshold is exceeded (degraded is not down: the service
/// still takes traffic).
pub(crate) fn health(state: &State, id: &str) -> Result<Response<Body>, ApiError> {
    let shutdown = &state.shutdown;
    let (phase, (r, successor)) = (phase_of(shutdown), readiness(shutdown));
    let degraded = super::load::degraded(&state.config, &state.cpu);
    let data = json!({
        "live": true,
        "ready": r.ready,
        "reasons": r.reasons,
        "handed_over_to": successor,
        "health": if degraded.is_empty() { "ok" } else { "degraded" },
        "degraded": degraded,
        "phase": phase,
        "state": phase.state(),
        "resources": resources(shutdown),
    });
    if r.ready {
        Ok(envelope::ok(StatusCode::OK, data, id))
    } else {
        Err(not_ready(shutdown, &r.reasons, data))
    }
}

fn not_ready(shutdown: &Shutdown, reasons: &[String], data: Value) -> ApiError {
    let phase = phase_of(shutdown);
    let message = if !shutdown.is_shutting_down() {
        format!("not ready: {}", reasons.join(", "))
    } else if phase == Phase::Running {
        "shutting down: a shutdown was requested".to_string()
    } else {
        format!("shutting down (phase {phase})")
    };
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "NOT_READY", message).details(data)
}

fn resources(shutdown: &Shutdown) -> Value {
    let outcomes: Map<String, Value> = shutdown
        .report()
        .map(|r| {
            r.resources
                .iter()
                .map(|rec| {
                    (
                        rec.name.clone(),
                        serde_json::to_value(&rec.outcome).unwrap_or(Value::Null),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    shutdown
        .resources()
        .list()
        .into_iter()
        .map(|r| {
            json!({
                "name": r.name,
                "type": r.type_name,
                "priority": r.priority,
                "state": r.state,
                "outcome": outcomes.get(&r.name),
            })
        })
        .collect()
}

/// Where the shutdown stands: for `/status` and for a second `POST /shutdown`.
pub(crate) fn progress(shutdown: &Shutdown) -> Value {
    let p = shutdown.progress();
    // Read once, so `phase` and `state` cannot disagree if the phase moves meanwhile.
    let phase = phase_of(shutdown);
    json!({
        "phase": phase,
        "status": phase.state(),
        "state": phase.state(),
        "reason": p.reason.as_ref().map(ToString::to_string),
        "forced": shutdown.is_forced(),
        "elapsed_seconds": p.elapsed.map(|d| d.as_secs_f64()),
        "estimated_remaining_seconds": p.remaining.map(|d| d.as_secs_f64()),
        "timeout_seconds": shutdown.timeout().as_secs_f64(),
        "resources_closed": p.resources_closed,
        // Until the engine enters its first phase it has not counted them yet.
        "resources_total": p.resources_total.max(shutdown.resources().len()),
        "in_flight": p.in_flight,
        "tasks": p.tasks,
        "errors": p.errors,
    })
}

/// `GET /status`.
pub(crate) fn status(state: &State) -> Value {
    let shutdown = &state.shutdown;
    let phase = phase_of(shutdown);
    let previous = state.previous.as_ref().map(PreviousShutdown::to_json);
    let p = shutdown.progress();
    let ours = [
        ("connections", shutdown.connections_in_flight()),
        ("tasks", p.tasks.len() as u64),
    ];
    json!({
        "status": phase.state(),
        "state": phase.state(),
        "phase": phase,
        "ready": shutdown.is_ready(),
        "started": shutdown.is_started(),
        "pid": std::process::id(),
        "uptime_seconds": shutdown.started_at().elapsed().as_secs_f64(),
        "in_flight": shutdown.in_flight(),
        "tasks": shutdown.running_tasks(),
        "active_operations": state.operations.read(&ours),
        "http_panics": shutdown.extension::<crate::panics::HandlerPanics>().count(),
        "recovered": *crate::sync::lock(&state.recovered),
        "resources": resources(shutdown),
        "shutdown": shutdown.is_shutting_down().then(|| progress(shutdown)),
        "report": shutdown.report().and_then(|r| serde_json::to_value(r).ok()),
        "previous_shutdown": previous,
    })
}

/// `GET /overview`: one look at the running service.
pub(crate) fn overview(state: &State) -> Value {
    let shutdown = &state.shutdown;
    let mut status = status(state);
    let previous = status
        .as_object_mut()
        .and_then(|m| m.remove("previous_shutdown"))
        .unwrap_or(Value::Null);
    let phase = phase_of(shutdown);
    let core = shutdown.config();
    let admin = &state.config;
    json!({
        "status": status,
        "health": {
            "live": true,
            "ready": shutdown.is_ready(),
            "status": phase.state(),
            "degraded": super::load::degraded(&state.config, &state.cpu),
        },
        "process": super::process_info::snapshot(shutdown.started_at().elapsed(), state.cpu.percent()),
        "config": {
            "timeout": crate::config::fmt_d(core.timeout.value),
            "drain_timeout": crate::config::fmt_d(core.drain_timeout.value),
            "resource_close_timeout": crate::config::fmt_d(core.resource_close_timeout.value),
            "readiness_delay": crate::config::fmt_d(core.readiness_delay.value),
            "signals": core.signals.value.iter().map(|s| s.name()).collect::<Vec<_>>(),
            "state_dir": core.state_dir.value.as_ref().map(|p| p.display().to_string()),
            "admin_addr": admin.addr.value.to_string(),
            "api_keys": admin.api_keys.len(),
            "warnings": core.warnings(),
        },
        "previous_shutdown": previous,
    })
}

/// `GET /metrics`.
#[cfg(feature = "metrics")]
pub(crate) fn metrics(state: &State) -> Result<Response<Body>, ApiError> {
    let Some(handle) = &state.prometheus else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "METRICS_UNAVAILABLE",
            "another `metrics` recorder was installed before the admin API started; pass its \
             PrometheusHandle to AdminBuilder::prometheus_handle",
        ));
    };
    crate::metrics::refresh(&state.shutdown);
    state.process_metrics.collect();
    let degraded = super::load::degraded(&state.config, &state.cpu);
    for reason in ["memory", "cpu"] {
        let on = degraded.iter().any(|d| d["reason"] == reason);
        metrics::gauge!("graceful_degraded", "reason" => reason).set(if on { 1.0 } else { 0.0 });
    }
    let mut r = Response::new(envelope::full(handle.render()));
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(r)
}

/// `GET /metrics` without the feature.
#[cfg(not(feature = "metrics"))]
pub(crate) fn metrics(_state: &State) -> Result<Response<Body>, ApiError> {
    Err(ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "METRICS_DISABLED",
        "metrics are not compiled in; enable the `metrics` feature of graceful",
    ))
}
