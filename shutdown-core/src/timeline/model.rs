//! The drawing model: a report's phases, closes, hooks, drain and deadlines as rows on one
//! time axis.
//!
//! Both renderers ([`text`](super::text), [`svg`](super::svg)) draw a [`Timeline`] and nothing
//! else, so which rows exist, in which order, and what counts as late are decided here once.
//! A timeline is read from the report's JSON (the file a service writes to its `state_dir`),
//! where every field is optional: a report written before a field existed still draws what it
//! has. A live [`ShutdownReport`] goes through the same JSON, so there is one reader.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::report::{ShutdownReport, readable};

/// A shutdown as rows on a time axis whose origin is the trigger.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Timeline {
    /// `completed`, `forced`, or the current phase while the shutdown runs.
    pub result: String,
    /// What started the shutdown, in words (`signal Term`), when known.
    pub reason: Option<String>,
    /// From the trigger to the end of the last phase (or to now, live).
    pub total: Duration,
    /// Phases in order; inside each, its drain, closes (by priority), hooks and abandoned work.
    pub rows: Vec<Row>,
    /// The deadlines the engine set, with where they fell on the axis.
    pub deadlines: Vec<Marker>,
    /// What ran past its deadline, one line each (named, with how long it ran and the limit).
    pub blockers: Vec<String>,
    /// Errors of the shutdown that are not rows (`main`'s error, a start-up error).
    pub errors: Vec<String>,
}

/// One bar of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Row {
    /// What the row is.
    pub kind: RowKind,
    /// Its label (`closing_resources`, `p50 cache`, `hook flush`).
    pub label: String,
    /// Where the bar starts, from the trigger.
    pub start: Duration,
    /// Where the bar ends, from the trigger.
    pub end: Duration,
    /// How it went.
    pub status: Status,
    /// A few words for people: the outcome, an error.
    pub note: String,
}

impl Row {
    /// How long the bar is.
    pub fn duration(&self) -> Duration {
        self.end.saturating_sub(self.start)
    }

    /// `true` for the rows drawn inside a phase (everything but the phases).
    pub fn is_nested(&self) -> bool {
        self.kind != RowKind::Phase
    }
}

/// What a [`Row`] shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// A phase.
    Phase,
    /// The wait for in-flight work.
    Drain,
    /// Work abandoned at the drain deadline.
    Abandoned,
    /// One HTTP request the drain waited for or refused (at most [`REQUEST_ROWS`], then
    /// one `+N more` row).
    Request,
    /// One resource's close.
    Close,
    /// A phase hook.
    Hook,
}

/// How a [`Row`] went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Finished in time.
    Ok,
    /// Ran past its deadline (timed out, abandoned, a phase whose deadline expired).
    Late,
    /// Failed or panicked.
    Failed,
    /// Not attempted because the shutdown was forced.
    Skipped,
    /// Still running (a live view).
    Running,
}

/// How many HTTP requests a timeline draws one row each; the others share one `+N more`
/// row, so that a drain of thousands of requests still reads on one screen. Abandoned
/// requests come first, then the others in the order they started.
pub const REQUEST_ROWS: usize = 8;

/// A deadline on the axis.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Marker {
    /// What it bounded (`drain_timeout`, `close priority 50`, `timeout`).
    pub what: String,
    /// Where it falls, from the trigger.
    pub at: Duration,
    /// How long was allowed.
    pub limit: Duration,
    /// `true` when what it bounded finished in time.
    pub met: bool,
}

