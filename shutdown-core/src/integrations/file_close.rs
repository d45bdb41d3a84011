//! `tokio::fs::File` as a resource: flushed and synced on close.

use tokio::io::AsyncWriteExt;
use tokio::sync::{Mutex, MutexGuard};

use crate::error::BoxError;
use crate::resource::Close;

/// A file written by the service: [`Close`] takes `&self`, so the file sits behind a mutex;
/// close flushes the buffered writes and `fsync`s the file, so what was written survives a
/// power loss after the process exits.
///
/// ```no_run
/// use graceful::{Graceful, Resource};
/// use graceful::integrations::SyncedFile;
/// use tokio::io::AsyncWriteExt;
///
/// # async fn demo() {
/// let journal = Resource::new("journal", 10, |_| async {
///     Ok::<_, std::io::Error>(SyncedFile::new(tokio::fs::File::create("journal.log").await?))
/// })
/// .close_trait();
/// let outcome = Graceful::builder()
///     .resource(journal)
///     .build()
///     .expect("valid configuration")
///     .run(|shutdown| async move {
///         let journal = shutdown.resources().get::<SyncedFile>().expect("registered");
///         journal.lock().await.write_all(b"started\n").await.expect("write");
///     })
///     .await;
/// # let _ = outcome;
/// # }
/// ```
#[derive(Debug)]
pub struct SyncedFile(Mutex<tokio::fs::File>);

impl SyncedFile {
    /// Wraps an open file.
    pub fn new(file: tokio::fs::File) -> Self {
        SyncedFile(Mutex::new(file))
    }

    /// Exclusive access, to write.
    pub async fn lock(&self) -> MutexGuard<'_, tokio::fs::File> {
        self.0.lock().await
    }
}

impl From<tokio::fs::File> for SyncedFile {
    fn from(file: tokio::fs::File) -> Self {
        SyncedFile::new(file)
    }
}

/// `flush` then `sync_all`.
impl Close for SyncedFile {
    async fn close(&self) -> Result<(), BoxError> {
        let mut file = self.0.lock().await;
        file.flush().await?;
        file.sync_all().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn close_flushes_buffered_writes() {
        let path =
            std::env::temp_dir().join(format!("graceful-synced-file-{}", std::process::id()));
        let file = SyncedFile::new(tokio::fs::File::create(&path).await.expect("create"));
        file.lock().await.write_all(b"hello").await.expect("write");
        file.close().await.expect("close");
        assert_eq!(std::fs::read(&path).expect("read"), b"hello");
        let _ = std::fs::remove_file(&path);
    }
}
