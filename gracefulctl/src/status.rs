//! `status`: one row per manifest process, computed from a single [`Snapshot`].

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::locate::{Found, Source, locate};
use crate::manifest::Manifest;
use crate::procs::Snapshot;

/// The state shown for a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Found and alive.
    Running,
    /// Not found.
    Stopped,
    /// Not found, and its PID file is stale (dead PID, garbage, or PID reuse).
    Stale,
    /// `pattern` matches more processes than `max_matches` allows.
    Ambiguous,
}

impl State {
    /// Lower-case label.
    pub fn label(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Stopped => "stopped",
            State::Stale => "stale",
            State::Ambiguous => "ambiguous",
        }
    }
}

/// One process's status.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Manifest name.
    pub name: String,
    /// Main PID (the first, when a pattern matched several).
    pub pid: Option<i32>,
    /// Every PID found (running or ambiguous).
    pub pids: Vec<i32>,
    /// State.
    pub state: State,
    /// Seconds since it started.
    pub uptime_secs: Option<u64>,
    /// Resident memory in bytes (summed over `pids`).
    pub memory_bytes: Option<u64>,
    /// Lifetime-average CPU use in percent of one core (summed over `pids`).
    pub cpu_percent: Option<f64>,
    /// Whether it is critical.
    pub critical: bool,
    /// Where the PID came from.
    pub source: Option<Source>,
    /// Stale PID file or ambiguity details.
    pub note: Option<String>,
}

/// `status` for the whole manifest.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The manifest read.
    pub manifest: String,
    /// Whether every critical process is running (the exit status).
    pub all_critical_running: bool,
    /// One row per process, in manifest order.
    pub processes: Vec<Row>,
    /// With `--detailed`: command lines, children, listening ports, log tails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<crate::detail::Detail>>,
}

/// Builds the report from one snapshot (no further reads of the process table).
pub fn collect(manifest: &Manifest, snap: &Snapshot) -> Report {
    let processes: Vec<Row> = manifest
        .processes
        .iter()
        .map(|p| {
            let located = locate(p, snap);
            let stale_note = located
                .stale
                .as_ref()
                .map(|s| format!("stale PID file {}: {}", s.path.display(), s.reason));
            let mut row = Row {
                name: p.name.clone(),
                pid: None,
                pids: Vec::new(),
                state: State::Stopped,
                uptime_secs: None,
                memory_bytes: None,
                cpu_percent: None,
                critical: p.critical,
                source: None,
                note: stale_note,
            };
            match located.found {
                Found::Running { targets, source } => {
                    row.state = State::Running;
                    row.pid = targets.first().map(|t| t.pid);
                    row.pids = targets.iter().map(|t| t.pid).collect();
                    row.uptime_secs = targets.iter().map(|t| snap.uptime_of(t).as_secs()).max();
                    row.memory_bytes = Some(targets.iter().map(|t| snap.memory_of(t)).sum());
                    let cpu: f64 = targets.iter().map(|t| snap.cpu_percent_of(t)).sum();
                    row.cpu_percent = Some((cpu * 10.0).round() / 10.0);
                    row.source = Some(source);
                }
                Found::NotRunning => {
                    if located.stale.is_some() {
                        row.state = State::Stale;
                    }
                }
                Found::Ambiguous { pids } => {
                    row.state = State::Ambiguous;
                    row.note = Some(format!(
                        "pattern `{}` matches {} processes (max_matches = {}): {}",
                        p.pattern.as_deref().unwrap_or(""),
                        pids.len(),
                        p.max_matches,
                        join_pids(&pids)
                    ));
                    row.pids = pids;
                }
            }
            row
        })
        .collect();
    Report {
        manifest: manifest.path.display().to_string(),
        all_critical_running: processes
            .iter()
            .all(|r| !r.critical || r.state == State::Running),
        processes,
        details: None,
    }
}

pub(crate) fn join_pids(pids: &[i32]) -> String {
    pids.iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// `1h02m`, `3m12s`, `45s`, `2d03h`.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86400, (s % 86400) / 3600),
    }
}

/// `512 B`, `3.4 MiB`.
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if b < 1024 {
        return format!("{b} B");
    }
    let mut v = b as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// The report as an aligned text table, followed by notes (stale PID files, ambiguity).
pub fn render_table(report: &Report) -> String {
    let header = [
        "NAME", "PID", "STATE", "UPTIME", "MEMORY", "CPU%", "CRITICAL", "SOURCE",
    ];
    let dash = || "-".to_owned();
    let rows: Vec<[String; 8]> = report
        .processes
        .iter()
        .map(|r| {
            let pid = match (r.state, r.pid) {
                (State::Running, Some(pid)) if r.pids.len() > 1 => {
                    format!("{pid}(+{})", r.pids.len() - 1)
                }
                (_, Some(pid)) => pid.to_string(),
                _ => dash(),
            };
            [
                r.name.clone(),
                pid,
                r.state.label().to_owned(),
                r.uptime_secs
                    .map_or_else(dash, |s| human_duration(Duration::from_secs(s))),
                r.memory_bytes.map_or_else(dash, human_bytes),
                r.cpu_percent.map_or_else(dash, |c| format!("{c:.1}")),
                if r.critical { "yes" } else { "no" }.to_owned(),
                r.source.map_or_else(dash, |s| s.label().to_owned()),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let text: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", text.join("  ").trim_end());
    };
    line(&header.map(str::to_owned));
    for row in &rows {
        line(row);
    }
    let notes: Vec<String> = report
        .processes
        .iter()
        .filter_map(|r| r.note.as_ref().map(|n| format!("  {}: {n}", r.name)))
        .collect();
    if !notes.is_empty() {
        out.push_str("\nnotes:\n");
        for n in notes {
            out.push_str(&n);
            out.push('\n');
        }
    }
    let _ = writeln!(
        out,
        "\n{}",
        if report.all_critical_running {
            "all critical processes are running"
        } else {
            "NOT all critical processes are running"
        }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humans() {
        assert_eq!(human_duration(Duration::from_secs(45)), "45s");
        assert_eq!(human_duration(Duration::from_secs(192)), "3m12s");
        assert_eq!(human_duration(Duration::from_secs(3720)), "1h02m");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(3 * 1024 * 1024 + 400 * 1024), "3.4 MiB");
    }
}
