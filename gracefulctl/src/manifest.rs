//! The manifest (`gracefulctl.toml`): which processes exist, how to find, stop, start and
//! back up each one. Loading checks syntax (with serde + toml spans) and meaning
//! (duplicate names, unknown or cyclic `depends_on`, missing ways to find a process), and
//! every error names the file, the line and the key.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[cfg(not(unix))]
use crate::Signal;
#[cfg(unix)]
use nix::sys::signal::Signal;
use serde::Deserialize;
use toml::Spanned;

use crate::duration::serde_duration;

/// The manifest read when no `--config` is given. Deliberately not `graceful.toml`, the
/// name of a graceful service's own configuration file.
pub const DEFAULT_MANIFEST: &str = "gracefulctl.toml";

/// Default `stop_timeout` when a process declares none.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Default `upgrade_signal` (a graceful service's default `[upgrade] signal`).
pub const DEFAULT_UPGRADE_SIGNAL: Signal = Signal::SIGUSR2;
/// Default `ready_timeout` for `start` when a process declares none.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A manifest that could not be loaded: where, which key, what was wrong.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("{}: cannot read the manifest: {source}", path.display())]
    Read {
        /// The manifest path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or a value has the wrong shape.
    #[error("{}:{line}:{column}: {key}: {message}", path.display())]
    Invalid {
        /// The manifest path.
        path: PathBuf,
        /// 1-based line of the offending text.
        line: usize,
        /// 1-based column of the offending text.
        column: usize,
        /// The key path, e.g. `process[1].stop_timeout`.
        key: String,
        /// What was wrong and what is accepted.
        message: String,
    },
}

/// The whole manifest, checked, with every path made absolute.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Where the manifest was read from.
    pub path: PathBuf,
    /// Directory that relative paths in the manifest are resolved against.
    pub base_dir: PathBuf,
    /// Directory holding gracefulctl's own log file.
    pub logs_dir: PathBuf,
    /// Directory holding `shutdown_YYYYMMDD_HHMMSS/` backup folders.
    pub backups_dir: PathBuf,
    /// The processes, in manifest order.
    pub processes: Vec<Process>,
}

/// One managed process.
#[derive(Debug, Clone)]
pub struct Process {
    /// Unique name.
    pub name: String,
    /// Lower stops first (and starts last).
    pub priority: i64,
    /// Processes this one needs: they stop after it and start before it.
    pub depends_on: Vec<String>,
    /// Whether `status` fails when this process is not running.
    pub critical: bool,
    /// PID file written by the process (absolute).
    pub pid_file: Option<PathBuf>,
    /// Substring its command line must contain (arguments joined by spaces).
    pub pattern: Option<String>,
    /// How many processes `pattern` may match before it is reported as ambiguous.
    pub max_matches: usize,
    /// Signal sent first.
    pub stop_signal: Signal,
    /// How long to wait after `stop_signal` before SIGKILL.
    pub stop_timeout: Duration,
    /// Signal that asks it to upgrade in place (`upgrade`): a graceful service starts a
    /// successor from its binary on disk and hands it the listening sockets.
    pub upgrade_signal: Signal,
    /// Signal the whole process group (children and grandchildren) instead of one PID.
    pub process_group: bool,
    /// How to start it, if gracefulctl may.
    pub start: Option<Start>,
    /// How to tell it is ready (explicit, or implied by `pid_file`/`pattern`).
    pub ready: Ready,
    /// Files or directories copied before stopping (absolute).
    pub backup: Vec<PathBuf>,
    /// The process's own log file (absolute), whose last lines `status --detailed` shows.
    pub log: Option<PathBuf>,
    /// Where a `POST` asks it to stop: a graceful service's admin API shutdown route
    /// (`http://HOST:PORT/shutdown`, with the API's prefix or the route's own name if it has
    /// them). On Windows, where no signal reaches a console process from outside, this is
    /// how `stop` asks politely.
    pub stop_url: Option<String>,
}

/// How to start a process.
#[derive(Debug, Clone)]
pub struct Start {
    /// Shell command (`sh -c`), run in its own process group.
    pub command: String,
    /// Working directory (absolute), default the manifest directory.
    pub cwd: PathBuf,
    /// How long to wait for readiness.
    pub ready_timeout: Duration,
}