/// The report could not be read as a shutdown report.
#[derive(Debug)]
pub struct ReadError(serde_json::Error);

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "not a shutdown report (the JSON a service writes to `<state_dir>/last-shutdown.json`): {}",
            self.0
        )
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl Timeline {
    /// The timeline of a finished (or running) shutdown's report.
    pub fn from_report(report: &ShutdownReport) -> Self {
        let value = serde_json::to_value(report).unwrap_or(Value::Null);
        Self::from_value(value).unwrap_or_else(|_| Timeline::empty(report.result.as_str()))
    }

    /// The timeline of a report's JSON text (`last-shutdown.json`).
    ///
    /// # Errors
    /// [`ReadError`] when the text is not JSON, or a field has the wrong type. A missing field
    /// is not an error: a report written before it existed draws without it.
    pub fn from_json(text: &str) -> Result<Self, ReadError> {
        serde_json::from_str::<File>(text)
            .map(File::into_timeline)
            .map_err(ReadError)
    }

    /// [`from_json`](Self::from_json) for a parsed value (a live view builds one as the
    /// events arrive).
    ///
    /// # Errors
    /// As [`from_json`](Self::from_json).
    pub fn from_value(value: Value) -> Result<Self, ReadError> {
        serde_json::from_value::<File>(value)
            .map(File::into_timeline)
            .map_err(ReadError)
    }

    fn empty(result: &str) -> Self {
        Timeline {
            result: result.to_string(),
            reason: None,
            total: Duration::ZERO,
            rows: Vec::new(),
            deadlines: Vec::new(),
            blockers: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// `true` once the shutdown has ended (`completed` or `forced`).
    pub fn is_finished(&self) -> bool {
        self.result == "completed" || self.result == "forced"
    }

    /// The axis's length: the total, or the last row's end if later (never zero).
    pub fn span(&self) -> Duration {
        let end = self.rows.iter().map(|r| r.end).max().unwrap_or_default();
        let span = self.total.max(end);
        if span.is_zero() {
            Duration::from_millis(1)
        } else {
            span
        }
    }

    /// The longest step: the longest nested row (a close, a hook, the drain), else the
    /// longest phase.
    pub fn longest(&self) -> Option<&Row> {
        let longest = |nested: bool| {
            self.rows
                .iter()
                .filter(|r| r.is_nested() == nested)
                .max_by_key(|r| r.duration())
        };
        longest(true)
            .filter(|r| !r.duration().is_zero())
            .or_else(|| longest(false))
    }

    /// The one-line summary: outcome, total, the longest step, what ran past its deadline, what
    /// started the shutdown.
    pub fn summary(&self) -> String {
        let mut line = format!("{} in {}", self.result.to_uppercase(), readable(self.total));
        let longest = self.longest();
        if let Some(r) = longest {
            let late = if r.status == Status::Late {
                ", past its deadline"
            } else {
                ""
            };
            line.push_str(&format!(
                " · longest: {} {}{late}",
                r.label.trim(),
                readable(r.duration())
            ));
        }
        let late: Vec<&str> = self
            .rows
            .iter()
            .filter(|r| r.status == Status::Late && r.is_nested())
            .filter(|r| longest != Some(*r))
            .map(|r| r.label.trim())
            .collect();
        let also = if longest.is_some_and(|r| r.status == Status::Late) {
            "also "
        } else {
            ""
        };
        match late.as_slice() {
            [] => {}
            [one] => line.push_str(&format!(" · {also}past deadline: {one}")),
            [first, rest @ ..] => line.push_str(&format!(
                " · {also}past deadline: {first} +{} more",
                rest.len()
            )),
        }
        // Last: what a narrow terminal cuts first.
        if let Some(reason) = &self.reason {
            line.push_str(&format!(" · {reason}"));
        }
        line
    }
}

// ----------------------------------------------------------------------------------------
// The report file as read: every field optional, durations in seconds.

#[derive(Deserialize, Default)]
#[serde(default)]
struct File {
    result: String,
    reason: Value,
    phases: Vec<FilePhase>,
    resources: Vec<FileResource>,
    hooks: Vec<FileHook>,
    abandoned: Vec<String>,
    drain: Option<FileDrain>,
    requests: Vec<FileRequest>,
    requests_not_kept: u64,
    deadlines: Vec<FileMissed>,
    limits: Vec<FileLimit>,
    main: Value,
    startup_error: Option<String>,
    total: f64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FilePhase {
    phase: String,
    started: f64,
    duration: f64,
    within_deadline: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FileOutcome {
    status: String,
    detail: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FileResource {
    name: String,
    priority: i64,
    outcome: FileOutcome,
    started: f64,
    finished: f64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FileHook {
    phase: String,
    name: String,
    outcome: FileOutcome,
    /// Absent before hooks had offsets: drawn from their phase's start.
    started: Option<f64>,
    duration: f64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FileDrain {
    in_flight: u64,
    tasks: Vec<String>,
    ended: Vec<FileEnded>,
    drained_at: Option<f64>,
    abandoned_at: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FileEnded {
    name: String,
    at: f64,
}

/// An HTTP request of the drain; absent from reports written before requests were listed.
#[derive(Deserialize, Default)]
#[serde(default)]
struct FileRequest {
    method: String,
    path: String,
    started: f64,
    ended: Option<f64>,
    outcome: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FileMissed {
    phase: String,
    what: String,
    limit: f64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FileLimit {
    what: String,
    at: f64,
    limit: f64,
    met: bool,
}

/// Seconds as a `Duration`; a negative or non-finite number (a hand-edited file) is zero.
fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or_default()
}

/// `{"kind":"signal","signal":"Term"}` → `signal Term`: the tag, then the other strings.
fn words(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Object(map) => {
            let mut out: Vec<String> = Vec::new();
            if let Some(kind) = map.get("kind").or_else(|| map.get("status")) {
                out.extend(kind.as_str().map(|k| k.replace('_', " ")));
            }
            for (k, v) in map {
                if k == "kind" || k == "status" {
                    continue;
                }
                match v {
                    Value::String(s) => out.push(s.clone()),
                    Value::Number(n) => out.push(n.to_string()),
                    _ => {}
                }
            }
            (!out.is_empty()).then(|| out.join(" "))
        }
        other => Some(other.to_string()),
    }
}

fn outcome_status(outcome: &FileOutcome) -> Status {
    match outcome.status.as_str() {
        "closed" => Status::Ok,
        "timed_out" => Status::Late,
        "skipped" => Status::Skipped,
        "failed" | "panicked" => Status::Failed,
        _ => Status::Running,
    }
}

fn outcome_note(outcome: &FileOutcome) -> String {
    let status = outcome.status.replace('_', " ");
    match &outcome.detail {
        Some(d) => format!("{status}: {d}"),
        None => status,
    }
}

impl File {
    fn into_timeline(self) -> Timeline {
        let finished = self.result == "completed" || self.result == "forced";
        let mut rows = Vec::new();
        let mut blockers = Vec::new();
        let last = self.phases.len().saturating_sub(1);
        for (i, p) in self.phases.iter().enumerate() {
            let start = secs(p.started);
            let end = start + secs(p.duration);
            let status = if !finished && i == last {
                Status::Running
            } else if p.within_deadline == Some(false) {
                Status::Late
            } else {
                Status::Ok
            };
            rows.push(Row {
                kind: RowKind::Phase,
                label: p.phase.clone(),
                start,
                end,
                status,
                note: match status {
                    Status::Late => "deadline expired".into(),
                    Status::Running => "running".into(),
                    _ => String::new(),
                },
            });
            match p.phase.as_str() {
                "draining_connections" => self.drain_rows(start, end, &mut rows, &mut blockers),
                "closing_resources" => self.close_rows(&mut rows, &mut blockers),
                _ => {}
            }
            self.hook_rows(&p.phase, start, &mut rows, &mut blockers);
        }
        let mut deadlines: Vec<Marker> = self
            .limits
            .iter()
            .map(|l| Marker {
                what: l.what.clone(),
                at: secs(l.at),
                limit: secs(l.limit),
                met: l.met,
            })
            .collect();
        // A report without `limits` still names its missed deadlines: placed from the start
        // of the phase they belong to.
        if self.limits.is_empty() {
            // A live view knows that a deadline was missed, not its limit: no marker then.
            for d in self.deadlines.iter().filter(|d| d.limit > 0.0) {
                let from = self
                    .phases
                    .iter()
                    .find(|p| p.phase == d.phase)
                    .map_or(Duration::ZERO, |p| secs(p.started));
                deadlines.push(Marker {
                    what: d.what.clone(),
                    at: from + secs(d.limit),
                    limit: secs(d.limit),
                    met: false,
                });
            }
        }
        for d in &self.deadlines {
            let name = d.what.strip_prefix("hook ").unwrap_or(&d.what);
            if !blockers
                .iter()
                .any(|b: &String| b.contains(&format!("`{name}`")))
            {
                let allowed = if d.limit > 0.0 {
                    format!("{} allowed, ", readable(secs(d.limit)))
                } else {
                    String::new()
                };
                blockers.push(format!(
                    "`{}` missed its deadline ({allowed}{})",
                    d.what, d.phase
                ));
            }
        }
        let mut errors = Vec::new();
        if let Some(e) = &self.startup_error {
            errors.push(format!("start-up: {e}"));
        }
        if let Some(status) = self.main.get("status").and_then(Value::as_str)
            && matches!(status, "error" | "panicked" | "aborted")
        {
            errors.push(format!("main: {}", words(&self.main).unwrap_or_default()));
        }
        let total = secs(self.total).max(rows.iter().map(|r| r.end).max().unwrap_or_default());
        Timeline {
            result: if self.result.is_empty() {
                "running".into()
            } else {
                self.result
            },
            reason: words(&self.reason),
            total,
            rows,
            deadlines,
            blockers,
            errors,
        }
    }

    fn drain_rows(
        &self,
        start: Duration,
        end: Duration,
        rows: &mut Vec<Row>,
        blockers: &mut Vec<String>,
    ) {
        if let Some(d) = &self.drain {
            let tasks = if d.tasks.is_empty() {
                String::new()
            } else {
                format!(" (tasks {})", d.tasks.join(", "))
            };
            let (until, status, what) = match (d.drained_at, d.abandoned_at) {
                (Some(at), _) => (secs(at), Status::Ok, "drained"),
                (None, Some(at)) => (secs(at), Status::Late, "not drained"),
                (None, None) => (end, Status::Running, "draining"),
            };
            rows.push(Row {
                kind: RowKind::Drain,
                label: format!("drain: {} in flight", d.in_flight),
                start,
                end: until,
                status,
                note: format!("{what}{tasks}"),
            });
            // Each named task that ended on its own: from the trigger (when it was asked to
            // stop) to its end.
            for t in &d.ended {
                rows.push(Row {
                    kind: RowKind::Drain,
                    label: format!("task {}", t.name),
                    start: Duration::ZERO,
                    end: secs(t.at),
                    status: Status::Ok,
                    note: "ended".into(),
                });
            }
        }
        let until = self
            .drain
            .as_ref()
            .and_then(|d| d.abandoned_at)
            .map_or(end, secs);
        self.request_rows(end, rows);
        // An abandoned request has its own row already: its line stays a blocker only.
        let has_rows = self.requests.iter().any(|r| r.outcome == "abandoned");
        for a in &self.abandoned {
            blockers.push(format!(
                "`{a}` was still running at the drain deadline ({})",
                readable(until.saturating_sub(start))
            ));
            if has_rows && a.starts_with("http ") && !a.starts_with("http connection ") {
                continue;
            }
            rows.push(Row {
                kind: RowKind::Abandoned,
                label: a.clone(),
                start,
                end: until,
                status: Status::Late,
                note: "abandoned at the drain deadline".into(),
            });
        }
    }

    /// One row per HTTP request (at most [`REQUEST_ROWS`], abandoned first), then one row for
    /// the rest. `end` ends a request that has not.
    fn request_rows(&self, end: Duration, rows: &mut Vec<Row>) {
        let mut order: Vec<&FileRequest> = self.requests.iter().collect();
        // Stable: abandoned first, each group in the order the requests were listed.
        order.sort_by_key(|r| r.outcome != "abandoned");
        let row = |r: &FileRequest| {
            let (status, note) = match r.outcome.as_str() {
                "served" => (Status::Ok, "served"),
                "refused" => (Status::Skipped, "refused: 503 with Retry-After"),
                "abandoned" => (Status::Late, "abandoned at the drain deadline"),
                "dropped" => (Status::Failed, "the connection closed before the response"),
                _ => (Status::Running, "running"),
            };
            let start = secs(r.started);
            Row {
                kind: RowKind::Request,
                label: format!("{} {}", r.method, r.path),
                start,
                end: r.ended.map_or(end, secs).max(start),
                status,
                note: note.into(),
            }
        };
        let (shown, rest) = order.split_at(order.len().min(REQUEST_ROWS));
        rows.extend(shown.iter().map(|r| row(r)));
        let hidden = rest.len() as u64 + self.requests_not_kept;
        if hidden == 0 {
            return;
        }
        let rest: Vec<Row> = rest.iter().map(|r| row(r)).collect();
        let count = |s: Status| rest.iter().filter(|r| r.status == s).count();
        let mut parts = Vec::new();
        for (status, word) in [
            (Status::Ok, "served"),
            (Status::Skipped, "refused"),
            (Status::Late, "abandoned"),
            (Status::Failed, "dropped"),
            (Status::Running, "running"),
        ] {
            let n = count(status);
            if n > 0 {
                parts.push(format!("{n} {word}"));
            }
        }
        if self.requests_not_kept > 0 {
            parts.push(format!("{} refused, not listed", self.requests_not_kept));
        }
        let status = [Status::Late, Status::Failed, Status::Running]
            .into_iter()
            .find(|s| count(*s) > 0)
            .unwrap_or(Status::Ok);
        rows.push(Row {
            kind: RowKind::Request,
            label: format!("+{hidden} more requests"),
            start: rest.iter().map(|r| r.start).min().unwrap_or(end),
            end: rest.iter().map(|r| r.end).max().unwrap_or(end),
            status,
            note: parts.join(", "),
        });
    }

    fn close_rows(&self, rows: &mut Vec<Row>, blockers: &mut Vec<String>) {
        let mut closes: Vec<&FileResource> = self.resources.iter().collect();
        closes.sort_by(|a, b| {
            (a.priority, a.started)
                .partial_cmp(&(b.priority, b.started))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        for r in closes {
            let status = outcome_status(&r.outcome);
            let start = secs(r.started);
            let end = secs(r.finished).max(start);
            if status == Status::Late {
                blockers.push(format!(
                    "resource `{}` (priority {}) did not close: waited {}",
                    r.name,
                    r.priority,
                    readable(end.saturating_sub(start))
                ));
            }
            rows.push(Row {
                kind: RowKind::Close,
                label: format!("p{} {}", r.priority, r.name),
                start,
                end,
                status,
                note: outcome_note(&r.outcome),
            });
        }
    }

    fn hook_rows(
        &self,
        phase: &str,
        phase_start: Duration,
        rows: &mut Vec<Row>,
        blockers: &mut Vec<String>,
    ) {
        for h in self.hooks.iter().filter(|h| h.phase == phase) {
            let status = outcome_status(&h.outcome);
            let start = h.started.map_or(phase_start, secs);
            let end = start + secs(h.duration);
            if status == Status::Late {
                blockers.push(format!(
                    "hook `{}` ({phase}) did not finish: waited {}",
                    h.name,
                    readable(end.saturating_sub(start))
                ));
            }
            rows.push(Row {
                kind: RowKind::Hook,
                label: format!("hook {}", h.name),
                start,
                end,
                status,
                note: outcome_note(&h.outcome),
            });
        }
    }
}
