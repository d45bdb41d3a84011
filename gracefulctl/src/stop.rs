//! `stop`: build a plan from one snapshot (printed as is by `--dry-run`), back up the
//! declared files, then stop each process in order: the polite request, wait, the forced
//! end, verify, remove the PID file. Failures are reported and the next process is still
//! handled. The polite request and the forced end are the platform's ([`crate::signal`]):
//! the stop signal and SIGKILL on Unix, `POST /shutdown` to the admin API and
//! `TerminateProcess` on Windows.

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use crate::locate::{Found, Source, StalePidFile, locate};
use crate::log::ActionLog;
use crate::manifest::Process;
use crate::output::Progress;
use crate::procs::{ProcInfo, Snapshot};
use crate::safety::Guard;
use crate::signal::{self, Delivery, FORCED_NAME};
use crate::status::join_pids;

/// How long to wait for a process ended by force to disappear before calling it a survivor.
const KILL_WAIT: Duration = Duration::from_secs(5);
/// How often a stopping process is checked.
const POLL: Duration = Duration::from_millis(50);

/// How `stop` behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct StopOptions {
    /// End it by force (SIGKILL, `TerminateProcess`) right after the polite request instead
    /// of waiting `stop_timeout`.
    pub force: bool,
    /// Bound on the whole stop; once spent, remaining waits are skipped (as `force`).
    pub timeout: Option<Duration>,
}

/// What will be done to one process.
#[derive(Debug, Clone)]
pub enum Step<'m> {
    /// Signal it.
    Stop {
        /// The process.
        process: &'m Process,
        /// The PIDs to signal (their groups when `process_group` is set).
        targets: Vec<ProcInfo>,
        /// Where the PIDs came from.
        source: Source,
        /// A stale PID file to remove afterwards, if the PIDs came from elsewhere.
        stale: Option<StalePidFile>,
        /// With `process_group`: every live member of the targets' groups at plan time.
        group_members: Vec<i32>,
    },
    /// Nothing runs; maybe a stale PID file to remove.
    NotRunning {
        /// The process.
        process: &'m Process,
        /// Its stale PID file, if any.
        stale: Option<StalePidFile>,
    },
    /// Left alone, with the reason (ambiguous pattern, safety refusal). Counts as a failure.
    Skip {
        /// The process.
        process: &'m Process,
        /// Why.
        reason: String,
    },
}

impl Step<'_> {
    /// The process this step is about.
    pub fn process(&self) -> &Process {
        match self {
            Step::Stop { process, .. }
            | Step::NotRunning { process, .. }
            | Step::Skip { process, .. } => process,
        }
    }
}

/// Builds the plan for `processes` (already in stop order) from one snapshot.
pub fn plan<'m>(
    processes: &[&'m Process],
    snap: &Snapshot,
    guard: &Guard,
    opts: &StopOptions,
) -> Vec<Step<'m>> {
    processes
        .iter()
        .map(|&process| {
            let located = locate(process, snap);
            match located.found {
                Found::NotRunning => Step::NotRunning { process, stale: located.stale },
                Found::Ambiguous { pids } => Step::Skip {
                    process,
                    reason: format!(
                        "pattern `{}` matches {} processes ({}), more than max_matches = {}; not acting on any",
                        process.pattern.as_deref().unwrap_or(""),
                        pids.len(),
                        join_pids(&pids),
                        process.max_matches
                    ),
                },
                Found::Running { targets, source } => {
                    let refusal = signal::unavailable(process, opts.force).or_else(|| {
                        targets
                            .iter()
                            .find_map(|t| guard.check(t, process.process_group, snap).err())
                            .map(|r| r.to_string())
                    });
                    match refusal {
                        Some(reason) => Step::Skip { process, reason },
                        None => {
                            let mut group_members: Vec<i32> = Vec::new();
                            if process.process_group {
                                for t in &targets {
                                    group_members
                                        .extend(snap.group_members(t.pgid).iter().map(|p| p.pid));
                                }
                                group_members.sort_unstable();
                                group_members.dedup();
                            }
                            Step::Stop { process, targets, source, stale: located.stale, group_members }
                        }
                    }
                }
            }
        })
        .collect()
}