/// A readiness check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ready {
    /// The PID file exists and names a live process (matching `pattern`, if any).
    PidFile,
    /// `pattern` matches a live process.
    Pattern,
    /// A TCP connection to this address succeeds.
    Tcp(String),
    /// `GET` on this `http://` URL answers 200.
    Http(String),
}

impl fmt::Display for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ready::PidFile => f.write_str("pid-file"),
            Ready::Pattern => f.write_str("pattern"),
            Ready::Tcp(addr) => write!(f, "tcp://{addr}"),
            Ready::Http(url) => f.write_str(url),
        }
    }
}

/// Parses a `ready = "…"` value.
fn parse_ready(text: &str) -> Result<Ready, String> {
    const FORMS: &str =
        "expected \"pid-file\", \"pattern\", \"tcp://HOST:PORT\" or \"http://HOST:PORT/PATH\"";
    if text == "pid-file" || text == "pid_file" {
        Ok(Ready::PidFile)
    } else if text == "pattern" {
        Ok(Ready::Pattern)
    } else if let Some(addr) = text.strip_prefix("tcp://") {
        if addr
            .rsplit_once(':')
            .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
        {
            Ok(Ready::Tcp(addr.to_owned()))
        } else {
            Err(format!("invalid TCP address in `{text}`; {FORMS}"))
        }
    } else if text.starts_with("http://") {
        crate::http_url::parse_http_url(text)
            .map(|_| Ready::Http(text.to_owned()))
            .map_err(|e| format!("{e}; {FORMS}"))
    } else {
        Err(format!("unknown readiness check `{text}`; {FORMS}"))
    }
}

/// A top-level key of a file with no `[[process]]` entry that a manifest never has (so the
/// file is something else, typically a service's `graceful.toml`), with its offset.
fn foreign_key(text: &str) -> Option<(String, usize)> {
    let table: toml::Table = text.parse().ok()?;
    if table.contains_key("process") {
        return None;
    }
    // A misspelt `[[process]]` or `[settings]` is left to the ordinary unknown-key error.
    let foreign =
        |k: &str| !k.starts_with("proc") && !k.starts_with("sett") && table.contains_key(k);
    // The first such key in the file's order (the table itself is sorted by name).
    let mut pos = 0usize;
    for line in text.lines() {
        let start = pos;
        pos += line.len() + 1;
        let l = line.trim_start().trim_start_matches('[').trim_start();
        let key: String = l
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        if !key.is_empty() && foreign(&key) {
            return Some((key, start));
        }
    }
    let key = table.keys().find(|k| foreign(k))?;
    Some((key.clone(), 0))
}

/// Parses a signal name: `SIGTERM`, `TERM`, `term` or a number (`15`).
///
/// # Errors
/// A message naming the text and the accepted forms.
pub fn parse_signal(text: &str) -> Result<Signal, String> {
    let upper = text.trim().to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper.clone()
    } else {
        format!("SIG{upper}")
    };
    if let Ok(sig) = name.parse::<Signal>() {
        return Ok(sig);
    }
    if let Ok(n) = text.trim().parse::<i32>()
        && let Ok(sig) = Signal::try_from(n)
    {
        return Ok(sig);
    }
    Err(format!(
        "unknown signal `{text}`; expected a name like \"SIGTERM\", \"SIGINT\", \"SIGQUIT\", \"SIGHUP\", \"SIGUSR1\" or a number"
    ))
}

