//! The routes: matching, auth, and one handler per [`Route`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use serde_json::{Map, Value, json};

use super::auth::{self, Denied};
use super::config::{AdminConfig, Route};
use super::envelope::{self, ApiError, Body};
use super::{process, sse};
use crate::config::{Config, Setting, fmt_d};
use crate::phase::Phase;
use crate::shutdown::Shutdown;

/// What every connection shares.
pub(crate) struct State {
    pub(crate) shutdown: Shutdown,
    pub(crate) config: AdminConfig,
    /// Full path → route.
    pub(crate) table: Vec<(String, Route)>,
    /// The report the previous process left in the state directory.
    pub(crate) previous: Option<Value>,
    /// Event streams still being delivered.
    pub(crate) streams: Arc<sse::OpenStreams>,
    #[cfg(feature = "metrics")]
    pub(crate) prometheus: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

impl State {
    pub(crate) fn new(shutdown: Shutdown, config: AdminConfig, previous: Option<Value>) -> Self {
        let table = Route::ALL
            .into_iter()
            .map(|r| (config.path(r), r))
            .collect();
        State {
            shutdown,
            config,
            table,
            previous,
            streams: sse::OpenStreams::new(),
            #[cfg(feature = "metrics")]
            prometheus: None,
        }
    }
}

/// Answers one request. Never fails: every error becomes an enveloped response.
pub(crate) async fn handle<B>(
    state: Arc<State>,
    req: Request<B>,
    peer: SocketAddr,
) -> Response<Body>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let id = envelope::request_id(req.headers());
    match dispatch(&state, req, peer, &id).await {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(target: "graceful::admin", status = e.status.as_u16(), code = e.code, request_id = %id, %peer, "admin request refused");
            envelope::error(&e, &id)
        }
    }
}

async fn dispatch<B>(
    state: &State,
    req: Request<B>,
    peer: SocketAddr,
    id: &str,
) -> Result<Response<Body>, ApiError>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let path = req.uri().path();
    let Some(route) = state.table.iter().find(|(p, _)| p == path).map(|(_, r)| *r) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("no admin route at `{path}`"),
        )
        .details(json!({ "path": path })));
    };
    let method = req.method().as_str();
    if !route.methods().contains(&method) {
        let allow = route.methods().join(", ");
        let mut e = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            format!("`{method}` is not allowed on `{path}`; allowed: {allow}"),
        )
        .details(json!({ "method": method, "allowed": route.methods() }));
        e.allow = Some(allow);
        return Err(e);
    }
    if let Some(scope) = route.scope() {
        auth::authorize(&state.config.api_keys, req.headers(), scope)
            .map_err(|d| denied(d, path))?;
    }
    let shutdown = &state.shutdown;
    match route {
        Route::Live => Ok(envelope::ok(
            StatusCode::OK,
            json!({ "live": true, "state": phase_of(shutdown).state() }),
            id,
        )),
        Route::Ready => {
            // Read once, so the body and the status code agree.
            let (phase, ready) = (phase_of(shutdown), shutdown.is_ready());
            let data = json!({ "ready": ready, "phase": phase, "state": phase.state() });
            if ready {
                Ok(envelope::ok(StatusCode::OK, data, id))
            } else {
                Err(not_ready(shutdown, data))
            }
        }
        Route::Health => {
            let (phase, ready) = (phase_of(shutdown), shutdown.is_ready());
            let data = json!({
                "live": true,
                "ready": ready,
                "phase": phase,
                "state": phase.state(),
                "resources": resources(shutdown),
            });
            if ready {
                Ok(envelope::ok(StatusCode::OK, data, id))
            } else {
                Err(not_ready(shutdown, data))
            }
        }
        Route::Status => Ok(envelope::ok(StatusCode::OK, status(state), id)),
        Route::Process => Ok(envelope::ok(
            StatusCode::OK,
            process::snapshot(shutdown.started_at().elapsed()),
            id,
        )),
        Route::Config => Ok(envelope::ok(
            StatusCode::OK,
            config_json(shutdown.config(), &state.config),
            id,
        )),
        Route::Metrics => metrics(state),
        Route::Events => {
            let mut r = Response::new(sse::stream(shutdown, &state.streams));
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/event-stream"),
            );
            h.insert(
                header::CACHE_CONTROL,
                http::HeaderValue::from_static("no-store"),
            );
            if let Ok(v) = http::HeaderValue::from_str(id) {
                h.insert("x-request-id", v);
            }
            Ok(r)
        }
        Route::Shutdown => {
            let force = req.method() == Method::DELETE;
            let body = read_body(req, &state.config).await?;
            let mut ask = ShutdownRequest::parse(&body, state.config.max_shutdown_timeout.value)?;
            ask.force |= force;
            Ok(start_shutdown(shutdown, ask, peer, id))
        }
    }
}

