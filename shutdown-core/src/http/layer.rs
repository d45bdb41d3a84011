//! [`TrackLayer`]: a tower layer that marks each request as in-flight work, for servers that
//! do not use [`serve`](crate::http::serve).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};

use super::current;
use crate::shutdown::Shutdown;
use crate::tracker::TrackGuard;

/// Tracks every request with [`Shutdown::track`] from the moment it arrives until its
/// response body has been sent, so the `DrainingConnections` phase waits for it.
///
/// It also puts the [`Shutdown`] in the request's extensions, so handlers can extract it
/// (not under [`serve`](crate::http::serve), which already provides it).
///
/// Under [`serve`](crate::http::serve) of the same engine every request is tracked already,
/// and the layer only passes requests through.
///
/// With axum: `Router::new().route(…).layer(graceful::http::TrackLayer::new(&shutdown))`, or,
/// one wrapper for the whole router instead of one per route,
/// `graceful::http::Track::new(router, &shutdown)`. With any tower service:
///
/// ```
/// use std::convert::Infallible;
/// use tower::{Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let shutdown = graceful::Graceful::builder().build()?.shutdown();
/// let hello = tower::service_fn(|_req: http::Request<String>| async {
///     Ok::<_, Infallible>(http::Response::new(String::from("hello")))
/// });
/// let service = graceful::http::TrackLayer::new(&shutdown).layer(hello);
/// let response = service.oneshot(http::Request::new(String::new())).await?;
/// assert_eq!(shutdown.progress().in_flight, 1, "tracked until the body has been sent");
/// drop(response);
/// assert_eq!(shutdown.progress().in_flight, 0);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct TrackLayer {
    shutdown: Shutdown,
}

impl TrackLayer {
    /// A layer tracking requests in `shutdown`'s engine.
    pub fn new(shutdown: &Shutdown) -> Self {
        TrackLayer {
            shutdown: shutdown.clone(),
        }
    }
}

impl<S> tower::Layer<S> for TrackLayer {
    type Service = Track<S>;

    fn layer(&self, inner: S) -> Track<S> {
        Track {
            inner,
            shutdown: self.shutdown.clone(),
        }
    }
}

/// The service made by [`TrackLayer`].
#[derive(Clone, Debug)]
pub struct Track<S> {
    inner: S,
    shutdown: Shutdown,
}

impl<S> Track<S> {
    /// Tracks every request of `inner`, the whole service at once: what
    /// `TrackLayer::new(shutdown).layer(inner)` builds. Around an `axum::Router` this is
    /// cheaper than `Router::layer`, which wraps (and boxes) every route separately.
    pub fn new(inner: S, shutdown: &Shutdown) -> Self {
        Track {
            inner,
            shutdown: shutdown.clone(),
        }
    }

    /// The wrapped service.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn inner_mut(&mut self) -> &mut S {
        &mut self.inner
    }
}

impl<S, ReqBody, ResBody> tower::Service<Request<ReqBody>> for Track<S>
where
    S: tower::Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<TrackedBody<ResBody>>;
    type Error = S::Error;
    type Future = TrackFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // Under `serve` of the same engine the connection is tracked already and the
        // extractor finds the engine: nothing to add.
        let guard = if current::served_by(&self.shutdown) {
            None
        } else {
            if req.extensions().get::<Shutdown>().is_none() {
                req.extensions_mut().insert(self.shutdown.clone());
            }
            Some(self.shutdown.track())
        };
        TrackFuture {
            fut: self.inner.call(req),
            guard,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`Track`].
    pub struct TrackFuture<F> {
        #[pin]
        fut: F,
        guard: Option<TrackGuard>,
    }
}

impl<F, B, E> Future for TrackFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<TrackedBody<B>>, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.fut.poll(cx))?;
        let guard = this.guard.take();
        Poll::Ready(Ok(response.map(|body| TrackedBody { body, guard })))
    }
}

impl<F> std::fmt::Debug for TrackFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackFuture").finish_non_exhaustive()
    }
}

pin_project_lite::pin_project! {
    /// A response body that keeps its request in flight until the last frame is sent (or the
    /// body is dropped).
    pub struct TrackedBody<B> {
        #[pin]
        body: B,
        guard: Option<TrackGuard>,
    }
}

impl<B> std::fmt::Debug for TrackedBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackedBody")
            .field("in_flight", &self.guard.is_some())
            .finish_non_exhaustive()
    }
}

impl<B: Body> Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    #[inline]
    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let frame = ready!(this.body.poll_frame(cx));
        if frame.is_none() {
            this.guard.take();
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