// ---------------------------------------------------------------------------------------
// Raw (as written) form. Spanned where a later semantic check must point at a line.
// ---------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    #[serde(default)]
    settings: RawSettings,
    #[serde(default, rename = "process")]
    processes: Vec<RawProcess>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    logs_dir: Option<String>,
    backups_dir: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProcess {
    name: Spanned<String>,
    #[serde(default)]
    priority: i64,
    #[serde(default)]
    depends_on: Vec<Spanned<String>>,
    #[serde(default)]
    critical: bool,
    pid_file: Option<String>,
    pattern: Option<Spanned<String>>,
    max_matches: Option<usize>,
    #[serde(default, deserialize_with = "de_signal")]
    stop_signal: Option<Signal>,
    #[serde(default, with = "serde_duration::option")]
    stop_timeout: Option<Duration>,
    #[serde(default, deserialize_with = "de_signal")]
    upgrade_signal: Option<Signal>,
    #[serde(default)]
    process_group: bool,
    start: Option<RawStart>,
    #[serde(default, deserialize_with = "de_ready")]
    ready: Option<Ready>,
    #[serde(default)]
    backup: Vec<String>,
    log: Option<String>,
    #[serde(default, deserialize_with = "de_stop_url")]
    stop_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStart {
    command: String,
    cwd: Option<String>,
    #[serde(default, with = "serde_duration::option")]
    ready_timeout: Option<Duration>,
}

fn de_signal<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Signal>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Name(String),
        Number(i32),
    }
    let raw = Raw::deserialize(d)?;
    let text = match raw {
        Raw::Name(s) => s,
        Raw::Number(n) => n.to_string(),
    };
    parse_signal(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn de_stop_url<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(d)?;
    crate::http_url::parse_http_url(&text)
        .map(|_| Some(text))
        .map_err(|e| {
            serde::de::Error::custom(format!(
                "{e}; expected the URL of the admin API's shutdown route, e.g. \
                 \"http://127.0.0.1:9090/shutdown\""
            ))
        })
}