/// The phase as operators should see it: a shutdown that was requested but whose engine has
/// not yet entered `initiated` is already `initiated` (and `STOPPING`), never `RUNNING`.
fn phase_of(shutdown: &Shutdown) -> Phase {
    match shutdown.current_phase() {
        Phase::Running if shutdown.is_shutting_down() => Phase::Initiated,
        p => p,
    }
}

fn denied(d: Denied, path: &str) -> ApiError {
    match d {
        Denied::NotConfigured => ApiError::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            format!(
                "`{path}` is disabled because no admin API key is configured; enable it by setting \
                 GRACEFUL_ADMIN_API_KEY (or GRACEFUL_ADMIN_API_KEY_FILE) or an `[[admin.api_keys]]` entry \
                 in the configuration file, then send the key as `X-API-Key` or `Authorization: Bearer`"
            ),
        )
        .details(json!({ "reason": "no_api_key_configured" })),
        Denied::Unauthorized => ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "missing or invalid API key"),
        Denied::MissingScope(scope) => ApiError::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            format!("this API key lacks the `{}` scope that `{path}` requires", scope.as_str()),
        )
        .details(json!({ "reason": "missing_scope", "required_scope": scope.as_str() })),
    }
}

fn not_ready(shutdown: &Shutdown, data: Value) -> ApiError {
    let phase = phase_of(shutdown);
    let message = if phase == Phase::Running {
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

fn status(state: &State) -> Value {
    let shutdown = &state.shutdown;
    let phase = phase_of(shutdown);
    let previous = state.previous.as_ref().map(|r| {
        json!({
            "result": r.get("result"),
            "forced": r.get("result").and_then(Value::as_str) == Some("forced"),
            "duration_seconds": r.get("total"),
            "reason": r.get("reason"),
            "deadlines": r.get("deadlines"),
            "abandoned": r.get("abandoned"),
        })
    });
    json!({
        "state": phase.state(),
        "phase": phase,
        "ready": shutdown.is_ready(),
        "started": shutdown.is_started(),
        "pid": std::process::id(),
        "uptime_seconds": shutdown.started_at().elapsed().as_secs_f64(),
        "in_flight": shutdown.in_flight(),
        "tasks": shutdown.running_tasks(),
        "resources": resources(shutdown),
        "shutdown": shutdown.is_shutting_down().then(|| progress(shutdown)),
        "report": shutdown.report().and_then(|r| serde_json::to_value(r).ok()),
        "previous_shutdown": previous,
    })
}

fn setting<T>(s: &Setting<T>, value: impl Into<Value>) -> Value {
    json!({ "value": value.into(), "source": s.source.to_string() })
}

fn config_json(core: &Config, admin: &AdminConfig) -> Value {
    let d = |s: &Setting<Duration>| setting(s, fmt_d(s.value));
    let signals: Vec<&str> = core.signals.value.iter().map(|s| s.name()).collect();
    let budgets: Map<String, Value> = core
        .class_budgets
        .iter()
        .map(|(p, s)| (p.to_string(), d(s)))
        .collect();
    let routes: Map<String, Value> = admin
        .routes
        .iter()
        .map(|(r, s)| (r.key().to_string(), setting(s, admin.path(*r))))
        .collect();
    let sections: Vec<&String> = core.sections.keys().collect();
    json!({
        "shutdown": {
            "timeout": d(&core.timeout),
            "drain_timeout": d(&core.drain_timeout),
            "resource_close_timeout": d(&core.resource_close_timeout),
            "readiness_delay": d(&core.readiness_delay),
            "force_after_timeout": setting(&core.force_after_timeout, core.force_after_timeout.value),
            "signals": setting(&core.signals, signals),
            "state_dir": setting(&core.state_dir, core.state_dir.value.as_ref().map(|p| p.display().to_string())),
            "grace_period": setting(&core.grace_period, core.grace_period.value.map(fmt_d)),
            "class_budgets": budgets,
        },
        "admin": {
            "addr": setting(&admin.addr, admin.addr.value.to_string()),
            "prefix": setting(&admin.prefix, admin.prefix.value.clone()),
            "routes": routes,
            "api_keys": admin.api_keys,
            "max_shutdown_timeout": d(&admin.max_shutdown_timeout),
            "body_limit": setting(&admin.body_limit, admin.body_limit.value),
            "max_connections": setting(&admin.max_connections, admin.max_connections.value),
            "header_timeout": d(&admin.header_timeout),
            "body_timeout": d(&admin.body_timeout),
        },
        "file_sections": sections,
        "warnings": core.warnings(),
    })
}

#[cfg(feature = "metrics")]
fn metrics(state: &State) -> Result<Response<Body>, ApiError> {
    let Some(handle) = &state.prometheus else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "METRICS_UNAVAILABLE",
            "another `metrics` recorder was installed before the admin API started; pass its \
             PrometheusHandle to AdminBuilder::prometheus_handle",
        ));
    };
    crate::metrics::refresh(&state.shutdown);
    let mut r = Response::new(envelope::full(handle.render()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(r)
}

#[cfg(not(feature = "metrics"))]
fn metrics(_state: &State) -> Result<Response<Body>, ApiError> {
    Err(ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "METRICS_DISABLED",
        "metrics are not compiled in; enable the `metrics` feature of graceful",
    ))
}

