//! [`until_drain`]: Server-Sent Events and other long streams that end cleanly when the drain
//! starts, instead of running until the drain deadline aborts them.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::serve::reached;
use crate::phase::Phase;
use crate::shutdown::Shutdown;

/// Ends `stream` when the drain starts (the phase reaches
/// [`DrainingConnections`](Phase::DrainingConnections)): the item being produced is dropped
/// and the stream returns `None`, so the response ends properly (for HTTP/1 the last chunk
/// is sent, for HTTP/2 the stream is ended) and the connection can close. Clients of
/// Server-Sent Events reconnect on their own, to an instance that is not going away. Until
/// then the stream is passed through untouched.
///
/// ```
/// use std::convert::Infallible;
/// use axum::response::sse::{Event, Sse};
/// use futures_core::Stream;
///
/// /// Any stream of events (a broadcast subscription, a database change feed, …).
/// fn live_events<S>(events: S, shutdown: &graceful::Shutdown) -> Sse<graceful::http::UntilDrain<S>>
/// where
///     S: Stream<Item = Result<Event, Infallible>> + Send + 'static,
/// {
///     Sse::new(graceful::http::until_drain(events, shutdown))
/// }
/// # let _ = live_events::<futures_core::stream::BoxStream<'static, Result<Event, Infallible>>>;
/// ```
pub fn until_drain<S: Stream>(stream: S, shutdown: &Shutdown) -> UntilDrain<S> {
    let mut phase = shutdown.phase();
    UntilDrain {
        stream,
        drain: Some(Box::pin(async move {
            reached(&mut phase, |p| p >= Phase::DrainingConnections).await
        })),
    }
}

pin_project_lite::pin_project! {
    /// The stream of [`until_drain`].
    pub struct UntilDrain<S> {
        #[pin]
        stream: S,
        // `None` once the stream has ended.
        drain: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    }
}

impl<S> std::fmt::Debug for UntilDrain<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UntilDrain")
            .field("ended", &self.drain.is_none())
            .finish_non_exhaustive()
    }
}

impl<S: Stream> Stream for UntilDrain<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        let Some(drain) = this.drain else {
            return Poll::Ready(None);
        };
        if drain.as_mut().poll(cx).is_ready() {
            *this.drain = None;
            return Poll::Ready(None);
        }
        let item = this.stream.poll_next(cx);
        if let Poll::Ready(None) = item {
            *this.drain = None;
        }
        item
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.drain {
            Some(_) => (0, self.stream.size_hint().1),
            None => (0, Some(0)),
        }
    }
}