fn de_ready<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Ready>, D::Error> {
    let text = String::deserialize(d)?;
    parse_ready(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

// ---------------------------------------------------------------------------------------

/// 1-based (line, column) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    (line, offset - line_start + 1)
}

impl Manifest {
    /// Reads and checks the manifest at `path`.
    ///
    /// # Errors
    /// [`ManifestError`] naming the file, line and key of the first problem.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_owned(),
            source,
        })?;
        Manifest::parse(path, &text)
    }

    /// Checks manifest `text` as if read from `path` (relative paths resolve against
    /// `path`'s directory).
    ///
    /// # Errors
    /// [`ManifestError`] naming the file, line and key of the first problem.
    pub fn parse(path: &Path, text: &str) -> Result<Manifest, ManifestError> {
        let invalid = |offset: usize, key: String, message: String| {
            let (line, column) = line_col(text, offset);
            ManifestError::Invalid {
                path: path.to_owned(),
                line,
                column,
                key,
                message,
            }
        };

        if let Some((key, offset)) = foreign_key(text) {
            return Err(invalid(
                offset,
                key.clone(),
                format!(
                    "this is not a gracefulctl manifest: it has no `[[process]]` entry and has `{key}`, which \
                     gracefulctl does not know (a graceful service's own configuration file, `graceful.toml`, \
                     has keys like this one); gracefulctl reads its manifest from `{DEFAULT_MANIFEST}` in the \
                     current directory, or from `--config PATH` / GRACEFULCTL_CONFIG"
                ),
            ));
        }
        let de = toml::Deserializer::parse(text).map_err(|err| {
            let offset = err.span().map_or(0, |s| s.start);
            invalid(
                offset,
                "(top level)".to_owned(),
                err.message().trim().to_owned(),
            )
        })?;
        let raw: RawManifest = serde_path_to_error::deserialize(de).map_err(|err| {
            let key = err.path().to_string();
            let inner = err.into_inner();
            let offset = inner.span().map_or(0, |s| s.start);
            let key = if key == "." || key.is_empty() {
                "(top level)".to_owned()
            } else {
                key
            };
            invalid(offset, key, inner.message().trim().to_owned())
        })?;

        let abs_path = if path.is_absolute() {
            path.to_owned()
        } else {
            std::env::current_dir()
                .map(|d| d.join(path))
                .unwrap_or_else(|_| path.to_owned())
        };
        let base_dir = abs_path
            .parent()
            .map_or_else(|| PathBuf::from("/"), Path::to_owned);
        let resolve = |p: &str| -> PathBuf {
            let p = Path::new(p);
            if p.is_absolute() {
                p.to_owned()
            } else {
                base_dir.join(p)
            }
        };

        // Semantic checks.
        let mut first_seen: HashMap<&str, usize> = HashMap::new();
        for (i, p) in raw.processes.iter().enumerate() {
            let name = p.name.get_ref();
            let key = format!("process[{i}].name");
            if name.trim().is_empty() {
                return Err(invalid(
                    p.name.span().start,
                    key,
                    "the name must not be empty".into(),
                ));
            }
            if let Some(prev) = first_seen.insert(name, i) {
                let (prev_line, _) = line_col(text, raw.processes[prev].name.span().start);
                return Err(invalid(
                    p.name.span().start,
                    key,
                    format!(
                        "duplicate process name `{name}` (first declared on line {prev_line}); names must be unique"
                    ),
                ));
            }
            if p.pid_file.is_none() && p.pattern.is_none() {
                return Err(invalid(
                    p.name.span().start,
                    format!("process[{i}]"),
                    format!(
                        "process `{name}` declares neither `pid_file` nor `pattern`; add at least one so it can be found"
                    ),
                ));
            }
            if let Some(pattern) = &p.pattern
                && pattern.get_ref().trim().is_empty()
            {
                return Err(invalid(
                    pattern.span().start,
                    format!("process[{i}].pattern"),
                    "the pattern must not be empty (it would match every process)".into(),
                ));
            }
            if p.max_matches == Some(0) {
                return Err(invalid(
                    p.name.span().start,
                    format!("process[{i}].max_matches"),
                    "`max_matches` must be at least 1".into(),
                ));
            }
            match (&p.ready, &p.pid_file, &p.pattern) {
                (Some(Ready::PidFile), None, _) => {
                    return Err(invalid(
                        p.name.span().start,
                        format!("process[{i}].ready"),
                        "`ready = \"pid-file\"` needs a `pid_file`".into(),
                    ));
                }
                (Some(Ready::Pattern), _, None) => {
                    return Err(invalid(
                        p.name.span().start,
                        format!("process[{i}].ready"),
                        "`ready = \"pattern\"` needs a `pattern`".into(),
                    ));
                }
                _ => {}
            }
        }
        for (i, p) in raw.processes.iter().enumerate() {
            for (j, dep) in p.depends_on.iter().enumerate() {
                let key = format!("process[{i}].depends_on[{j}]");
                if !first_seen.contains_key(dep.get_ref().as_str()) {
                    return Err(invalid(
                        dep.span().start,
                        key,
                        format!("`{}` names no process in this manifest", dep.get_ref()),
                    ));
                }
                if dep.get_ref() == p.name.get_ref() {
                    return Err(invalid(
                        dep.span().start,
                        key,
                        format!("process `{}` depends on itself", dep.get_ref()),
                    ));
                }
            }
        }
        if let Some(cycle) = find_cycle(&raw.processes) {
            let start = &raw.processes[cycle[0]];
            let names: Vec<&str> = cycle
                .iter()
                .map(|&i| raw.processes[i].name.get_ref().as_str())
                .collect();
            return Err(invalid(
                start.name.span().start,
                format!("process[{}].depends_on", cycle[0]),
                format!(
                    "dependency cycle: {} -> {}; break the cycle",
                    names.join(" -> "),
                    names[0]
                ),
            ));
        }

        let processes = raw
            .processes
            .into_iter()
            .map(|p| {
                let pid_file = p.pid_file.as_deref().map(&resolve);
                let pattern = p.pattern.map(Spanned::into_inner);
                let ready = p.ready.unwrap_or(if pid_file.is_some() {
                    Ready::PidFile
                } else {
                    Ready::Pattern
                });
                Process {
                    name: p.name.into_inner(),
                    priority: p.priority,
                    depends_on: p.depends_on.into_iter().map(Spanned::into_inner).collect(),
                    critical: p.critical,
                    pid_file,
                    pattern,
                    max_matches: p.max_matches.unwrap_or(1),
                    stop_signal: p.stop_signal.unwrap_or(Signal::SIGTERM),
                    stop_timeout: p.stop_timeout.unwrap_or(DEFAULT_STOP_TIMEOUT),
                    upgrade_signal: p.upgrade_signal.unwrap_or(DEFAULT_UPGRADE_SIGNAL),
                    process_group: p.process_group,
                    start: p.start.map(|s| Start {
                        command: s.command,
                        cwd: s.cwd.as_deref().map_or_else(|| base_dir.clone(), &resolve),
                        ready_timeout: s.ready_timeout.unwrap_or(DEFAULT_READY_TIMEOUT),
                    }),
                    ready,
                    backup: p.backup.iter().map(|b| resolve(b)).collect(),
                    log: p.log.as_deref().map(resolve),
                    stop_url: p.stop_url,
                }
            })
            .collect();

        Ok(Manifest {
            logs_dir: raw
                .settings
                .logs_dir
                .as_deref()
                .map_or_else(|| base_dir.join("logs"), &resolve),
            backups_dir: raw
                .settings
                .backups_dir
                .as_deref()
                .map_or_else(|| base_dir.join("backups"), &resolve),
            path: abs_path,
            base_dir,
            processes,
        })
    }

    /// The process called `name`.
    pub fn process(&self, name: &str) -> Option<&Process> {
        self.processes.iter().find(|p| p.name == name)
    }
}

