//! `upgrade NAME`: ask one graceful service to upgrade in place, and follow the hand-over
//! through its PID file.
//!
//! On its upgrade signal a graceful service starts a successor from the binary on disk; the
//! successor takes the listening sockets and, once ready, writes its own PID file over the
//! old one (atomically, locked for its whole lifetime); the old process then drains and
//! exits 0. From outside that reads as: the PID file comes to name another PID whose lock
//! is held, and the old PID goes away. Both are required before `upgrade` says the service
//! was upgraded; the PID file is therefore required.
//!
//! The signal is sent only to a process found through a PID file whose lock is held: that
//! proves a graceful service with a PID file runs there. An unlocked file is written by a
//! program that may not handle the signal at all (SIGUSR2's default action terminates), and
//! could not show the hand-over anyway.

use std::fmt::Write as _;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::locate::{Found, Lock, PidFileRead, Source, locate, read_pid_file};
use crate::log::ActionLog;
use crate::manifest::Process;
use crate::output::Progress;
use crate::procs::{ProcInfo, Snapshot, is_alive};
use crate::safety::Guard;
use crate::signal::Delivery;
use crate::status::join_pids;

/// Default bound on the whole hand-over (`--timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the PID file and the old process are checked.
const POLL: Duration = Duration::from_millis(50);
/// How long a new owner of the PID file is still awaited once the old process exited. The
/// successor writes the file as it says ready, before the old process even starts draining;
/// this only covers a slow disk.
const AFTER_EXIT: Duration = Duration::from_secs(5);

/// What will be upgraded, checked against one snapshot.
#[derive(Debug, Clone)]
pub struct Plan<'m> {
    /// The process.
    pub process: &'m Process,
    /// Its PID file.
    pub pid_file: &'m Path,
    /// The process that serves now (named by the locked PID file).
    pub old: ProcInfo,
}

/// Why `upgrade` sends nothing (the process is not there, or not one that can be upgraded).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Builds the plan for `process` from `snap`.
///
/// # Errors
/// [`Refused`]: it is not running, its pattern is ambiguous, its PID file is missing, stale
/// or not locked, or the safety rules forbid signalling it.
pub fn plan<'m>(
    process: &'m Process,
    pid_file: &'m Path,
    snap: &Snapshot,
    guard: &Guard,
) -> Result<Plan<'m>, Refused> {
    let located = locate(process, snap);
    let file_state = describe_read(pid_file, located.pid_file.as_ref());
    let targets = match located.found {
        Found::Running {
            targets,
            source: Source::LockedPidFile,
        } => targets,
        Found::Running { targets, .. } => {
            let pids = join_pids(&targets.iter().map(|t| t.pid).collect::<Vec<_>>());
            return Err(Refused(format!(
                "PID {pids} runs, but {file_state}: no graceful service holds that PID file, so \
                 the process may not handle {} (a program that does not handle it is \
                 terminated by it) and the hand-over could not be followed; nothing sent \
                 (a graceful service writes and locks the file named by its `[upgrade] \
                 pid_file`, which must be this `pid_file`)",
                process.upgrade_signal.as_str()
            )));
        }
        Found::NotRunning => {
            let why = located
                .stale
                .map_or(file_state, |s| format!("stale PID file: {}", s.reason));
            return Err(Refused(format!("not running ({why}); nothing to upgrade")));
        }
        Found::Ambiguous { pids } => {
            return Err(Refused(format!(
                "pattern matches {} processes ({}); nothing sent",
                pids.len(),
                join_pids(&pids)
            )));
        }
    };
    let Some(old) = targets.into_iter().next() else {
        return Err(Refused("not running; nothing to upgrade".into()));
    };
    guard
        .check(&old, false, snap)
        .map_err(|r| Refused(r.to_string()))?;
    Ok(Plan {
        process,
        pid_file,
        old,
    })
}

/// The plan as text (`--dry-run`): exactly what `upgrade` would do.
pub fn describe(plan: &Plan<'_>, timeout: Duration) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: PID {} (found by PID file {}, locked): send {}, then wait up to {} for the PID \
         file to name a new live process holding its lock and for PID {} to exit",
        plan.process.name,
        plan.old.pid,
        plan.pid_file.display(),
        plan.process.upgrade_signal.as_str(),
        humantime::format_duration(timeout),
        plan.old.pid
    );
    out
}

/// How an upgrade ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new process owns the PID file and the old one exited.
    Upgraded {
        /// The old PID.
        old: i32,
        /// The new PID.
        new: i32,
        /// From the signal until the new process owned the PID file.
        ready_after: Duration,
        /// From the signal until the old process was gone.
        old_exited_after: Duration,
    },
    /// The signal could not be sent (or the process had exited before it).
    NotSent(String),
    /// The timeout passed with the old process running and the PID file not naming a live
    /// new owner: the upgrade did not happen; the old process still serves.
    NotUpgraded {
        /// The old PID.
        old: i32,
        /// What the PID file says at the end.
        pid_file: String,
    },
    /// A new process owns the PID file, but the old one still runs after the timeout.
    StillDraining {
        /// The old PID.
        old: i32,
        /// The new PID.
        new: i32,
        /// From the signal until the new process owned the PID file.
        ready_after: Duration,
    },
    /// The old process exited and no live new owner of the PID file appeared.
    NoSuccessor {
        /// The old PID.
        old: i32,
        /// From the signal until the old process was gone.
        old_exited_after: Duration,
        /// What the PID file says at the end.
        pid_file: String,
    },
}

impl Outcome {
    /// Whether the service was upgraded and the old process is gone.
    pub fn success(&self) -> bool {
        matches!(self, Outcome::Upgraded { .. })
    }

