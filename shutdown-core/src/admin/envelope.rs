//! One JSON envelope for every response, errors included:
//! `{"success": true, "data": …, "request_id": "…"}` or
//! `{"success": false, "error": {"code", "message", "details"}, "request_id": "…"}`.

use std::convert::Infallible;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

/// The body type of every admin response.
pub(crate) type Body = UnsyncBoxBody<Bytes, Infallible>;

/// A response that failed, with the envelope's `error` fields.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) details: Value,
    pub(crate) allow: Option<String>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: json!({}),
            allow: None,
        }
    }

    pub(crate) fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub(crate) fn bad_request(field: &str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
            .details(json!({ "field": field }))
    }
}

/// A request id: the client's `X-Request-Id` when it is short and printable, else a new one.
pub(crate) fn request_id(headers: &http::HeaderMap) -> String {
    if let Some(v) = headers.get("x-request-id").and_then(|v| v.to_str().ok())
        && !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
    {
        return v.to_string();
    }
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static SEED: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut h = SEED.get_or_init(Default::default).build_hasher();
    h.write_u64(n);
    // `req_<unix ms>_<unique>`: sortable by time like the classic daemon's `req_<ms>`, and
    // unique within the process.
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!(
        "req_{ms}_{:08x}{:04x}",
        h.finish() & 0xffff_ffff,
        n & 0xffff
    )
}

pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed_unsync()
}

fn json_response(status: StatusCode, value: &Value, request_id: &str) -> Response<Body> {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{\"success\":false}".to_vec());
    let mut r = Response::new(full(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-request-id", v);
    }
    r
}

/// `{"success": true, "data": data, "request_id": …}` with `status`.
pub(crate) fn ok(status: StatusCode, data: Value, request_id: &str) -> Response<Body> {
    json_response(
        status,
        &json!({ "success": true, "data": data, "request_id": request_id }),
        request_id,
    )
}

/// `{"success": false, "error": {…}, "request_id": …}`, with `Allow` for 405.
pub(crate) fn error(e: &ApiError, request_id: &str) -> Response<Body> {
    let value = json!({
        "success": false,
        "error": { "code": e.code, "message": e.message, "details": e.details },
        "request_id": request_id,
    });
    let mut r = json_response(e.status, &value, request_id);
    if let Some(allow) = &e.allow
        && let Ok(v) = HeaderValue::from_str(allow)
    {
        r.headers_mut().insert(header::ALLOW, v);
    }
    if e.status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"graceful-admin\""),
        );
    }
    if e.status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    r
}

/// The error of a connection the listener cannot serve now.
pub(crate) fn too_many_connections() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "TOO_MANY_CONNECTIONS",
        "the admin listener is serving its maximum number of connections; retry shortly",
    )
}

/// The raw bytes of a 503 for a connection refused before hyper sees it (connection limit).
pub(crate) fn busy_bytes() -> Vec<u8> {
    let id = request_id(&http::HeaderMap::new());
    let body = json!({
        "success": false,
        "error": {
            "code": "TOO_MANY_CONNECTIONS",
            "message": "the admin listener is serving its maximum number of connections; retry shortly",
            "details": {},
        },
        "request_id": id,
    })
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\n\
         x-request-id: {id}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_unique_and_client_ids_are_kept_when_sane() {
        let h = http::HeaderMap::new();
        assert_ne!(request_id(&h), request_id(&h));
        let mut h = http::HeaderMap::new();
        h.insert("x-request-id", HeaderValue::from_static("abc-123"));
        assert_eq!(request_id(&h), "abc-123");
        h.insert("x-request-id", HeaderValue::from_static("has space"));
        assert_ne!(request_id(&h), "has space");
    }
}
