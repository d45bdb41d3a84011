//! Finding a manifest process in a [`Snapshot`]: by PID file first, then by `pattern`,
//! with stale PID files (dead process, garbage, PID reuse) detected and reported.
//!
//! A graceful service holds an exclusive `flock` on its PID file for its whole lifetime
//! (it locks the file before renaming it into place). So a PID file whose lock is held
//! names a live owner for certain, and no heuristic is needed. Other programs do not lock
//! their PID files: for an unlocked file the PID must be running, match `pattern`, and
//! (without a pattern) have started before the file was written. The lock is probed on the
//! descriptor the PID was read from, so the PID and the lock belong to the same file even
//! when a successor renames its own file over it meanwhile.
//!
//! On Windows graceful services do not lock their PID files (the in-place upgrade that
//! needs the lock is Unix-only), so every lock reads [`Lock::Unknown`] there and the
//! checks above decide: a running PID, matching `pattern`, started before the file was
//! written.

use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

#[cfg(unix)]
use nix::errno::Errno;
#[cfg(unix)]
use nix::fcntl::{Flock, FlockArg};
use serde::Serialize;

use crate::manifest::Process;
use crate::procs::{ProcInfo, Snapshot};

/// Slack allowed between a process's start time and its PID file's modification time
/// before the PID is considered reused (start time has tick precision, boot time seconds).
const REUSE_SLACK_SECS: f64 = 2.0;

/// Where a PID came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// Read from the process's PID file (not locked; checked by the heuristics).
    PidFile,
    /// Read from the process's PID file, whose lock is held: a live owner for certain.
    #[serde(rename = "pid-file-locked")]
    LockedPidFile,
    /// Found by matching `pattern` against command lines.
    Pattern,
}

impl Source {
    /// Short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            Source::PidFile => "pid-file",
            Source::LockedPidFile => "pid-file (locked)",
            Source::Pattern => "pattern",
        }
    }

    /// Whether the PID came from the PID file (locked or not).
    pub fn is_pid_file(self) -> bool {
        matches!(self, Source::PidFile | Source::LockedPidFile)
    }
}

/// Whether a PID file's lock is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lock {
    /// A process holds a lock on it: its owner is alive.
    Held,
    /// Nobody holds a lock on it (a graceful service's file is then stale; other programs
    /// never lock theirs).
    Free,
    /// The lock could not be probed (the file cannot be opened, or `flock` failed), or
    /// there is none to probe (Windows).
    Unknown,
}

impl Lock {
    /// A few words for the output.
    pub fn describe(self) -> &'static str {
        match self {
            Lock::Held => "locked (a live owner holds it)",
            Lock::Free => "not locked",
            Lock::Unknown => "lock unknown",
        }
    }
}

/// A PID file as read once: the PID it names and whether its lock is held, both from the
/// same open file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PidFileRead {
    /// The text it holds (trimmed).
    pub text: String,
    /// The PID it names, if its first word is a number.
    pub pid: Option<i32>,
    /// Whether its lock is held.
    pub lock: Lock,
}

/// Reads the PID file at `path` and probes its lock on the same descriptor: a shared
/// non-blocking `flock` on Unix (`EWOULDBLOCK`: a live owner holds an exclusive lock);
/// [`Lock::Unknown`] on Windows, where graceful services do not lock their PID files.
///
/// # Errors
/// The I/O error when the file cannot be opened or read (`NotFound` when it is absent).
pub fn read_pid_file(path: &Path) -> std::io::Result<PidFileRead> {
    let mut file = fs::File::open(path)?;
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    let lock = probe_lock(file);
    let text = text.trim().to_owned();
    let pid = text
        .split_whitespace()
        .next()
        .and_then(|t| t.parse::<i32>().ok());
    Ok(PidFileRead { text, pid, lock })
}

/// Probes the lock of an open PID file with a shared non-blocking `flock`
/// (`EWOULDBLOCK`: a live owner holds an exclusive lock).
#[cfg(unix)]
fn probe_lock(file: fs::File) -> Lock {
    match Flock::lock(file, FlockArg::LockSharedNonblock) {
        // We got the lock (released when dropped): nobody holds it.
        Ok(_) => Lock::Free,
        Err((_, Errno::EWOULDBLOCK)) => Lock::Held,
        Err(_) => Lock::Unknown,
    }
}

/// Windows: graceful services do not lock their PID files there; nothing to probe.
#[cfg(not(unix))]
fn probe_lock(_file: fs::File) -> Lock {
    Lock::Unknown
}

/// A PID file that must not be trusted.
#[derive(Debug, Clone, PartialEq)]
pub struct StalePidFile {
    /// The file.
    pub path: PathBuf,
    /// The PID it holds, if it holds one.
    pub pid: Option<i32>,
    /// Why it is stale.
    pub reason: String,
}

