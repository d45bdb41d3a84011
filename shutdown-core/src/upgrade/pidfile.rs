//! The PID file: written atomically once the service is ready, locked (`flock`) for the
//! process's lifetime, so that a reader tells a live owner (the lock is held) from a stale
//! file (it is not). During an upgrade the successor writes its own over it; the old process
//! never removes a file it no longer owns.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use crate::report::ShutdownReport;
use crate::shutdown::Extension;
use crate::sync::lock;

/// A written, locked PID file.
pub(crate) struct PidFile {
    path: PathBuf,
    file: Flock<std::fs::File>,
}

impl PidFile {
    /// Writes `<pid>\n` to `path` atomically, locked before it appears.
    pub(crate) fn write(path: &Path) -> std::io::Result<PidFile> {
        let text = format!("{}\n", std::process::id());
        let file = crate::fs::atomic_write_keeping(path, text.as_bytes(), |f| {
            Flock::lock(f, FlockArg::LockExclusiveNonblock)
                .map_err(|(_, errno)| std::io::Error::from(errno))
        })?;
        Ok(PidFile {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Removes the file, unless another process (a successor) replaced it.
    pub(crate) fn remove(self) {
        let ours = self.file.metadata().ok();
        let there = std::fs::metadata(&self.path).ok();
        if let (Some(a), Some(b)) = (ours, there)
            && a.dev() == b.dev()
            && a.ino() == b.ino()
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The PID file an engine owns, from the moment it is written to the end of the run.
///
/// Its removal is the engine's end-of-run work ([`Extension::end_of_run`]): done on the
/// engine's task before the run returns, so it cannot race the runtime's end as a task waiting
/// for the final phase would. A file written after the run ended is removed at once.
#[derive(Default)]
pub(crate) struct Owned(std::sync::Mutex<Held>);

/// Where the PID file stands.
#[derive(Default)]
enum Held {
    /// Not written (yet).
    #[default]
    Unwritten,
    /// Written, and removed at the end of the run.
    Written(PidFile),
    /// The run ended.
    Ended,
}

impl Owned {
    /// Keeps `file` until the end of the run (removes it now if the run already ended).
    pub(crate) fn keep(&self, file: PidFile) {
        let mut held = lock(&self.0);
        if matches!(*held, Held::Ended) {
            drop(held);
            file.remove();
        } else {
            *held = Held::Written(file);
        }
    }
}

impl Extension for Owned {
    fn end_of_run(&self, _report: &ShutdownReport) {
        let held = std::mem::replace(&mut *lock(&self.0), Held::Ended);
        if let Held::Written(file) = held {
            let path = file.path.display().to_string();
            file.remove();
            tracing::debug!(target: "graceful::upgrade", path, "PID file released");
        }
    }
}

/// Whether the PID file at `path` is held by a live process: `Some(pid)` when its lock is
/// held, `None` when it is absent, unreadable or stale (nobody holds the lock).
pub fn live_owner(path: &Path) -> Option<u32> {
    let file = std::fs::File::open(path).ok()?;
    let pid = std::fs::read_to_string(path).ok()?.trim().parse().ok()?;
    match Flock::lock(file, FlockArg::LockSharedNonblock) {
        // We got the lock: nobody holds it, the file is stale.
        Ok(_) => None,
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => Some(pid),
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_file_is_live_until_dropped_and_removed_only_by_its_owner() {
        let dir = std::env::temp_dir().join(format!("graceful-pidfile-{}", std::process::id()));
        let path = dir.join("svc.pid");
        let file = PidFile::write(&path).expect("written");
        assert_eq!(live_owner(&path), Some(std::process::id()));
        // A successor's file replaces it: the old owner must leave it.
        let newer = PidFile::write(&dir.join("other.pid")).expect("written");
        std::fs::rename(dir.join("other.pid"), &path).expect("renamed");
        file.remove();
        assert!(path.exists(), "the successor's PID file must stay");
        drop(newer);
        assert_eq!(live_owner(&path), None, "nobody holds the lock: stale");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn the_run_removes_its_pid_file_before_it_returns_and_a_late_one_at_once() {
        let dir = std::env::temp_dir().join(format!("graceful-pidrun-{}", std::process::id()));
        let path = dir.join("svc.pid");
        let graceful = crate::Graceful::builder()
            .signals([])
            .build()
            .expect("valid configuration");
        let owned = graceful.shutdown().extension::<Owned>();
        owned.keep(PidFile::write(&path).expect("written"));
        let during = path.clone();
        let outcome = graceful
            .run(move |_| async move {
                assert!(during.exists(), "written while the service runs");
            })
            .await;
        assert!(!outcome.report.is_forced());
        assert!(!path.exists(), "removed before `run` returned");
        // Written after the run ended (a writer that was late): removed at once.
        owned.keep(PidFile::write(&path).expect("written"));
        assert!(
            !path.exists(),
            "a file written after the end is not left behind"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
