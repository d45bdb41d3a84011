//! What happened during a shutdown: the [`ShutdownReport`] and live [`Progress`].

use std::time::Duration;

pub use crate::error::DeadlineExceeded;
use crate::error::Location;
use crate::phase::Phase;
use crate::reason::ShutdownReason;
use crate::resource::CloseKind;
#[cfg(feature = "serde")]
use crate::seconds::{duration_secs, opt_duration_secs};

/// The file, in the state directory, where the last shutdown's report is written as JSON
/// (with the `serde` feature; without it, setting `state_dir` is a configuration error).
pub const LAST_REPORT_FILE: &str = "last-shutdown.json";

/// How many [`DrainedRequest`]s a report lists at most; more are only counted
/// ([`ShutdownReport::requests_not_kept`]), so that a flood of refused requests during the
/// drain costs bounded memory.
pub const REQUESTS_KEPT: usize = 1000;

/// Reads the report the previous process wrote to `state_dir` (as JSON), if there is one.
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub fn read_last(
    state_dir: &std::path::Path,
) -> Option<Result<serde_json::Value, ReadReportError>> {
    let path = state_dir.join(LAST_REPORT_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(source) => return Some(Err(ReadReportError::Read { path, source })),
    };
    Some(serde_json::from_str(&text).map_err(|source| ReadReportError::Invalid { path, source }))
}

/// Why [`read_last`] could not read the previous report.
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadReportError {
    /// The file exists but cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The report file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error("{} is not a valid report: {source}", path.display())]
    Invalid {
        /// The report file.
        path: std::path::PathBuf,
        /// The parser's error.
        source: serde_json::Error,
    },
}

/// How one phase went.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PhaseRecord {
    /// Which phase.
    pub phase: Phase,
    /// When it started, from the shutdown's start.
    #[cfg_attr(feature = "serde", serde(with = "duration_secs"))]
    pub started: Duration,
    /// How long it took.
    #[cfg_attr(feature = "serde", serde(with = "duration_secs"))]
    pub duration: Duration,
    /// `false` when a deadline expired or the shutdown was forced during it.
    pub within_deadline: bool,
}

/// How a resource's close ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(
    feature = "serde",
    serde(tag = "status", content = "detail", rename_all = "snake_case")
)]
pub enum CloseOutcome {
    /// The close handler returned successfully (or the value was dropped).
    Closed,
    /// The close handler returned an error.
    Failed(String),
    /// The close handler panicked; the panic was caught.
    Panicked(String),
    /// The close did not finish within its deadline and was abandoned.
    TimedOut,
    /// Not attempted because the shutdown was forced before its class.
    Skipped,
}

impl CloseOutcome {
    /// `true` for [`CloseOutcome::Closed`].
    pub fn is_ok(&self) -> bool {
        matches!(self, CloseOutcome::Closed)
    }
}

/// How one resource closed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ResourceRecord {
    /// Its name.
    pub name: String,
    /// The Rust type.
    pub type_name: &'static str,
    /// Its priority.
    pub priority: i32,
    /// Where it was declared.
    pub location: Option<Location>,
    /// How it closes.
    pub close: CloseKind,
    /// The outcome.
    pub outcome: CloseOutcome,
    /// When the close started, from the shutdown's start.
    #[cfg_attr(feature = "serde", serde(with = "duration_secs"))]
    pub started: Duration,
    /// When it ended (or was abandoned), from the shutdown's start.
    #[cfg_attr(feature = "serde", serde(with = "duration_secs"))]
    pub finished: Duration,
}

/// How a phase hook went.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct HookRecord {
    /// The phase it ran in.
    pub phase: Phase,
    /// Its name.
    pub name: String,
    /// Its outcome (the same vocabulary as resources).
    pub outcome: CloseOutcome,
    /// When it started, from the shutdown's start.
    #[cfg_attr(feature = "serde", serde(with = "duration_secs"))]
    pub started: Duration,
    /// How long it ran.
    #[cfg_attr(feature = "serde", serde(with = "duration_secs"))]
    pub duration: Duration,
}

/// A deadline the engine set during the shutdown, when it fell and whether it was met.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DeadlineRecord {
    /// What it bounded: `timeout` (the whole shutdown), `drain_timeout`, or the closes of one
    /// priority class (`close priority 50`).
    pub what: String,
    /// The phase it belongs to.
    pub phase: Phase,
    /// When it fell (or would have), from the shutdown's start.
    #[cfg_attr(feature = "serde", serde(with = "duration_secs"))]
    pub at: Duration,
    /// How long was allowed.
    #[cfg_attr(feature = "serde", serde(with = "duration_secs"))]
    pub limit: Duration,
    /// `true` when what it bounded finished in time.
    pub met: bool,
}