/// The plan as text: exactly what `stop` would do, in order.
pub fn describe(steps: &[Step<'_>], opts: &StopOptions) -> String {
    let mut out = String::new();
    for (i, step) in steps.iter().enumerate() {
        let n = i + 1;
        let name = &step.process().name;
        match step {
            Step::Stop {
                process,
                targets,
                source,
                stale,
                group_members,
            } => {
                let pids = join_pids(&targets.iter().map(|t| t.pid).collect::<Vec<_>>());
                let whom = if process.process_group {
                    let groups: Vec<i32> = targets.iter().map(|t| t.pgid).collect();
                    format!(
                        "process group {} ({} processes now: {})",
                        join_pids(&groups),
                        group_members.len(),
                        join_pids(group_members)
                    )
                } else {
                    format!("PID {pids}")
                };
                let found_by = match source {
                    Source::PidFile | Source::LockedPidFile => format!(
                        "PID file {}{}",
                        process
                            .pid_file
                            .as_ref()
                            .map_or(String::new(), |p| p.display().to_string()),
                        if *source == Source::LockedPidFile {
                            ", locked"
                        } else {
                            ""
                        }
                    ),
                    Source::Pattern => {
                        format!("pattern `{}`", process.pattern.as_deref().unwrap_or(""))
                    }
                };
                let wait = if opts.force {
                    "no wait (--force)".to_owned()
                } else {
                    format!(
                        "wait up to {}",
                        humantime::format_duration(process.stop_timeout)
                    )
                };
                let ask = match signal::polite_name(process) {
                    Some(polite) => format!(
                        "send {polite} to {whom}, {wait}, then {FORCED_NAME} if still alive"
                    ),
                    None => format!(
                        "nothing polite reaches it without `stop_url`: {FORCED_NAME} to {whom} at once (--force)"
                    ),
                };
                let _ = write!(out, "{n}. {name}: PID {pids} (found by {found_by}): {ask}");
                if let Some(pf) = &process.pid_file {
                    let _ = write!(out, "; remove {}", pf.display());
                }
                if let Some(s) = stale {
                    let _ = write!(out, " (stale: {})", s.reason);
                }
                out.push('\n');
            }
            Step::NotRunning { stale: Some(s), .. } => {
                let _ = writeln!(
                    out,
                    "{n}. {name}: not running; remove stale PID file {} ({})",
                    s.path.display(),
                    s.reason
                );
            }
            Step::NotRunning { stale: None, .. } => {
                let _ = writeln!(out, "{n}. {name}: not running; nothing to do");
            }
            Step::Skip { reason, .. } => {
                let _ = writeln!(out, "{n}. {name}: SKIP: {reason}");
            }
        }
    }
    out
}

/// How one process ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Exited after the polite request.
    Stopped,
    /// Needed the forced end (SIGKILL, `TerminateProcess`).
    Killed,
    /// Was not running.
    NotRunning,
    /// Left alone (ambiguous, refused).
    Skipped(String),
    /// Still alive at the end, or could not be signalled.
    Survived(String),
}

impl Outcome {
    /// Whether this outcome leaves something running that was asked to stop.
    pub fn is_failure(&self) -> bool {
        matches!(self, Outcome::Skipped(_) | Outcome::Survived(_))
    }
}

/// Result of `stop`.
#[derive(Debug, Default)]
pub struct StopSummary {
    /// Per process, in order.
    pub outcomes: Vec<(String, Outcome)>,
}

impl StopSummary {
    /// Whether everything asked to stop is gone.
    pub fn success(&self) -> bool {
        !self.outcomes.iter().any(|(_, o)| o.is_failure())
    }

    /// `stopped 2, killed 1, not running 1, skipped 0, survived 0`.
    pub fn line(&self) -> String {
        let count = |f: fn(&Outcome) -> bool| self.outcomes.iter().filter(|(_, o)| f(o)).count();
        format!(
            "summary: stopped {}, killed {}, not running {}, skipped {}, survived {}",
            count(|o| *o == Outcome::Stopped),
            count(|o| *o == Outcome::Killed),
            count(|o| *o == Outcome::NotRunning),
            count(|o| matches!(o, Outcome::Skipped(_))),
            count(|o| matches!(o, Outcome::Survived(_))),
        )
    }
}

