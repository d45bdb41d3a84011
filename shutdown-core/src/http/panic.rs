//! A request handler that panics is answered, counted and said, not a reset connection.
//!
//! [`serve`](super::serve) polls the application's response future inside
//! [`std::panic::catch_unwind`] (as `tower_http::catch_panic` does around a service). A panic
//! ends that request only: the client gets `500 Internal Server Error`, the connection and the
//! service keep serving, and the panic is
//!
//! - logged at ERROR (target `graceful::http`) with the method, the path and the message;
//! - counted in the report ([`ShutdownReport::http_panics`](crate::report::ShutdownReport::http_panics)),
//!   in the admin API's `/status` (`http_panics`) and, with the `metrics` feature, in
//!   `graceful_http_panics_total`;
//! - with `[http] fatal_panics = true`, a fatal failure: the shutdown starts as
//!   [`Shutdown::fail`](crate::Shutdown::fail) starts it, and the exit code is
//!   [`FAILED`](crate::exit::FAILED) (69).
//!
//! Cost when nothing panics: `catch_unwind` is a call through a landing pad, no allocation and
//! no atomic operation; everything else here runs only after a panic.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};

use super::body::ServeBody;
use super::conn::RequestRecord;
use super::current::{self, Engine};
use crate::describe::payload_message;
use crate::panics::HandlerPanics;

/// Polls `fut`, catching a panic. The future must not be polled again after `Err`.
#[inline]
pub(crate) fn poll<F: Future>(
    fut: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Result<Poll<F::Output>, Box<dyn Any + Send>> {
    // The future is never polled again after a panic, so no broken invariant is observed.
    catch_unwind(AssertUnwindSafe(|| fut.poll(cx)))
}

/// The answer to a request whose handler panicked with `payload`, after logging, counting and,
/// when so configured, starting the shutdown.
#[cold]
pub(crate) fn answer<B>(
    engine: Engine,
    record: &RequestRecord,
    payload: &(dyn Any + Send),
) -> Response<ServeBody<B>> {
    let message = payload_message(payload);
    let method = record.method();
    let path = record.path();
    let fatal = record.conn().shared().fatal_panics;
    tracing::error!(
        target: "graceful::http",
        %method,
        path,
        panic = %message,
        fatal,
        "request handler panicked; answered 500"
    );
    #[cfg(feature = "metrics")]
    metrics::counter!("graceful_http_panics_total").increment(1);
    if let Some(shutdown) = current::shutdown_of(engine) {
        shutdown.extension::<HandlerPanics>().add();
        if fatal {
            shutdown.fail(
                "http",
                format!("the handler of {method} {path} panicked: {message} ([http] fatal_panics = true)"),
            );
        }
    }
    let mut response = Response::new(ServeBody::Full {
        data: Some(Bytes::from_static(b"internal server error\n")),
    });
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
