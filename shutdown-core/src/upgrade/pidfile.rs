//! The PID file: written atomically once the service is ready, locked (`flock`) for the
//! process's lifetime, so that a reader tells a live owner (the lock is held) from a stale
//! file (it is not). During an upgrade the successor writes its own over it; the old process
//! never removes a file it no longer owns.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

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
}
