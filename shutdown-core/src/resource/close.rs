//! The [`Close`] trait and the conversions close handlers may return.

use std::future::Future;

use crate::error::BoxError;

/// How a value closes when the shutdown reaches it.
///
/// Implement it by hand, or write `#[derive(graceful::Close)]`. A `#[resource]` whose type
/// implements `Close` needs no `close = "…"` argument. The engine bounds every close by
/// `resource_close_timeout`, catches panics, and reports errors by the resource's name.
///
/// ```
/// use graceful::Close;
///
/// # #[allow(dead_code)]
/// struct Cache;
///
/// impl Close for Cache {
///     async fn close(&self) -> Result<(), graceful::BoxError> {
///         // flush to disk, say goodbye to peers, …
///         Ok(())
///     }
/// }
/// ```
pub trait Close: Send + Sync + 'static {
    /// Releases the value's external resources. Called at most once by the engine.
    fn close(&self) -> impl Future<Output = Result<(), BoxError>> + Send;
}

impl<T: Close> Close for std::sync::Arc<T> {
    fn close(&self) -> impl Future<Output = Result<(), BoxError>> + Send {
        (**self).close()
    }
}

impl<T: Close> Close for Box<T> {
    fn close(&self) -> impl Future<Output = Result<(), BoxError>> + Send {
        (**self).close()
    }
}

impl<T: Close> Close for Option<T> {
    async fn close(&self) -> Result<(), BoxError> {
        match self {
            Some(v) => v.close().await,
            None => Ok(()),
        }
    }
}

impl<T: Close> Close for Vec<T> {
    /// Closes every element in order; all are closed even when one fails, and the first error
    /// is returned.
    async fn close(&self) -> Result<(), BoxError> {
        let mut first = None;
        for v in self {
            if let Err(e) = v.close().await {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

/// What a close method may return: `()` or `Result<_, E>` with `E` convertible to
/// [`BoxError`] (futures of those are awaited first).
pub trait CloseOutput {
    /// The outcome as a result.
    fn into_close_result(self) -> Result<(), BoxError>;
}

impl CloseOutput for () {
    fn into_close_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<T, E: Into<BoxError>> CloseOutput for Result<T, E> {
    fn into_close_result(self) -> Result<(), BoxError> {
        self.map(|_| ()).map_err(Into::into)
    }
}