    /// The result for `process` (without its name), after waiting at most `timeout`.
    pub fn describe(&self, process: &Process, timeout: Duration) -> String {
        let waited = humantime::format_duration(timeout);
        let log = process.log.as_ref().map_or_else(
            || "the service's log says why".to_owned(),
            |p| format!("its log {} says why", p.display()),
        );
        match self {
            Outcome::Upgraded {
                old,
                new,
                ready_after,
                old_exited_after,
            } => format!(
                "upgraded: pid {old} → pid {new} (ready after {ready_after:.1?}, old \
                 exited after {old_exited_after:.1?})"
            ),
            Outcome::NotSent(why) => format!("not upgraded: {why}"),
            Outcome::NotUpgraded { old, pid_file } => format!(
                "NOT upgraded: after {waited} PID {old} still runs and {pid_file}: the \
                 upgrade did not happen and the old process still serves ({log})"
            ),
            Outcome::StillDraining {
                old,
                new,
                ready_after,
            } => format!(
                "pid {new} took over (ready after {ready_after:.1?}), but PID {old} \
                 still runs after {waited}: it is still draining, or stuck ({log})"
            ),
            Outcome::NoSuccessor {
                old,
                old_exited_after,
                pid_file,
            } => format!(
                "upgrade FAILED: PID {old} exited after {old_exited_after:.1?} and no \
                 live process took over: {pid_file} ({log})"
            ),
        }
    }
}

/// Sends the upgrade signal and follows the hand-over for at most `timeout`.
pub fn execute(
    plan: &Plan<'_>,
    timeout: Duration,
    log: &ActionLog,
    progress: &Progress,
) -> Outcome {
    let name = &plan.process.name;
    let sig: Signal = plan.process.upgrade_signal;
    let old = &plan.old;
    let sent_at = Instant::now();
    match crate::signal::to_process(old, sig) {
        Ok(Delivery::Gone) => {
            let msg = format!(
                "{} not sent to PID {}: it had already exited",
                sig.as_str(),
                old.pid
            );
            log.record("signal", name, &msg);
            return Outcome::NotSent(msg);
        }
        Ok(how) => {
            let msg = format!(
                "{} sent to PID {} {}",
                sig.as_str(),
                old.pid,
                how.describe()
            );
            progress.line(&format!("{name}: {msg}"));
            log.record("signal", name, &msg);
        }
        Err(e) => {
            let msg = format!("cannot send {} to PID {}: {e}", sig.as_str(), old.pid);
            log.record("signal", name, &msg);
            return Outcome::NotSent(msg);
        }
    }

    let deadline = sent_at + timeout;
    let mut ready: Option<(i32, Duration)> = None;
    let mut old_exited_after: Option<Duration> = None;
    loop {
        let read = read_pid_file(plan.pid_file);
        let owner = read
            .as_ref()
            .ok()
            .and_then(|r| new_owner(r, old.pid))
            .filter(|&pid| is_alive(pid));
        match (owner, ready) {
            (Some(pid), Some((known, _))) if pid == known => {}
            (Some(pid), _) => ready = Some((pid, sent_at.elapsed())),
            (None, _) => {}
        }
        if old_exited_after.is_none() && !crate::signal::same_process(old) {
            old_exited_after = Some(sent_at.elapsed());
        }
        let now = Instant::now();
        let file = || describe_read(plan.pid_file, read.as_ref().ok());
        match (owner.zip(ready), old_exited_after) {
            (Some((new, (_, ready_after))), Some(old_exited_after)) => {
                return Outcome::Upgraded {
                    old: old.pid,
                    new,
                    ready_after,
                    old_exited_after,
                };
            }
            (None, Some(exited)) if now >= deadline || sent_at.elapsed() >= exited + AFTER_EXIT => {
                return Outcome::NoSuccessor {
                    old: old.pid,
                    old_exited_after: exited,
                    pid_file: file(),
                };
            }
            (Some((new, (_, ready_after))), None) if now >= deadline => {
                return Outcome::StillDraining {
                    old: old.pid,
                    new,
                    ready_after,
                };
            }
            (None, None) if now >= deadline => {
                return Outcome::NotUpgraded {
                    old: old.pid,
                    pid_file: file(),
                };
            }
            (Some(new), None) => progress.status(&format!(
                "{name}: PID {} took over; waiting for PID {} to drain and exit",
                new.0, old.pid
            )),
            _ => progress.status(&format!(
                "{name}: waiting for a successor of PID {} to take over",
                old.pid
            )),
        }
        thread::sleep(
            POLL.min(
                deadline
                    .saturating_duration_since(now)
                    .max(Duration::from_millis(1)),
            ),
        );
    }
}

/// The PID a PID file names when that is a locked owner other than `old`.
fn new_owner(read: &PidFileRead, old: i32) -> Option<i32> {
    read.pid
        .filter(|&pid| pid > 0 && pid != old && read.lock == Lock::Held)
}

/// `/run/web.pid names PID 4188 and is not locked`, `/run/web.pid is absent`.
fn describe_read(path: &Path, read: Option<&PidFileRead>) -> String {
    let exists = path.exists();
    let path = path.display();
    match read {
        None if !exists => format!("{path} is absent"),
        None => format!("{path} cannot be read"),
        Some(r) => {
            let names = r
                .pid
                .map_or_else(|| "names no PID".to_owned(), |p| format!("names PID {p}"));
            let lock = match r.lock {
                Lock::Held => "is locked by a live owner",
                Lock::Free => "is not locked",
                Lock::Unknown => "its lock cannot be probed",
            };
            format!("{path} {names} and {lock}")
        }
    }
}