/// Reads a request body, bounded in size (413) and time (408).
async fn read_body<B>(req: Request<B>, config: &AdminConfig) -> Result<Bytes, ApiError>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let limit = config.body_limit.value;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("the request body is larger than the limit of {limit} bytes"),
        )
        .details(json!({ "limit_bytes": limit }))
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let body = Limited::new(req.into_body(), limit);
    match tokio::time::timeout(config.body_timeout.value, body.collect()).await {
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "REQUEST_TIMEOUT",
            format!(
                "the request body did not arrive within {}",
                fmt_d(config.body_timeout.value)
            ),
        )),
        Ok(Err(e))
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(too_large())
        }
        Ok(Err(e)) => Err(ApiError::bad_request(
            "body",
            format!("cannot read the request body: {e}"),
        )),
        Ok(Ok(c)) => Ok(c.to_bytes()),
    }
}

/// A checked `POST /shutdown` body.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ShutdownRequest {
    pub(crate) timeout: Option<Duration>,
    pub(crate) force: bool,
    pub(crate) reason: Option<String>,
}

const FIELDS: &str = "timeout_seconds, force, reason";
const MAX_REASON: usize = 256;

impl ShutdownRequest {
    /// Parses `{"timeout_seconds": 30, "force": false, "reason": "…"}` (every field optional;
    /// an empty body is `{}`): 400 naming the field for wrong types, 422 for out-of-range values.
    pub(crate) fn parse(body: &[u8], max: Duration) -> Result<ShutdownRequest, ApiError> {
        let mut out = ShutdownRequest::default();
        if body.trim_ascii().is_empty() {
            return Ok(out);
        }
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request("body", format!("the body is not valid JSON: {e}"))
                .details(json!({ "field": "body", "line": e.line(), "column": e.column() }))
        })?;
        let Value::Object(map) = value else {
            return Err(ApiError::bad_request(
                "body",
                format!("the body must be a JSON object with the optional fields {FIELDS}"),
            ));
        };
        for (key, v) in map {
            match (key.as_str(), v) {
                (_, Value::Null) => {}
                ("timeout_seconds", Value::Number(n)) => {
                    let secs = n.as_f64().unwrap_or(f64::NAN);
                    let unprocessable = |msg: String| {
                        ApiError::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "UNPROCESSABLE_ENTITY",
                            msg,
                        )
                        .details(json!({
                            "field": "timeout_seconds",
                            "value": secs,
                            "max_seconds": max.as_secs_f64(),
                        }))
                    };
                    if secs.is_nan() || secs <= 0.0 {
                        return Err(unprocessable(format!(
                            "`timeout_seconds` must be greater than 0, got {n}"
                        )));
                    }
                    if secs > max.as_secs_f64() {
                        return Err(unprocessable(format!(
                            "`timeout_seconds` may be at most {} (admin.max_shutdown_timeout), got {n}",
                            max.as_secs_f64()
                        )));
                    }
                    out.timeout = Some(Duration::from_secs_f64(secs));
                }
                ("timeout_seconds", other) => {
                    return Err(ApiError::bad_request(
                        "timeout_seconds",
                        format!(
                            "`timeout_seconds` must be a number of seconds, found {}",
                            type_name(&other)
                        ),
                    ));
                }
                ("force", Value::Bool(b)) => out.force = b,
                ("force", other) => {
                    return Err(ApiError::bad_request(
                        "force",
                        format!("`force` must be true or false, found {}", type_name(&other)),
                    ));
                }
                ("reason", Value::String(s)) => {
                    if s.chars().count() > MAX_REASON {
                        return Err(ApiError::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "UNPROCESSABLE_ENTITY",
                            format!("`reason` may be at most {MAX_REASON} characters"),
                        )
                        .details(json!({ "field": "reason" })));
                    }
                    out.reason = Some(s.chars().filter(|c| !c.is_control()).collect());
                }
                ("reason", other) => {
                    return Err(ApiError::bad_request(
                        "reason",
                        format!("`reason` must be a string, found {}", type_name(&other)),
                    ));
                }
                (unknown, _) => {
                    return Err(ApiError::bad_request(
                        unknown,
                        format!("unknown field `{unknown}`; accepted fields: {FIELDS}"),
                    ));
                }
            }
        }
        Ok(out)
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn start_shutdown(
    shutdown: &Shutdown,
    ask: ShutdownRequest,
    peer: SocketAddr,
    id: &str,
) -> Response<Body> {
    let reason = ask
        .reason
        .clone()
        .unwrap_or_else(|| "admin API request".to_string());
    // A forced request may still escalate a graceful shutdown under way.
    let escalates = ask.force && !shutdown.is_forced();
    if shutdown.is_shutting_down() && !escalates {
        return already(shutdown, id);
    }
    tracing::info!(
        target: "graceful::admin",
        %peer,
        request_id = %id,
        reason = %reason,
        force = ask.force,
        timeout = ?ask.timeout,
        "shutdown requested through the admin API"
    );
    let started = if ask.force {
        let started = !shutdown.is_shutting_down();
        shutdown.force(reason.clone());
        started
    } else if let Some(t) = ask.timeout {
        shutdown.trigger_with_timeout(reason.clone(), t)
    } else {
        shutdown.trigger(reason.clone())
    };
    if !started && !ask.force {
        return already(shutdown, id);
    }
    let elapsed = shutdown.elapsed().unwrap_or_default();
    let initiated = SystemTime::now()
        .checked_sub(elapsed)
        .unwrap_or_else(SystemTime::now);
    let p = shutdown.progress();
    let ready_resources = shutdown
        .resources()
        .list()
        .iter()
        .filter(|r| r.state == crate::resource::ResourceState::Ready)
        .count();
    let mut sequence: Vec<&str> = Phase::SEQUENCE.iter().map(|p| p.as_str()).collect();
    sequence.push(Phase::Completed.as_str());
    envelope::ok(
        StatusCode::ACCEPTED,
        json!({
            "status": "STOPPING",
            "shutdown_initiated_at": humantime::format_rfc3339_millis(initiated).to_string(),
            "estimated_shutdown_time_seconds": shutdown.timeout().as_secs_f64(),
            "active_operations": {
                "connections": p.in_flight,
                "tasks": p.tasks.len(),
                "resources": ready_resources,
            },
            "shutdown_sequence": sequence,
            "reason": reason,
            "forced": ask.force,
            "started_shutdown": started,
        }),
        id,
    )
}

