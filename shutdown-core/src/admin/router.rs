//! Routing: find the route for a path, check the method and the key, call its handler.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use serde_json::json;

use super::auth::{self, Denied};
use super::config::Route;
use super::context::State;
use super::envelope::{self, ApiError, Body};
use super::handlers;
use super::{config_json, process_info, sse, stop, upgrade};

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
    if let Some(scope) = route.scope()
        && !state.open
    {
        auth::authorize(&state.config.api_keys, req.headers(), scope)
            .map_err(|d| denied(d, path))?;
    }
    let shutdown = &state.shutdown;
    match route {
        Route::Live => Ok(handlers::live(shutdown, id)),
        Route::Ready => handlers::ready(shutdown, id),
        Route::Health => handlers::health(state, id),
        Route::Status => Ok(envelope::ok(StatusCode::OK, handlers::status(state), id)),
        Route::Overview => Ok(envelope::ok(StatusCode::OK, handlers::overview(state), id)),
        Route::Process => Ok(envelope::ok(
            StatusCode::OK,
            process_info::snapshot(shutdown.started_at().elapsed(), state.cpu.percent()),
            id,
        )),
        Route::Config => Ok(envelope::ok(
            StatusCode::OK,
            config_json::config_json(shutdown.config(), &state.config),
            id,
        )),
        Route::Metrics => handlers::metrics(state),
        Route::Events => Ok(events(state, id)),
        Route::Shutdown => {
            let force = req.method() == Method::DELETE;
            let body = stop::read_body(req, &state.config).await?;
            let mut ask =
                stop::ShutdownRequest::parse(&body, state.config.max_shutdown_timeout.value)?;
            ask.force |= force;
            stop::start_shutdown(state, ask, peer, id)
        }
        Route::Upgrade => upgrade::upgrade(shutdown, peer, id).await,
    }
}

/// `GET /events`: the event stream, with its own content type.
fn events(state: &State, id: &str) -> Response<Body> {
    let mut r = Response::new(sse::stream(&state.shutdown, &state.streams));
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
    r
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
