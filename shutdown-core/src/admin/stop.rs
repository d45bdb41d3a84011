//! `POST` / `DELETE` on the shutdown route: the checked request body and the answer.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use serde_json::{Value, json};

use super::config::AdminConfig;
use super::context::State;
use super::envelope::{self, ApiError, Body};
use super::handlers::{phase_of, progress};
use crate::config::fmt_d;
use crate::phase::Phase;
use crate::shutdown::Shutdown;

/// Reads a request body, bounded in size (413) and time (408).
pub(crate) async fn read_body<B>(req: Request<B>, config: &AdminConfig) -> Result<Bytes, ApiError>
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

pub(crate) fn start_shutdown(
    state: &State,
    ask: ShutdownRequest,
    peer: SocketAddr,
    id: &str,
) -> Result<Response<Body>, ApiError> {
    let shutdown = &state.shutdown;
    let current = phase_of(shutdown);
    if current.is_finished() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "DAEMON_NOT_RUNNING",
            format!(
                "the service is not running: its shutdown has finished ({current}); there is nothing left to stop"
            ),
        )
        .details(json!({ "current_status": current.state(), "phase": current })));
    }
    let reason = ask
        .reason
        .clone()
        .unwrap_or_else(|| "admin API request".to_string());
    // A forced request may still escalate a graceful shutdown under way.
    let escalates = ask.force && !shutdown.is_forced();
    if shutdown.is_shutting_down() && !escalates {
        return Ok(already(shutdown, id));
    }
    tracing::info!(
        target: "graceful::admin",
        %peer,
        request_id = %id,
        reason = %reason,
        force = ask.force,
        timeout = %ask.timeout.map_or_else(|| "the configured one".to_string(), |d| crate::took::Took(d).to_string()),
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
        return Ok(already(shutdown, id));
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
    let ours = [
        ("connections", shutdown.connections_in_flight()),
        ("tasks", p.tasks.len() as u64),
        ("resources", ready_resources as u64),
    ];
    let timeout = shutdown.timeout();
    let estimate = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
    Ok(envelope::ok(
        StatusCode::OK,
        json!({
            "status": "STOPPING",
            "shutdown_initiated_at": humantime::format_rfc3339_millis(initiated).to_string(),
            "estimated_shutdown_time_seconds": estimate,
            "active_operations": state.operations.read(&ours),
            "shutdown_sequence": sequence(),
            "reason": reason,
            "forced": ask.force,
            "started_shutdown": started,
        }),
        id,
    ))
}

/// The steps of a shutdown, as a person reads them, in order.
pub(crate) fn sequence() -> Vec<&'static str> {
    Phase::SEQUENCE
        .iter()
        .map(|p| match p {
            Phase::Initiated => "Shutdown requested: reason recorded, deadline started",
            Phase::StoppingNewRequests => "Stop accepting new requests (readiness turns false)",
            Phase::DrainingConnections => {
                "Complete active operations (in-flight requests and tasks)"
            }
            Phase::SavingState => "Save state that must survive a restart",
            Phase::ClosingResources => {
                "Shut components down in priority order and close connections"
            }
            Phase::FlushingBuffers => "Flush buffers and telemetry, then exit",
            Phase::Running | Phase::Completed | Phase::Forced => "",
        })
        .filter(|s| !s.is_empty())
        .collect()
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
