//! Finding a manifest process in a [`Snapshot`]: by PID file first, then by `pattern`,
//! with stale PID files (dead process, garbage, PID reuse) detected and reported.

use std::fs;
use std::path::PathBuf;
use std::time::UNIX_EPOCH;

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
    /// Read from the process's PID file.
    PidFile,
    /// Found by matching `pattern` against command lines.
    Pattern,
}

impl Source {
    /// Short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            Source::PidFile => "pid-file",
            Source::Pattern => "pattern",
        }
    }
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
}

/// Looks `process` up in `snap` (no further reads of `/proc`; the PID file is read).
pub fn locate(process: &Process, snap: &Snapshot) -> Located {
    let mut stale = None;
    if let Some(path) = &process.pid_file {
        match check_pid_file(process, path, snap) {
            PidFileVerdict::Missing => {}
            PidFileVerdict::Stale(s) => stale = Some(s),
            PidFileVerdict::Live(info) => {
                return Located {
                    found: Found::Running {
                        targets: vec![info],
                        source: Source::PidFile,
                    },
                    stale: None,
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
    Located { found, stale }
}

enum PidFileVerdict {
    Missing,
    Stale(StalePidFile),
    Live(ProcInfo),
}

fn check_pid_file(process: &Process, path: &PathBuf, snap: &Snapshot) -> PidFileVerdict {
    let stale = |pid: Option<i32>, reason: String| {
        PidFileVerdict::Stale(StalePidFile {
            path: path.clone(),
            pid,
            reason,
        })
    };
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return PidFileVerdict::Missing,
        Err(e) => return stale(None, format!("cannot read it: {e}")),
    };
    let Some(pid) = text
        .split_whitespace()
        .next()
        .and_then(|t| t.parse::<i32>().ok())
    else {
        return stale(None, format!("it does not hold a PID (`{}`)", text.trim()));
    };
    if pid <= 0 {
        return stale(Some(pid), format!("{pid} is not a valid PID"));
    }
    let Some(info) = snap.get(pid).filter(|p| !p.is_zombie()) else {
        return stale(Some(pid), format!("PID {pid} is not running"));
    };
    if let Some(pattern) = &process.pattern {
        if !info.cmdline.contains(pattern.as_str()) {
            return stale(
                Some(pid),
                format!(
                    "PID {pid} now runs `{}`, which does not contain `{pattern}` (PID reused)",
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
        let started = snap.start_epoch_of(info);
        if snap.boot_time > 0 && started > written.as_secs_f64() + REUSE_SLACK_SECS {
            return stale(
                Some(pid),
                format!(
                    "PID {pid} (`{}`) started after the PID file was written (PID reused)",
                    info.display_cmdline()
                ),
            );
        }
    }
    PidFileVerdict::Live(info.clone())
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
}