fn already(shutdown: &Shutdown, id: &str) -> Response<Body> {
    envelope::ok(
        StatusCode::OK,
        json!({
            "status": phase_of(shutdown).state(),
            "already_in_progress": true,
            "progress": progress(shutdown),
        }),
        id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Duration = Duration::from_secs(60);

    fn status_of(body: &str) -> Option<(u16, String)> {
        ShutdownRequest::parse(body.as_bytes(), MAX).err().map(|e| {
            (
                e.status.as_u16(),
                e.details["field"].as_str().unwrap_or("").to_string(),
            )
        })
    }

    #[test]
    fn shutdown_bodies() {
        assert_eq!(
            ShutdownRequest::parse(b"", MAX).ok(),
            Some(ShutdownRequest::default())
        );
        let ok = ShutdownRequest::parse(
            br#"{"timeout_seconds": 1.5, "force": true, "reason": "deploy"}"#,
            MAX,
        )
        .expect("valid");
        assert_eq!(ok.timeout, Some(Duration::from_millis(1500)));
        assert!(ok.force);
        assert_eq!(ok.reason.as_deref(), Some("deploy"));
        assert_eq!(status_of("{"), Some((400, "body".into())));
        assert_eq!(status_of("[1]"), Some((400, "body".into())));
        assert_eq!(
            status_of(r#"{"timeout_seconds": "30"}"#),
            Some((400, "timeout_seconds".into()))
        );
        assert_eq!(
            status_of(r#"{"force": "yes"}"#),
            Some((400, "force".into()))
        );
        assert_eq!(status_of(r#"{"reason": 5}"#), Some((400, "reason".into())));
        assert_eq!(
            status_of(r#"{"timeout": 5}"#),
            Some((400, "timeout".into()))
        );
        assert_eq!(
            status_of(r#"{"timeout_seconds": 0}"#),
            Some((422, "timeout_seconds".into()))
        );
        assert_eq!(
            status_of(r#"{"timeout_seconds": -3}"#),
            Some((422, "timeout_seconds".into()))
        );
        assert_eq!(
            status_of(r#"{"timeout_seconds": 61}"#),
            Some((422, "timeout_seconds".into()))
        );
    }
}
