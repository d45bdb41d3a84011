//! `tracing_appender::non_blocking::WorkerGuard`: flushed at close.

use std::sync::Mutex;

use tracing_appender::non_blocking::WorkerGuard;

use crate::error::BoxError;
use crate::resource::Close;
use crate::sync::lock;

/// The guard of a `tracing_appender::non_blocking` writer, as a resource. Dropping the guard
/// flushes the lines still queued; [`Close`] takes `&self`, so the guard sits behind a mutex
/// and close drops it (on a blocking thread: the flush waits for the writer). Give it the
/// lowest priority, so that the other closes are still logged.
///
/// ```no_run
/// use graceful::{Graceful, Resource};
/// use graceful::integrations::LogFlusher;
///
/// # async fn demo() {
/// let (writer, guard) = tracing_appender::non_blocking(std::io::stdout());
/// # let _ = writer;
/// let logs = Resource::from_value("logs", i32::MIN, LogFlusher::new(guard)).close_trait();
/// let outcome = Graceful::builder()
///     .resource(logs)
///     .build()
///     .expect("valid configuration")
///     .run(|_shutdown| async {})
///     .await;
/// # let _ = outcome;
/// # }
/// ```
#[derive(Debug)]
pub struct LogFlusher(Mutex<Option<WorkerGuard>>);

impl LogFlusher {
    /// Holds `guard` until close.
    pub fn new(guard: WorkerGuard) -> Self {
        LogFlusher(Mutex::new(Some(guard)))
    }
}

impl From<WorkerGuard> for LogFlusher {
    fn from(guard: WorkerGuard) -> Self {
        LogFlusher::new(guard)
    }
}

/// Drops the guard, which flushes the queued lines to the writer.
impl Close for LogFlusher {
    async fn close(&self) -> Result<(), BoxError> {
        let guard = lock(&self.0).take();
        if let Some(guard) = guard {
            tokio::task::spawn_blocking(move || drop(guard)).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn close_flushes_queued_lines() {
        let path = std::env::temp_dir().join(format!("graceful-appender-{}", std::process::id()));
        let file = std::fs::File::create(&path).expect("create");
        let (mut writer, guard) = tracing_appender::non_blocking(file);
        for i in 0..10_000 {
            writeln!(writer, "line {i}").expect("queue");
        }
        LogFlusher::new(guard).close().await.expect("close");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text.lines().count(), 10_000);
        let _ = std::fs::remove_file(&path);
    }
}