/// What the drain waited for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DrainRecord {
    /// Units of tracked work in flight when the drain began (`main` counts as one).
    pub in_flight: u64,
    /// The named tasks running when the drain began.
    pub tasks: Vec<String>,
    /// The named tasks that ended on their own after the trigger, in the order they ended.
    pub ended: Vec<EndedTask>,
    /// When the last tracked unit of work ended, from the shutdown's start; `None` when the
    /// drain did not wait for it to end (its deadline expired, the shutdown was forced, or
    /// `wait_for_connections = false`).
    #[cfg_attr(feature = "serde", serde(with = "opt_duration_secs"))]
    pub drained_at: Option<Duration>,
    /// When the work still running was abandoned (see [`ShutdownReport::abandoned`]), from the
    /// shutdown's start.
    #[cfg_attr(feature = "serde", serde(with = "opt_duration_secs"))]
    pub abandoned_at: Option<Duration>,
}

/// A named task ([`Shutdown::spawn`](crate::Shutdown::spawn)) that ended on its own during
/// the shutdown.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct EndedTask {
    /// Its name.
    pub name: String,
    /// When it ended, from the shutdown's start.
    #[cfg_attr(feature = "serde", serde(with = "duration_secs"))]
    pub at: Duration,
}

/// An HTTP request the drain waited for, or refused while it ran, and how it ended.
///
/// [`http::serve`](crate::http::serve) lists, once, the requests it was still answering
/// when its listener closed (those that had to wait: a request answered in one go is
/// never listed), and each request it refused during the drain; nothing is written per
/// request before the drain (feature `hyper`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DrainedRequest {
    /// The method (`GET`).
    pub method: String,
    /// The path, without the query (which may hold secrets).
    pub path: String,
    /// When it started, from the shutdown's start; zero for a request that started before
    /// the shutdown did.
    #[cfg_attr(feature = "serde", serde(with = "duration_secs"))]
    pub started: Duration,
    /// When it ended (or was abandoned), from the shutdown's start; `None` while it runs.
    #[cfg_attr(feature = "serde", serde(with = "opt_duration_secs"))]
    pub ended: Option<Duration>,
    /// How it ended.
    pub outcome: RequestOutcome,
}

/// How a [`DrainedRequest`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum RequestOutcome {
    /// Its response was sent in full.
    Served,
    /// Answered `503` with `Retry-After` (`late_requests = "refuse"`): it arrived after the
    /// drain began.
    Refused,
    /// Still running at the drain deadline (or when the shutdown was forced); cancelled.
    Abandoned,
    /// Its connection closed before the response was complete (the client went away).
    Dropped,
    /// Still running when the report was taken.
    Running,
}

/// How `main` ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(
    feature = "serde",
    serde(tag = "status", content = "detail", rename_all = "snake_case")
)]
pub enum MainOutcome {
    /// `main` has not finished (the report was taken early).
    Running,
    /// Returned `()`/`Ok(())`.
    Ok,
    /// Returned an [`std::process::ExitCode`].
    ExitCode,
    /// Returned an error (formatted with `Debug`, as Rust's own `main` does).
    Error(String),
    /// Panicked.
    Panicked(String),
    /// Did not finish within the drain deadline and was cancelled.
    Aborted,
    /// Never started (start-up failed).
    NotStarted,
}

/// Everything that happened during one shutdown, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ShutdownReport {
    /// [`Phase::Completed`] or [`Phase::Forced`].
    pub result: Phase,
    /// What started the shutdown.
    pub reason: Option<ShutdownReason>,
    /// Each phase, in order.
    pub phases: Vec<PhaseRecord>,
    /// Each resource that was built, in the order closes started.
    pub resources: Vec<ResourceRecord>,
    /// Each phase hook.
    pub hooks: Vec<HookRecord>,
    /// Each tracked task that panicked or returned an error, in the order they failed.
    pub tasks: Vec<crate::TaskRecord>,
    /// Work still in flight when the drain deadline expired (task names, then a count of
    /// anonymous guards); cancelled.
    pub abandoned: Vec<String>,
    /// What the drain waited for, when the shutdown reached it.
    pub drain: Option<DrainRecord>,
    /// Every deadline that expired.
    pub deadlines: Vec<DeadlineExceeded>,
    /// Every deadline the engine set (the overall timeout, the drain's, each close class's),
    /// in the order they were set, with whether it was met.
    pub limits: Vec<DeadlineRecord>,
    /// How `main` ended.
    pub main: MainOutcome,
    /// The start-up error, when the shutdown followed a failed start.
    pub startup_error: Option<String>,
    /// Requests whose handler panicked while the engine ran, each answered `500` by
    /// [`http::serve`](crate::http::serve) and logged with its method and path (feature
    /// `hyper`).
    pub http_panics: u64,
    /// The HTTP requests the drain waited for and those it refused, in the order they were
    /// listed (feature `hyper`; at most [`REQUESTS_KEPT`], see `requests_not_kept`).
    pub requests: Vec<DrainedRequest>,
    /// Refused requests beyond the first [`REQUESTS_KEPT`], counted but not listed.
    pub requests_not_kept: u64,
    /// From the trigger to the end of the last phase.
    #[cfg_attr(feature = "serde", serde(with = "duration_secs"))]
    pub total: Duration,
}