/// What the snapshot says about one process.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// Running: the processes to act on (one, or up to `max_matches` for a pattern).
    Running {
        /// The matched processes, sorted by PID.
        targets: Vec<ProcInfo>,
        /// Where the PIDs came from.
        source: Source,
    },
    /// Not running (no PID file, and `pattern` matched nothing or there is none).
    NotRunning,
    /// `pattern` matched more processes than `max_matches` allows: nothing is done.
    Ambiguous {
        /// Every matching PID.
        pids: Vec<i32>,
    },
}

/// The result of looking one process up.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    /// Whether and where it runs.
    pub found: Found,
    /// Its PID file, when that file exists but must not be trusted.
    pub stale: Option<StalePidFile>,
    /// Its PID file as read, when it has one that could be read.
    pub pid_file: Option<PidFileRead>,
}

/// Looks `process` up in `snap` (the PID file is read; the process table is read again only
/// for the PID of a locked PID file that the snapshot does not hold yet, such as a successor
/// started after it was taken).
pub fn locate(process: &Process, snap: &Snapshot) -> Located {
    let mut stale = None;
    let mut read = None;
    if let Some(path) = &process.pid_file {
        let (verdict, seen) = check_pid_file(process, path, snap);
        read = seen;
        match verdict {
            PidFileVerdict::Missing => {}
            PidFileVerdict::Stale(s) => stale = Some(s),
            PidFileVerdict::Live(info, lock) => {
                return Located {
                    found: Found::Running {
                        targets: vec![info],
                        source: if lock == Lock::Held {
                            Source::LockedPidFile
                        } else {
                            Source::PidFile
                        },
                    },
                    stale: None,
                    pid_file: read,
                };
            }
        }
    }
    let found = match &process.pattern {
        None => Found::NotRunning,
        Some(pattern) => {
            let matches = snap.matching(pattern);
            if matches.is_empty() {
                Found::NotRunning
            } else if matches.len() > process.max_matches {
                Found::Ambiguous {
                    pids: matches.iter().map(|p| p.pid).collect(),
                }
            } else {
                Found::Running {
                    targets: matches.into_iter().cloned().collect(),
                    source: Source::Pattern,
                }
            }
        }
    };
    Located {
        found,
        stale,
        pid_file: read,
    }
}

enum PidFileVerdict {
    Missing,
    Stale(StalePidFile),
    Live(ProcInfo, Lock),
}

fn check_pid_file(
    process: &Process,
    path: &Path,
    snap: &Snapshot,
) -> (PidFileVerdict, Option<PidFileRead>) {
    let stale = |pid: Option<i32>, reason: String| {
        PidFileVerdict::Stale(StalePidFile {
            path: path.to_path_buf(),
            pid,
            reason,
        })
    };
    let read = match read_pid_file(path) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return (PidFileVerdict::Missing, None);
        }
        Err(e) => return (stale(None, format!("cannot read it: {e}")), None),
    };
    let verdict = pid_file_verdict(process, path, snap, &read, stale);
    (verdict, Some(read))
}