/// Carries out `steps` in order.
pub fn execute(
    steps: &[Step<'_>],
    opts: &StopOptions,
    log: &ActionLog,
    progress: &Progress,
) -> StopSummary {
    let deadline = opts.timeout.map(|t| Instant::now() + t);
    let mut summary = StopSummary::default();
    for step in steps {
        let name = step.process().name.clone();
        progress.status(&format!("stopping {name}"));
        let outcome = match step {
            Step::Skip { reason, .. } => {
                progress.line(&format!("{name}: skipped: {reason}"));
                log.record("stop", &name, &format!("skipped: {reason}"));
                Outcome::Skipped(reason.clone())
            }
            Step::NotRunning { process, stale } => {
                if let Some(s) = stale {
                    remove_pid_file(process, &s.path, Some(&s.reason), log, progress);
                }
                progress.line(&format!("{name}: not running"));
                log.record("stop", &name, "not running");
                Outcome::NotRunning
            }
            Step::Stop {
                process,
                targets,
                stale,
                ..
            } => {
                let outcome = stop_one(process, targets, opts, deadline, log, progress);
                if !outcome.is_failure() {
                    if let Some(pf) = &process.pid_file {
                        let stale_pid = stale.as_ref().and_then(|s| s.pid);
                        match rewritten_by_another(pf, targets, stale_pid) {
                            Some(pid) => {
                                let msg = format!(
                                    "kept PID file {}: it now names PID {pid}, a live process started meanwhile",
                                    pf.display()
                                );
                                progress.line(&format!("{name}: {msg}"));
                                log.record("remove-pid-file", &name, &msg);
                            }
                            None => remove_pid_file(process, pf, None, log, progress),
                        }
                    }
                } else if let Some(s) = stale {
                    remove_pid_file(process, &s.path, Some(&s.reason), log, progress);
                }
                outcome
            }
        };
        summary.outcomes.push((name, outcome));
        progress.step_done();
    }
    progress.finish();
    summary
}

/// The PID a PID file names if that is a live process other than the ones just stopped
/// (something restarted it meanwhile): that file must be kept.
fn rewritten_by_another(
    path: &PathBuf,
    stopped: &[ProcInfo],
    known_stale: Option<i32>,
) -> Option<i32> {
    let text = fs::read_to_string(path).ok()?;
    let pid: i32 = text.split_whitespace().next()?.parse().ok()?;
    let known = stopped.iter().any(|t| t.pid == pid) || known_stale == Some(pid);
    (!known && pid > 0 && crate::procs::is_alive(pid)).then_some(pid)
}

/// Removes a PID file; `stale` is why it was stale (reported with the removal), `None` for
/// the file of a process just stopped.
fn remove_pid_file(
    process: &Process,
    path: &PathBuf,
    stale: Option<&str>,
    log: &ActionLog,
    progress: &Progress,
) {
    let what = match stale {
        Some(reason) => format!("stale PID file {} ({reason})", path.display()),
        None => format!("PID file {}", path.display()),
    };
    match fs::remove_file(path) {
        Ok(()) => {
            progress.line(&format!("{}: removed {what}", process.name));
            log.record("remove-pid-file", &process.name, &format!("{what} removed"));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            progress.line(&format!("{}: cannot remove {what}: {e}", process.name));
            log.record(
                "remove-pid-file",
                &process.name,
                &format!("{what} not removed: {e}"),
            );
        }
    }
}

/// Whether `target` still runs as the same process: a PID that now belongs to a process
/// with another start time has gone.
fn same_process_alive(target: &ProcInfo) -> bool {
    crate::signal::same_process(target)
}

/// The live PIDs of a target (for groups, every live member of its group).
fn alive(target: &ProcInfo, group: bool) -> Vec<i32> {
    if group {
        crate::procs::live_group_members(target.pgid)
    } else if same_process_alive(target) {
        vec![target.pid]
    } else {
        Vec::new()
    }
}

fn still_alive(targets: &[ProcInfo], group: bool) -> Vec<i32> {
    let mut pids: Vec<i32> = targets.iter().flat_map(|t| alive(t, group)).collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

fn wait_gone(
    targets: &[ProcInfo],
    group: bool,
    until: Instant,
    tick: &dyn Fn(Duration),
) -> Vec<i32> {
    loop {
        let left = still_alive(targets, group);
        if left.is_empty() || Instant::now() >= until {
            return left;
        }
        tick(until.saturating_duration_since(Instant::now()));
        thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
    }
}

fn stop_one(
    process: &Process,
    targets: &[ProcInfo],
    opts: &StopOptions,
    deadline: Option<Instant>,
    log: &ActionLog,
    progress: &Progress,
) -> Outcome {
    let name = &process.name;
    let group = process.process_group;
    let started = Instant::now();
    let whom = |t: &ProcInfo| {
        if group {
            format!("process group {}", t.pgid)
        } else {
            format!("PID {}", t.pid)
        }
    };

    // The snapshot may be old by now: only signal a PID that still is the same process.
    let targets: Vec<ProcInfo> = targets
        .iter()
        .filter(|t| same_process_alive(t) || (group && !alive(t, true).is_empty()))
        .cloned()
        .collect();
    if targets.is_empty() {
        progress.line(&format!("{name}: exited before it was signalled"));
        log.record("stop", name, "exited before it was signalled");
        return Outcome::Stopped;
    }

    let polite = signal::polite_name(process);
    let mut refused = Vec::new();
    // Whether every refusal still lets the forced end follow (with --force, on Windows).
    let mut force_may_follow = opts.force;
    if polite.is_none() {
        // Windows without `stop_url`: the plan let it through only with --force.
        let msg = "nothing polite reaches it without `stop_url`";
        progress.line(&format!("{name}: {msg}"));
        log.record("signal", name, msg);
        refused.push(msg.to_owned());
    }
    for t in targets.iter().filter(|_| polite.is_some()) {
        let sig = polite.as_deref().unwrap_or_default();
        match signal::polite(process, t) {
            Ok(Delivery::Gone) => {
                let what = format!("{sig} not sent to {}: it had already exited", whom(t));
                progress.line(&format!("{name}: {what}"));
                log.record("signal", name, &what);
            }
            Ok(how) => {
                let (whom, how) = (whom(t), how.describe());
                progress.line(&format!("{name}: sent {sig} to {whom} ({how})"));
                log.record("signal", name, &format!("{sig} sent to {whom} {how}"));
            }
            Err(e) => {
                let msg = format!("cannot send {sig} to {}: {e}", whom(t));
                progress.line(&format!("{name}: {msg}"));
                log.record("signal", name, &msg);
                force_may_follow &= signal::force_may_follow(&e);
                refused.push(msg);
            }
        }
    }
    // Nothing polite was delivered to anyone.
    let unasked = polite.is_none() || refused.len() == targets.len();
    if unasked && !force_may_follow {
        // Nothing could be signalled (EPERM…): waiting or SIGKILL would not help.
        let msg = format!("SURVIVED: {}", refused.join("; "));
        log.record("stop", name, &msg);
        return Outcome::Survived(msg);
    }

    let force = opts.force || deadline.is_some_and(|d| Instant::now() >= d) || unasked;
    let mut left = still_alive(&targets, group);
    if !force && !left.is_empty() {
        let mut until = Instant::now() + process.stop_timeout;
        if let Some(d) = deadline {
            until = until.min(d);
        }
        let tick = |left: Duration| {
            progress.status(&format!(
                "waiting for {name} to exit: {:.1}s left before {FORCED_NAME}",
                left.as_secs_f64()
            ));
        };
        left = wait_gone(&targets, group, until, &tick);
    }
    if left.is_empty() {
        let msg = match &polite {
            Some(sig) if !unasked => format!("exited after {sig} in {:.1?}", started.elapsed()),
            _ => format!("exited on its own in {:.1?}", started.elapsed()),
        };
        progress.line(&format!("{name}: {msg}"));
        log.record("stop", name, &msg);
        return Outcome::Stopped;
    }

    let reason = if unasked {
        "--force, and nothing polite could be sent"
    } else if force {
        "--force / overall timeout"
    } else {
        "stop_timeout expired"
    };
    for t in &targets {
        match signal::forced(process, t) {
            Ok(how) => {
                let (whom, how) = (whom(t), how.describe());
                progress.line(&format!(
                    "{name}: sent {FORCED_NAME} to {whom} ({reason}), {how}"
                ));
                log.record(
                    "signal",
                    name,
                    &format!("{FORCED_NAME} sent to {whom} ({reason}), {how}"),
                );
            }
            Err(e) => {
                let msg = format!("cannot send {FORCED_NAME} to {}: {e}", whom(t));
                progress.line(&format!("{name}: {msg}"));
                log.record("signal", name, &msg);
            }
        }
    }
    let tick =
        |_: Duration| progress.status(&format!("waiting for {name} to die after {FORCED_NAME}"));
    let left = wait_gone(&targets, group, Instant::now() + KILL_WAIT, &tick);
    if left.is_empty() {
        let msg = format!("killed with {FORCED_NAME} after {:.1?}", started.elapsed());
        progress.line(&format!("{name}: {msg}"));
        log.record("stop", name, &msg);
        Outcome::Killed
    } else {
        let msg = format!(
            "SURVIVED: PID(s) {} still alive after {FORCED_NAME}",
            join_pids(&left)
        );
        progress.line(&format!("{name}: {msg}"));
        log.record("stop", name, &msg);
        Outcome::Survived(msg)
    }
}