impl ShutdownReport {
    /// `true` when the result is [`Phase::Forced`].
    pub fn is_forced(&self) -> bool {
        self.result == Phase::Forced
    }

    /// The first tracked task whose failure was fatal (it started, or joined, the shutdown):
    /// the run failed even if every phase met its deadline.
    pub fn failed_task(&self) -> Option<&crate::TaskRecord> {
        self.tasks.iter().find(|t| t.fatal)
    }

    /// The record of the resource called `name`.
    pub fn resource(&self, name: &str) -> Option<&ResourceRecord> {
        self.resources.iter().find(|r| r.name == name)
    }

    /// Every error, one line each: failed and timed-out closes and hooks, main's error.
    pub fn errors(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(e) = &self.startup_error {
            out.push(format!("start-up: {e}"));
        }
        if let MainOutcome::Error(e) | MainOutcome::Panicked(e) = &self.main {
            out.push(format!("main: {e}"));
        }
        for r in &self.resources {
            match &r.outcome {
                CloseOutcome::Failed(e) => {
                    out.push(format!("resource `{}` failed to close: {e}", r.name))
                }
                CloseOutcome::Panicked(e) => {
                    out.push(format!("resource `{}` panicked while closing: {e}", r.name))
                }
                CloseOutcome::TimedOut => {
                    out.push(format!("resource `{}` did not close in time", r.name))
                }
                CloseOutcome::Closed | CloseOutcome::Skipped => {}
            }
        }
        for t in &self.tasks {
            match &t.outcome {
                CloseOutcome::Panicked(e) => out.push(format!("task `{}` panicked: {e}", t.name)),
                other => out.push(format!("task `{}` failed: {other:?}", t.name)),
            }
        }
        for h in &self.hooks {
            if !h.outcome.is_ok() {
                out.push(format!("hook `{}` ({}): {:?}", h.name, h.phase, h.outcome));
            }
        }
        out
    }

    /// The report as pretty JSON.
    #[cfg(feature = "serde")]
    #[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

/// A duration as people read it: `88µs`, `1.2s`, `103ms`, `1m30s` (three significant digits at
/// most). The one form of the shutdown's logs, reports and timelines.
pub fn readable(d: Duration) -> String {
    crate::took::Took(d).to_string()
}

impl std::fmt::Display for ShutdownReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let reason = self
            .reason
            .as_ref()
            .map_or("-".to_string(), ToString::to_string);
        writeln!(f, "shutdown {} in {:?} ({reason})", self.result, self.total)?;
        for p in &self.phases {
            let flag = if p.within_deadline {
                ""
            } else {
                "  [deadline]"
            };
            writeln!(
                f,
                "  phase {:<22} {:>10.3?}{flag}",
                p.phase.as_str(),
                p.duration
            )?;
        }
        for r in &self.resources {
            writeln!(
                f,
                "  resource {:<20} priority {:<5} {:?} in {:?}",
                r.name,
                r.priority,
                r.outcome,
                r.finished.saturating_sub(r.started)
            )?;
        }
        for a in &self.abandoned {
            writeln!(f, "  abandoned {a}")?;
        }
        Ok(())
    }
}

impl Progress {
    /// One line for logs: phase, work in flight, named tasks, resources closed.
    pub fn summary(&self) -> String {
        format!(
            "phase {}, {} in flight, tasks {:?}, resources closed {}/{}",
            self.phase, self.in_flight, self.tasks, self.resources_closed, self.resources_total
        )
    }
}

/// A snapshot of where the service is, for status endpoints and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Progress {
    /// The current phase.
    pub phase: Phase,
    /// What started the shutdown, once started.
    pub reason: Option<ShutdownReason>,
    /// Units of tracked work in flight.
    pub in_flight: u64,
    /// Names of tracked tasks still running.
    pub tasks: Vec<String>,
    /// Resources closed so far.
    pub resources_closed: usize,
    /// Resources built.
    pub resources_total: usize,
    /// Time since the shutdown started.
    #[cfg_attr(feature = "serde", serde(with = "opt_duration_secs"))]
    pub elapsed: Option<Duration>,
    /// Time left before the overall deadline.
    #[cfg_attr(feature = "serde", serde(with = "opt_duration_secs"))]
    pub remaining: Option<Duration>,
    /// Errors so far.
    pub errors: Vec<String>,
}
