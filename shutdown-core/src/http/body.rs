//! The response body `serve` sends: the application's own, watched until its last frame so the
//! request leaves the drain's list only when it is complete, or a short body of `serve`'s own
//! (a refusal, a panic's 500).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use super::conn::RequestRecord;
use crate::error::BoxError;

pin_project_lite::pin_project! {
    /// The response body `serve` sends: the application's, or its own short refusal.
    #[project = BodyProj]
    pub(crate) enum ServeBody<B> {
        Inner { #[pin] body: B, record: Option<RequestRecord> },
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
            BodyProj::Inner { mut body, record } => match body.as_mut().poll_frame(cx) {
                Poll::Pending => {
                    if let Some(r) = record {
                        r.waiting();
                    }
                    Poll::Pending
                }
                Poll::Ready(frame) => {
                    // The request is complete: it leaves the report's list now. hyper may
                    // drop a body whose length it knows without asking for its end, so a
                    // listed request's last frame ends it too.
                    let complete = frame.is_none()
                        || (record.as_ref().is_some_and(RequestRecord::is_listed)
                            && matches!(frame, Some(Ok(_)))
                            && body.is_end_stream());
                    if complete {
                        if let Some(r) = record.as_mut() {
                            r.served();
                        }
                        *record = None;
                    }
                    Poll::Ready(frame.map(|f| f.map_err(Into::into)))
                }
            },
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
