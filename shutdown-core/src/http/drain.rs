//! The per-request wrapper `serve` puts around the application: records a request that has
//! to wait so that the report can name it, adds `Connection: close` to HTTP/1 responses
//! during the lame-duck window and the drain, and answers late requests with 503 when so
//! configured.
//!
//! What it costs per request, against `axum::serve`: a reference-counted copy of the path,
//! one load (and, on a connection's first request, one store) of the connection's protocol,
//! one load of the server's stage when the response is ready, lending the connection to a thread-local around
//! each poll of the application (see `current`), and one thin wrapper around the response
//! body; the connection's list is written only for requests that wait (see `conn`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{Request, Response, StatusCode, Version};
use http_body::Body;
use hyper::body::Incoming;
use tower::ServiceExt;

use super::body::ServeBody;
use super::config::LateRequests;
use super::conn::{ConnState, RequestRecord};
use super::current::{self, Engine};
use super::panic;
use super::shared::Shared;
use crate::error::BoxError;

/// The hyper service of one connection.
pub(crate) struct DrainService<S, A> {
    pub(crate) inner: S,
    pub(crate) conn: Arc<ConnState>,
    /// The engine serving, for layers and extractors (see `current`).
    pub(crate) engine: Engine,
    /// The peer's address, put into each request as axum's `ConnectInfo` when asked for.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) connect_info: Option<A>,
}

impl<S, B, A> hyper::service::Service<Request<Incoming>> for DrainService<S, A>
where
    S: tower::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    A: Clone + Send + Sync + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Response = Response<ServeBody<B>>;
    type Error = S::Error;
    type Future = DrainFuture<S::Future, B>;

    #[cfg_attr(not(feature = "axum"), allow(unused_mut))]
    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        let http1 = req.version() < Version::HTTP_2;
        self.conn.mark_used(!http1);
        let shared = self.conn.shared();
        if shared.late == LateRequests::Refuse && shared.is_draining() {
            self.conn.refused(req.method(), req.uri());
            return DrainFuture::Refused {
                response: Some(Box::new(refusal(shared, http1))),
            };
        }
        let record = RequestRecord::new(self.conn.clone(), req.method(), req.uri());
        #[cfg(feature = "axum")]
        if let Some(peer) = &self.connect_info {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer.clone()));
        }
        // Layers run their `call` here and handlers run in the future's `poll`: both see
        // which `serve` the request came through.
        let _entered = current::enter(self.engine);
        // Services that are ready at once (an axum `Router` always is) are called directly,
        // so the future holds only the application's future; others are driven by a boxed
        // `Oneshot` that waits for readiness with the task's waker. Each arm builds the
        // whole future in place: it is large, and every move of it is a copy.
        let mut service = self.inner.clone();
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match service.poll_ready(&mut cx) {
            Poll::Ready(Ok(())) => DrainFuture::Serve {
                fut: Call::Ready {
                    fut: service.call(req),
                },
                http1,
                engine: self.engine,
                record: Some(record),
            },
            _ => DrainFuture::Serve {
                fut: Call::Later {
                    fut: Box::pin(service.oneshot(req)),
                },
                http1,
                engine: self.engine,
                record: Some(record),
            },
        }
    }
}

type Boxed<T> = Pin<Box<dyn Future<Output = T> + Send>>;

pin_project_lite::pin_project! {
    /// The application's response future.
    #[project = CallProj]
    pub(crate) enum Call<F: Future> {
        Ready { #[pin] fut: F },
        Later { fut: Boxed<F::Output> },
    }
}

impl<F: Future> Future for Call<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        match self.project() {
            CallProj::Ready { fut } => fut.poll(cx),
            CallProj::Later { fut } => fut.as_mut().poll(cx),
        }
    }
}

fn refusal<B>(shared: &Shared, http1: bool) -> Response<ServeBody<B>> {
    let mut response = Response::new(ServeBody::Full {
        data: Some(Bytes::from_static(
            b"the server is shutting down; retry later\n",
        )),
    });
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = response.headers_mut();
    headers.insert(RETRY_AFTER, shared.retry_after.clone());
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if http1 {
        headers.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

pin_project_lite::pin_project! {
    /// The response future of [`DrainService`].
    #[project = DrainProj]
    pub(crate) enum DrainFuture<F, B>
    where
        F: Future,
    {
        Serve { #[pin] fut: Call<F>, http1: bool, engine: Engine, record: Option<RequestRecord> },
        // Boxed: refusals are rare, and the future stays small for the common case.
        Refused { response: Option<Box<Response<ServeBody<B>>>> },
    }
}

impl<F, B, E> Future for DrainFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body,
{
    type Output = Result<Response<ServeBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            DrainProj::Serve {
                fut,
                http1,
                engine,
                record,
            } => {
                let Some(rec) = record.as_mut() else {
                    return Poll::Pending;
                };
                let entered = current::enter(*engine);
                let polled = panic::poll(fut, cx);
                drop(entered);
                let response = match polled {
                    Ok(Poll::Pending) => {
                        rec.waiting();
                        return Poll::Pending;
                    }
                    Ok(Poll::Ready(r)) => r?,
                    // The application's future is never polled again: `record` is taken.
                    Err(payload) => {
                        let answer = panic::answer(*engine, rec, &*payload);
                        record.take();
                        return Poll::Ready(Ok(answer));
                    }
                };
                let closing = *http1 && rec.conn().shared().closes_connections();
                let mut response = response.map(|body| ServeBody::Inner {
                    body,
                    record: record.take(),
                });
                // A request that waited and has no body to send is complete now: hyper drops
                // such a body without polling it. Checked in place: the body is not moved again.
                if let ServeBody::Inner { body, record } = response.body_mut()
                    && record.as_ref().is_some_and(RequestRecord::is_listed)
                    && body.is_end_stream()
                    && let Some(r) = record.as_mut()
                {
                    r.served();
                    *record = None;
                }
                // A protocol switch (WebSocket) keeps its `Connection: upgrade`.
                if closing && response.status() != StatusCode::SWITCHING_PROTOCOLS {
                    response
                        .headers_mut()
                        .insert(CONNECTION, HeaderValue::from_static("close"));
                }
                Poll::Ready(Ok(response))
            }
            DrainProj::Refused { response } => match response.take() {
                Some(r) => Poll::Ready(Ok(*r)),
                None => Poll::Pending,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpConfig;

    #[test]
    fn refusal_is_503_with_retry_after_and_close_on_http1() {
        let config = HttpConfig {
            late_requests: LateRequests::Refuse,
            retry_after: std::time::Duration::from_millis(1500),
            ..HttpConfig::default()
        };
        let shared = Shared::new(&config, std::time::Duration::from_secs(10));
        let h1: Response<ServeBody<String>> = refusal(&shared, true);
        assert_eq!(h1.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            h1.headers()[RETRY_AFTER],
            "2",
            "rounded up to whole seconds"
        );
        assert_eq!(h1.headers()[CONNECTION], "close");
        let h2: Response<ServeBody<String>> = refusal(&shared, false);
        assert!(
            h2.headers().get(CONNECTION).is_none(),
            "connection headers are illegal in HTTP/2"
        );
        assert_eq!(h2.headers()[RETRY_AFTER], "2");
    }
}