/// Returns one dependency cycle (indices, in order) if there is any.
fn find_cycle(processes: &[RawProcess]) -> Option<Vec<usize>> {
    let index: HashMap<&str, usize> = processes
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.get_ref().as_str(), i))
        .collect();
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    fn visit(
        i: usize,
        processes: &[RawProcess],
        index: &HashMap<&str, usize>,
        marks: &mut [Mark],
        stack: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        marks[i] = Mark::Active;
        stack.push(i);
        for dep in &processes[i].depends_on {
            let Some(&j) = index.get(dep.get_ref().as_str()) else {
                continue;
            };
            match marks[j] {
                Mark::Active => {
                    let from = stack.iter().position(|&k| k == j).unwrap_or(0);
                    return Some(stack[from..].to_vec());
                }
                Mark::New => {
                    if let Some(c) = visit(j, processes, index, marks, stack) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks[i] = Mark::Done;
        None
    }
    let mut marks = vec![Mark::New; processes.len()];
    for i in 0..processes.len() {
        if marks[i] == Mark::New {
            let mut stack = Vec::new();
            if let Some(c) = visit(i, processes, &index, &mut marks, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(Path::new("/srv/app/gracefulctl.toml"), text)
    }

    fn err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn full_manifest_parses_with_defaults() {
        let m = parse(
            r#"
[settings]
logs_dir = "/var/log/gctl"

[[process]]
name = "web"
priority = 10
pid_file = "run/web.pid"
pattern = "web.sh"
stop_timeout = "1m30s"
stop_signal = "INT"
upgrade_signal = "HUP"
backup = ["data/web.db", "/etc/web.conf"]
critical = true
[process.start]
command = "./web.sh &"
ready_timeout = 5

[[process]]
name = "db"
pattern = "db.sh"
ready = "tcp://127.0.0.1:5432"
"#,
        )
        .unwrap();
        assert_eq!(m.logs_dir, PathBuf::from("/var/log/gctl"));
        assert_eq!(m.backups_dir, PathBuf::from("/srv/app/backups"));
        let web = m.process("web").unwrap();
        assert_eq!(
            web.pid_file.as_deref(),
            Some(Path::new("/srv/app/run/web.pid"))
        );
        assert_eq!(web.stop_timeout, Duration::from_secs(90));
        assert_eq!(web.stop_signal, Signal::SIGINT);
        assert_eq!(web.upgrade_signal, Signal::SIGHUP);
        assert_eq!(web.ready, Ready::PidFile);
        assert_eq!(web.backup[1], PathBuf::from("/etc/web.conf"));
        let start = web.start.as_ref().unwrap();
        assert_eq!(start.ready_timeout, Duration::from_secs(5));
        assert_eq!(start.cwd, PathBuf::from("/srv/app"));
        let db = m.process("db").unwrap();
        assert_eq!(db.stop_timeout, DEFAULT_STOP_TIMEOUT);
        assert_eq!(db.stop_signal, Signal::SIGTERM);
        assert_eq!(db.upgrade_signal, Signal::SIGUSR2);
        assert_eq!(db.max_matches, 1);
        assert_eq!(db.ready, Ready::Tcp("127.0.0.1:5432".into()));
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let e = err("[[process]]\nname = \"a\"\npid_file = \"a.pid\"\nstop_timout = \"3s\"\n");
        assert!(e.starts_with("/srv/app/gracefulctl.toml:4:"), "{e}");
        assert!(e.contains("stop_timout"), "{e}");
    }

    #[test]
    fn bad_duration_names_key_and_forms() {
        let e = err("[[process]]\nname = \"a\"\npid_file = \"a.pid\"\n\nstop_timeout = \"10x\"\n");
        assert!(e.starts_with("/srv/app/gracefulctl.toml:5:"), "{e}");
        assert!(e.contains("process[0].stop_timeout"), "{e}");
        assert!(e.contains("1m30s"), "{e}");
    }

    #[test]
    fn bad_signal_is_rejected() {
        let e = err("[[process]]\nname = \"a\"\npid_file = \"a.pid\"\nstop_signal = \"SIGFOO\"\n");
        assert!(
            e.contains(":4:") && e.contains("stop_signal") && e.contains("SIGFOO"),
            "{e}"
        );
    }

    #[test]
    fn stop_url_is_read_and_checked() {
        let m = parse(
            "[[process]]\nname = \"a\"\npid_file = \"a.pid\"\nstop_url = \"http://127.0.0.1:9090/shutdown\"\n",
        )
        .unwrap();
        assert_eq!(
            m.process("a").unwrap().stop_url.as_deref(),
            Some("http://127.0.0.1:9090/shutdown")
        );
        let e = err(
            "[[process]]\nname = \"a\"\npid_file = \"a.pid\"\nstop_url = \"https://x:9090/shutdown\"\n",
        );
        assert!(
            e.contains(":4:") && e.contains("stop_url") && e.contains("shutdown route"),
            "{e}"
        );
    }

    #[test]
    fn bad_upgrade_signal_is_rejected() {
        let e = err("[[process]]\nname = \"a\"\npid_file = \"a.pid\"\nupgrade_signal = \"USR3\"\n");
        assert!(
            e.contains(":4:") && e.contains("upgrade_signal") && e.contains("USR3"),
            "{e}"
        );
    }

    #[test]
    fn duplicate_names_point_at_the_second() {
        let e = err(
            "[[process]]\nname = \"a\"\npattern = \"x\"\n[[process]]\nname = \"a\"\npattern = \"y\"\n",
        );
        assert!(
            e.contains(":5:") && e.contains("process[1].name") && e.contains("line 2"),
            "{e}"
        );
    }

    #[test]
    fn unknown_dependency_is_rejected() {
        let e = err("[[process]]\nname = \"a\"\npattern = \"x\"\ndepends_on = [\"ghost\"]\n");
        assert!(
            e.contains(":4:") && e.contains("depends_on[0]") && e.contains("ghost"),
            "{e}"
        );
    }

    #[test]
    fn cycles_are_rejected() {
        let e = err(
            "[[process]]\nname = \"a\"\npattern = \"x\"\ndepends_on = [\"b\"]\n[[process]]\nname = \"b\"\npattern = \"y\"\ndepends_on = [\"a\"]\n",
        );
        assert!(e.contains("cycle") && e.contains("a -> b -> a"), "{e}");
    }

    #[test]
    fn a_process_must_be_findable() {
        let e = err("[[process]]\nname = \"a\"\n");
        assert!(e.contains("neither `pid_file` nor `pattern`"), "{e}");
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let e = err("[[process]]\nname = \"a\npattern = \"x\"\n");
        assert!(e.starts_with("/srv/app/gracefulctl.toml:2:"), "{e}");
    }

    #[test]
    fn signals_parse_in_every_form() {
        assert_eq!(parse_signal("SIGTERM"), Ok(Signal::SIGTERM));
        assert_eq!(parse_signal("term"), Ok(Signal::SIGTERM));
        assert_eq!(parse_signal("9"), Ok(Signal::SIGKILL));
        assert!(parse_signal("nope").is_err());
    }
}
