//! `start`: in start order (the reverse of stop order), run each process's `start`
//! command in its own process group and wait for its readiness check before the next.

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt;

use crate::locate::{Found, locate};
use crate::log::ActionLog;
use crate::manifest::{Manifest, Process};
use crate::output::Progress;
use crate::procs::Snapshot;
use crate::ready;

/// How often readiness is probed while waiting.
const POLL: Duration = Duration::from_millis(100);

/// How one process's start went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartOutcome {
    /// Started and ready.
    Started,
    /// Was already running.
    AlreadyRunning,
    /// Could not start or never became ready; the rest was not attempted.
    Failed(String),
    /// Not attempted because an earlier process failed.
    NotAttempted,
}

/// Result of `start`.
#[derive(Debug, Default)]
pub struct StartSummary {
    /// Per process, in start order.
    pub outcomes: Vec<(String, StartOutcome)>,
}

impl StartSummary {
    /// Whether everything asked to start runs.
    pub fn success(&self) -> bool {
        self.outcomes
            .iter()
            .all(|(_, o)| matches!(o, StartOutcome::Started | StartOutcome::AlreadyRunning))
    }

    /// `summary: started 2, already running 1, failed 0, not attempted 0`.
    pub fn line(&self) -> String {
        let count =
            |f: fn(&StartOutcome) -> bool| self.outcomes.iter().filter(|(_, o)| f(o)).count();
        format!(
            "summary: started {}, already running {}, failed {}, not attempted {}",
            count(|o| *o == StartOutcome::Started),
            count(|o| *o == StartOutcome::AlreadyRunning),
            count(|o| matches!(o, StartOutcome::Failed(_))),
            count(|o| *o == StartOutcome::NotAttempted),
        )
    }
}

/// The start plan as text: what [`start_all`] would run for `processes` (already in start
/// order), and what it would wait for.
pub fn describe(processes: &[&Process]) -> String {
    let mut out = String::new();
    for (i, p) in processes.iter().enumerate() {
        let n = i + 1;
        let name = &p.name;
        let _ = match &p.start {
            Some(s) => writeln!(
                out,
                "{n}. {name}: run `{}`, wait up to {} for {}",
                s.command,
                humantime::format_duration(s.ready_timeout),
                p.ready
            ),
            None => writeln!(
                out,
                "{n}. {name}: no `start` command (fails if not running)"
            ),
        };
    }
    out
}

/// Starts `processes` (already in start order), stopping at the first failure.
pub fn start_all(
    manifest: &Manifest,
    processes: &[&Process],
    log: &ActionLog,
    progress: &Progress,
) -> StartSummary {
    let mut outcomes = Vec::new();
    let mut failed = false;
    for process in processes {
        if failed {
            outcomes.push((process.name.clone(), StartOutcome::NotAttempted));
            continue;
        }
        progress.status(&format!("starting {}", process.name));
        let outcome = start_one(manifest, process, log, progress);
        if let StartOutcome::Failed(msg) = &outcome {
            progress.line(&format!("{}: FAILED: {msg}", process.name));
            failed = true;
        }
        outcomes.push((process.name.clone(), outcome));
        progress.step_done();
    }
    progress.finish();
    StartSummary { outcomes }
}

fn start_one(
    manifest: &Manifest,
    process: &Process,
    log: &ActionLog,
    progress: &Progress,
) -> StartOutcome {
    let name = &process.name;
    let snap = Snapshot::capture();
    match locate(process, &snap).found {
        Found::Running { targets, .. } => {
            let pid = targets.first().map_or(0, |t| t.pid);
            progress.line(&format!("{name}: already running (PID {pid})"));
            log.record("start", name, &format!("already running as PID {pid}"));
            return StartOutcome::AlreadyRunning;
        }
        Found::Ambiguous { pids } => {
            let msg = format!(
                "pattern matches {} processes already; refusing to start another",
                pids.len()
            );
            log.record("start", name, &msg);
            return StartOutcome::Failed(msg);
        }
        Found::NotRunning => {}
    }
    let Some(start) = &process.start else {
        let msg = "not running and the manifest gives no `start` command".to_owned();
        log.record("start", name, &msg);
        return StartOutcome::Failed(msg);
    };

    let out_path = manifest.logs_dir.join(format!("{name}.out"));
    let output = std::fs::create_dir_all(&manifest.logs_dir)
        .and_then(|()| OpenOptions::new().create(true).append(true).open(&out_path));
    let (stdout, stderr) = match output.and_then(|f| Ok((f.try_clone()?, f))) {
        Ok((a, b)) => (Stdio::from(a), Stdio::from(b)),
        Err(_) => (Stdio::null(), Stdio::null()),
    };
    let spawned = Command::new("sh")
        .arg("-c")
        .arg(&start.command)
        .current_dir(&start.cwd)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            let msg = format!("cannot run `{}`: {e}", start.command);
            log.record("start", name, &msg);
            return StartOutcome::Failed(msg);
        }
    };
    progress.line(&format!(
        "{name}: ran `{}` (PID {}), waiting up to {} for {}",
        start.command,
        child.id(),
        humantime::format_duration(start.ready_timeout),
        process.ready
    ));
    log.record(
        "start",
        name,
        &format!("ran `{}` as PID {}", start.command, child.id()),
    );

    let began = Instant::now();
    let until = began + start.ready_timeout;
    loop {
        let snap = ready::snapshot_for([process]);
        let last = match ready::probe(process, &snap) {
            Ok(detail) => {
                let msg = format!("ready after {:.1?}: {detail}", began.elapsed());
                progress.line(&format!("{name}: {msg}"));
                log.record("ready", name, &msg);
                return StartOutcome::Started;
            }
            Err(why) => why,
        };
        if let Ok(Some(status)) = child.try_wait()
            && !status.success()
        {
            let msg = format!(
                "`{}` exited with {status} before {name} was ready (output in {})",
                start.command,
                out_path.display()
            );
            log.record("ready", name, &msg);
            return StartOutcome::Failed(msg);
        }
        if Instant::now() >= until {
            let msg = format!(
                "not ready after {} ({}): {last}",
                humantime::format_duration(start.ready_timeout),
                process.ready
            );
            log.record("ready", name, &msg);
            return StartOutcome::Failed(msg);
        }
        thread::sleep(POLL);
    }
}
