//! The per-request wrapper `serve` puts around the application: records the request for the
//! report, adds `Connection: close` to HTTP/1 responses during the drain, and answers late
//! requests with 503 when so configured.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{Request, Response, StatusCode, Version};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tower::ServiceExt;
use tower::util::Oneshot;

use super::config::{HttpConfig, LateRequests};
use super::conn::{ConnState, RequestEntry};
use crate::error::BoxError;
use crate::shutdown::Shutdown;

/// What every connection of one `serve` shares.
pub(crate) struct Shared {
    /// Set when the listener closed (the phase reached `DrainingConnections`).
    pub(crate) draining: AtomicBool,
    pub(crate) late: LateRequests,
    pub(crate) retry_after: HeaderValue,
    // Read by the axum extractor only.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) shutdown: Shutdown,
}

impl Shared {
    pub(crate) fn new(config: &HttpConfig, shutdown: Shutdown) -> Self {
        Shared {
            draining: AtomicBool::new(false),
            late: config.late_requests,
            retry_after: HeaderValue::from(config.retry_after_secs()),
            shutdown,
        }
    }

    fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }
}

/// Put in each request's extensions by `serve`, so handlers can extract the
/// [`Shutdown`] without an `Arc` clone on every request.
#[derive(Clone)]
pub(crate) struct ConnHandle(
    #[cfg_attr(not(feature = "axum"), allow(dead_code))] pub(crate) Arc<ConnState>,
);

// Read by the axum extractor only.
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
impl ConnHandle {
    pub(crate) fn shutdown(&self) -> &Shutdown {
        &self.0.shared().shutdown
    }
}

/// The hyper service of one connection.
pub(crate) struct DrainService<S> {
    pub(crate) inner: S,
    pub(crate) conn: Arc<ConnState>,
}

impl<S, B> hyper::service::Service<Request<Incoming>> for DrainService<S>
where
    S: tower::Service<Request<Incoming>, Response = Response<B>> + Clone,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Response = Response<ServeBody<B>>;
    type Error = S::Error;
    type Future = DrainFuture<S, B>;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        let shared = self.conn.shared();
        let http1 = req.version() < Version::HTTP_2;
        if shared.late == LateRequests::Refuse && shared.is_draining() {
            return DrainFuture::Refused {
                response: Some(refusal(shared, http1)),
            };
        }
        let entry = self.conn.request(req.method(), req.uri());
        req.extensions_mut().insert(ConnHandle(self.conn.clone()));
        DrainFuture::Serve {
            fut: self.inner.clone().oneshot(req),
            http1,
            entry: Some(entry),
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
    pub(crate) enum DrainFuture<S, B>
    where
        S: tower::Service<Request<Incoming>>,
    {
        Serve { #[pin] fut: Oneshot<S, Request<Incoming>>, http1: bool, entry: Option<RequestEntry> },
        Refused { response: Option<Response<ServeBody<B>>> },
    }
}

impl<S, B> Future for DrainFuture<S, B>
where
    S: tower::Service<Request<Incoming>, Response = Response<B>>,
{
    type Output = Result<Response<ServeBody<B>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            DrainProj::Serve { fut, http1, entry } => {
                let response = ready!(fut.poll(cx))?;
                let entry = entry.take();
                let draining = entry
                    .as_ref()
                    .is_some_and(|e| e.conn().shared().is_draining());
                let mut response = response.map(|body| ServeBody::Inner {
                    body,
                    _entry: entry,
                });
                if *http1 && draining {
                    response
                        .headers_mut()
                        .insert(CONNECTION, HeaderValue::from_static("close"));
                }
                Poll::Ready(Ok(response))
            }
            DrainProj::Refused { response } => match response.take() {
                Some(r) => Poll::Ready(Ok(r)),
                None => Poll::Pending,
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// The response body `serve` sends: the application's, or its own short refusal.
    #[project = BodyProj]
    pub(crate) enum ServeBody<B> {
        Inner { #[pin] body: B, _entry: Option<RequestEntry> },
        Full { data: Option<Bytes> },
    }
}

impl<B> Body for ServeBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.project() {
            BodyProj::Inner { body, _entry } => {
                let frame = ready!(body.poll_frame(cx));
                if frame.is_none() {
                    // The request is complete: it leaves the report's list now.
                    _entry.take();
                }
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            BodyProj::Full { data } => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ServeBody::Inner { body, .. } => body.is_end_stream(),
            ServeBody::Full { data } => data.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ServeBody::Inner { body, .. } => body.size_hint(),
            ServeBody::Full { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_is_503_with_retry_after_and_close_on_http1() {
        let shutdown = crate::Graceful::builder()
            .signals([])
            .build()
            .expect("engine")
            .shutdown();
        let config = HttpConfig {
            late_requests: LateRequests::Refuse,
            retry_after: std::time::Duration::from_millis(1500),
        };
        let shared = Shared::new(&config, shutdown);
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
