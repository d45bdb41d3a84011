//! A `tokio::task::JoinHandle` as a resource: awaited within a deadline, then aborted.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::BoxError;
use crate::resource::Close;
use crate::sync::lock;

/// A spawned task held as a resource. [`Close`] takes `&self`, so the `JoinHandle` sits behind
/// a mutex: close cancels the task's [`CancellationToken`], awaits the task up to the
/// deadline (default 5 s), then aborts it and reports that it had to.
///
/// ```
/// use std::time::Duration;
/// use graceful::{Graceful, Resource};
/// use graceful::integrations::TaskHandle;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let flusher = Resource::new("flusher", 50, |_| async {
///     let task = TaskHandle::spawn(|stop| async move {
///         stop.cancelled().await; // flush what is buffered, then return
///     });
///     Ok::<_, graceful::BoxError>(task.deadline(Duration::from_secs(2)))
/// })
/// .close_trait();
/// let outcome = Graceful::builder()
///     .signals([])
///     .resource(flusher)
///     .build()
///     .expect("valid configuration")
///     .run(|_shutdown| async {})
///     .await;
/// assert!(outcome.report.errors().is_empty());
/// # }
/// ```
pub struct TaskHandle<T> {
    handle: Mutex<Option<JoinHandle<T>>>,
    stop: CancellationToken,
    deadline: Duration,
}

impl<T: Send + 'static> TaskHandle<T> {
    /// Holds a task spawned elsewhere. Close has no way to tell it to stop other than
    /// [`token`](TaskHandle::token): cancel-aware tasks should be made with
    /// [`spawn`](TaskHandle::spawn).
    pub fn new(handle: JoinHandle<T>) -> Self {
        TaskHandle {
            handle: Mutex::new(Some(handle)),
            stop: CancellationToken::new(),
            deadline: Duration::from_secs(5),
        }
    }

    /// Spawns `make(token)`; close cancels the token, then waits for the task.
    pub fn spawn<F, Fut>(make: F) -> Self
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = T> + Send + 'static,
    {
        let stop = CancellationToken::new();
        let handle = tokio::spawn(make(stop.clone()));
        TaskHandle {
            stop,
            ..TaskHandle::new(handle)
        }
    }

    /// How long close waits after cancelling before it aborts the task (default 5 s; the
    /// engine's `resource_close_timeout` bounds it too).
    pub fn deadline(mut self, d: Duration) -> Self {
        self.deadline = d;
        self
    }

    /// The token close cancels.
    pub fn token(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// `true` once the task has finished (or was taken by close).
    pub fn is_finished(&self) -> bool {
        lock(&self.handle)
            .as_ref()
            .is_none_or(JoinHandle::is_finished)
    }
}

impl<T> From<JoinHandle<T>> for TaskHandle<T>
where
    T: Send + 'static,
{
    fn from(handle: JoinHandle<T>) -> Self {
        TaskHandle::new(handle)
    }
}

impl<T> std::fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskHandle")
            .field("deadline", &self.deadline)
            .field("cancelled", &self.stop.is_cancelled())
            .finish_non_exhaustive()
    }
}

/// Cancels the token, awaits the task up to the deadline, then aborts it. A task that panicked
/// or had to be aborted is reported as an error.
impl<T: Send + 'static> Close for TaskHandle<T> {
    async fn close(&self) -> Result<(), BoxError> {
        self.stop.cancel();
        let handle = lock(&self.handle).take();
        let Some(mut handle) = handle else {
            return Ok(());
        };
        match tokio::time::timeout(self.deadline, &mut handle).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.is_panic() => Err(format!("the task panicked: {e}").into()),
            Ok(Err(_)) => Ok(()),
            Err(_) => {
                handle.abort();
                Err(format!(
                    "the task did not finish within {:?}; aborted",
                    self.deadline
                )
                .into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waits_for_a_cooperative_task() {
        // `is_finished` is true after any close (the handle is taken): ask the task instead.
        let stopped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stopped.clone();
        let t = TaskHandle::spawn(|stop| async move {
            stop.cancelled().await;
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        assert!(!t.is_finished());
        t.close().await.expect("closes");
        assert!(
            stopped.load(std::sync::atomic::Ordering::SeqCst),
            "close returned before the task ran to its end"
        );
    }

    #[tokio::test]
    async fn aborts_a_stuck_task_at_its_deadline() {
        let t = TaskHandle::new(tokio::spawn(std::future::pending::<()>()))
            .deadline(Duration::from_millis(20));
        let err = t.close().await.expect_err("must be aborted");
        assert!(err.to_string().contains("aborted"), "{err}");
    }
}