fn pid_file_verdict(
    process: &Process,
    path: &Path,
    snap: &Snapshot,
    read: &PidFileRead,
    stale: impl Fn(Option<i32>, String) -> PidFileVerdict,
) -> PidFileVerdict {
    // Said of every unlocked file found stale: a graceful service would hold its lock.
    let unlocked = match read.lock {
        Lock::Free => "; the file is not locked, so no live graceful service owns it",
        Lock::Held | Lock::Unknown => "",
    };
    let Some(pid) = read.pid else {
        return stale(
            None,
            format!("it does not hold a PID (`{}`){unlocked}", read.text),
        );
    };
    if pid <= 0 {
        return stale(Some(pid), format!("{pid} is not a valid PID{unlocked}"));
    }
    let running = snap.get(pid).filter(|p| !p.is_zombie()).cloned();
    if read.lock == Lock::Held {
        // A live owner holds the lock: no heuristic applies. A successor may have written
        // the file after the snapshot was taken: look its PID up once more.
        let running = running.or_else(|| ProcInfo::read(pid).filter(|p| !p.is_zombie()));
        return match running {
            Some(info) => PidFileVerdict::Live(info, Lock::Held),
            None => stale(
                Some(pid),
                format!(
                    "PID {pid} is not running, yet a process holds the file's lock (a process \
                     that inherited its descriptor?)"
                ),
            ),
        };
    }
    let Some(info) = running else {
        return stale(Some(pid), format!("PID {pid} is not running{unlocked}"));
    };
    if let Some(pattern) = &process.pattern {
        if !info.cmdline.contains(pattern.as_str()) {
            return stale(
                Some(pid),
                format!(
                    "PID {pid} now runs `{}`, which does not contain `{pattern}` (PID reused){unlocked}",
                    info.display_cmdline()
                ),
            );
        }
    } else if let Some(written) = fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
    {
        // Without a pattern: a process that started after its PID file was written
        // cannot be the one that wrote it.
        let started = snap.start_epoch_of(&info);
        if snap.boot_time > 0 && started > written.as_secs_f64() + REUSE_SLACK_SECS {
            return stale(
                Some(pid),
                format!(
                    "PID {pid} (`{}`) started after the PID file was written (PID reused){unlocked}",
                    info.display_cmdline()
                ),
            );
        }
    }
    PidFileVerdict::Live(info, read.lock)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::manifest::Manifest;

    fn proc(pid: i32, state: char, cmdline: &str) -> ProcInfo {
        ProcInfo {
            pid,
            ppid: 1,
            pgid: pid,
            uid: 0,
            state,
            comm: "x".into(),
            cmdline: cmdline.into(),
            start_ticks: 0,
            cpu_ticks: 0,
            rss_pages: 0,
        }
    }

    fn manifest(dir: &Path, body: &str) -> Manifest {
        Manifest::parse(&dir.join("gracefulctl.toml"), body).unwrap()
    }

    #[test]
    fn pid_file_then_pattern_with_stale_and_ambiguous_cases() {
        let tmp = tempfile::tempdir().unwrap();
        let m = manifest(
            tmp.path(),
            "[[process]]\nname='web'\npid_file='web.pid'\npattern='web.py'\n\
             [[process]]\nname='wrk'\npattern='worker.py'\nmax_matches=2\n",
        );
        let web = m.process("web").unwrap();
        let wrk = m.process("wrk").unwrap();
        let snap = Snapshot::from_procs([
            proc(100, 'S', "python3 web.py"),
            proc(200, 'S', "vim notes.txt"),
            proc(300, 'Z', "python3 web.py"),
            proc(401, 'S', "python3 worker.py"),
            proc(402, 'S', "python3 worker.py"),
            proc(403, 'S', "python3 worker.py --spare"),
        ]);

        // Missing PID file: the pattern finds it.
        let l = locate(web, &snap);
        assert!(l.stale.is_none());
        assert!(
            matches!(&l.found, Found::Running { source: Source::Pattern, targets } if targets[0].pid == 100)
        );

        // A live, matching PID file is trusted.
        std::fs::write(tmp.path().join("web.pid"), "100\n").unwrap();
        let l = locate(web, &snap);
        assert!(matches!(
            &l.found,
            Found::Running {
                source: Source::PidFile,
                ..
            }
        ));

        // A reused PID: stale, and the pattern still finds the real one.
        std::fs::write(tmp.path().join("web.pid"), "200").unwrap();
        let l = locate(web, &snap);
        assert!(l.stale.as_ref().unwrap().reason.contains("PID reused"));
        assert!(matches!(
            &l.found,
            Found::Running {
                source: Source::Pattern,
                ..
            }
        ));

        // A zombie is not running.
        std::fs::write(tmp.path().join("web.pid"), "300").unwrap();
        let l = locate(web, &snap);
        assert!(l.stale.as_ref().unwrap().reason.contains("not running"));

        // Three workers, two allowed: ambiguous.
        assert_eq!(
            locate(wrk, &snap).found,
            Found::Ambiguous {
                pids: vec![401, 402, 403]
            }
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_locked_pid_file_is_live_and_an_unlocked_one_says_so_when_stale() {
        let tmp = tempfile::tempdir().unwrap();
        let m = manifest(
            tmp.path(),
            "[[process]]\nname='web'\npid_file='web.pid'\npattern='web.py'\n",
        );
        let web = m.process("web").unwrap();
        let snap = Snapshot::from_procs([proc(200, 'S', "web-v2 --serve")]);
        let path = tmp.path().join("web.pid");
        std::fs::write(&path, "200\n").unwrap();

        // Unlocked, and PID 200 does not match the pattern: stale, and the lock says why.
        let l = locate(web, &snap);
        let reason = &l.stale.as_ref().unwrap().reason;
        assert!(
            reason.contains("PID reused") && reason.contains("not locked"),
            "{reason}"
        );
        assert_eq!(l.pid_file.as_ref().unwrap().lock, Lock::Free);

        // Locked by a live owner: live for certain, whatever the pattern says.
        let held = Flock::lock(
            fs::File::open(&path).unwrap(),
            FlockArg::LockExclusiveNonblock,
        )
        .map_err(|(_, e)| e)
        .unwrap();
        let l = locate(web, &snap);
        assert!(l.stale.is_none(), "{:?}", l.stale);
        assert!(matches!(
            &l.found,
            Found::Running { source: Source::LockedPidFile, targets } if targets[0].pid == 200
        ));
        assert_eq!(Source::LockedPidFile.label(), "pid-file (locked)");
        drop(held);
        assert_eq!(read_pid_file(&path).unwrap().lock, Lock::Free);
    }
}
