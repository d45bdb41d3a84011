//! `status --detailed`: per process its command line, where its PID came from, its
//! children, the TCP ports it listens on, and the last lines of its log when the manifest
//! names one (`log = "…"`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::locate::{Found, Lock, Source, locate};
use crate::manifest::Manifest;
use crate::procs::Snapshot;

/// How many log lines are shown.
pub const LOG_LINES: usize = 10;

/// One process, in detail.
#[derive(Debug, Clone, Serialize)]
pub struct Detail {
    /// Manifest name.
    pub name: String,
    /// Where the PID came from: `pid-file <path>`, `pid-file (locked) <path>` or
    /// `pattern <text>`.
    pub pid_source: Option<String>,
    /// The PID file, when the manifest names one: what it holds and whether it is locked.
    pub pid_file: Option<PidFileDetail>,
    /// The running processes, each with its command line, children and listening ports.
    pub processes: Vec<Running>,
    /// The last lines of the process's log, when the manifest names one.
    pub log: Option<LogTail>,
}

/// A PID file as `status --detailed` saw it.
#[derive(Debug, Clone, Serialize)]
pub struct PidFileDetail {
    /// The file.
    pub path: PathBuf,
    /// Whether it exists.
    pub exists: bool,
    /// The PID it names, if it names one.
    pub pid: Option<i32>,
    /// Whether its lock is held (`None` when it does not exist or could not be read).
    pub lock: Option<Lock>,
}

/// One running process.
#[derive(Debug, Clone, Serialize)]
pub struct Running {
    /// Its PID.
    pub pid: i32,
    /// Its command line.
    pub command_line: String,
    /// Its direct children: PID and command line.
    pub children: Vec<(i32, String)>,
    /// The TCP addresses it listens on.
    pub listening: Vec<SocketAddr>,
}

/// The end of a log file.
#[derive(Debug, Clone, Serialize)]
pub struct LogTail {
    /// The file.
    pub path: PathBuf,
    /// Its last lines.
    pub lines: Vec<String>,
    /// Why it could not be read, if it could not.
    pub error: Option<String>,
}

/// Details for every process of `manifest`, from one snapshot.
pub fn collect(manifest: &Manifest, snap: &Snapshot) -> Vec<Detail> {
    let listening = listening_sockets();
    manifest
        .processes
        .iter()
        .map(|p| {
            let located = locate(p, snap);
            let pid_file = p.pid_file.as_ref().map(|path| PidFileDetail {
                path: path.clone(),
                exists: path.exists(),
                pid: located.pid_file.as_ref().and_then(|r| r.pid),
                lock: located.pid_file.as_ref().map(|r| r.lock),
            });
            let (processes, pid_source) = match located.found {
                Found::Running { targets, source } => {
                    let how = match (source, &p.pid_file, &p.pattern) {
                        (Source::PidFile | Source::LockedPidFile, Some(f), _) => {
                            format!("{} {}", source.label(), f.display())
                        }
                        (Source::Pattern, _, Some(pat)) => format!("pattern `{pat}`"),
                        (source, _, _) => source.label().to_owned(),
                    };
                    let running = targets
                        .iter()
                        .map(|t| Running {
                            pid: t.pid,
                            command_line: t.display_cmdline(),
                            children: snap
                                .children_of(t.pid)
                                .iter()
                                .map(|c| (c.pid, c.display_cmdline()))
                                .collect(),
                            listening: ports_of(t.pid, &listening),
                        })
                        .collect();
                    (running, Some(how))
                }
                Found::NotRunning | Found::Ambiguous { .. } => (Vec::new(), None),
            };
            Detail {
                name: p.name.clone(),
                pid_source,
                pid_file,
                processes,
                log: p.log.as_ref().map(|path| {
                    let (lines, error) = match tail(path, LOG_LINES) {
                        Ok(lines) => (lines, None),
                        Err(e) => (Vec::new(), Some(e)),
                    };
                    LogTail {
                        path: path.clone(),
                        lines,
                        error,
                    }
                }),
            }
        })
        .collect()
}

/// The text form, one block per process.
pub fn render(details: &[Detail]) -> String {
    let mut out = String::new();
    for d in details {
        let _ = writeln!(out, "\n{}:", d.name);
        match &d.pid_source {
            Some(s) => {
                let _ = writeln!(out, "  found by: {s}");
            }
            None => {
                let _ = writeln!(out, "  not running");
            }
        }
        if let Some(f) = &d.pid_file {
            let _ = writeln!(out, "  PID file: {}", describe_pid_file(f));
        }
        for r in &d.processes {
            let _ = writeln!(out, "  PID {}: {}", r.pid, r.command_line);
            for (pid, cmd) in &r.children {
                let _ = writeln!(out, "    child {pid}: {cmd}");
            }
            let ports: Vec<String> = r.listening.iter().map(ToString::to_string).collect();
            let _ = writeln!(
                out,
                "    listening: {}",
                if ports.is_empty() {
                    "-".to_owned()
                } else {
                    ports.join(", ")
                }
            );
        }
        if let Some(log) = &d.log {
            match &log.error {
                None => {
                    let _ = writeln!(
                        out,
                        "  log {} (last {}):",
                        log.path.display(),
                        log.lines.len()
                    );
                    for l in &log.lines {
                        let _ = writeln!(out, "    | {l}");
                    }
                }
                Some(e) => {
                    let _ = writeln!(out, "  log {}: {e}", log.path.display());
                }
            }
        }
    }
    out
}

/// `/run/web.pid: names PID 4188, locked (a live owner holds it)`.
fn describe_pid_file(f: &PidFileDetail) -> String {
    let path = f.path.display();
    if !f.exists {
        return format!("{path}: absent");
    }
    let names = f.pid.map_or_else(
        || "names no PID".to_owned(),
        |pid| format!("names PID {pid}"),
    );
    match f.lock {
        Some(lock) => format!("{path}: {names}, {}", lock.describe()),
        None => format!("{path}: cannot be read"),
    }
}

/// The last `n` lines of `path`.
fn tail(path: &Path, n: usize) -> Result<Vec<String>, String> {
    let bytes = fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    Ok(lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| (*l).to_owned())
        .collect())
}

/// Socket inode → listening address, from `/proc/net/tcp` and `/proc/net/tcp6`.
fn listening_sockets() -> HashMap<u64, SocketAddr> {
    let mut out = HashMap::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
            if f.len() < 10 || f[3] != "0A" {
                continue;
            }
            if let (Some(addr), Ok(inode)) = (parse_addr(f[1]), f[9].parse::<u64>()) {
                out.insert(inode, addr);
            }
        }
    }
    out
}

/// `0100007F:1F90` (IPv4) or 32 hex digits and a port (IPv6), as the kernel writes them:
/// each 32-bit word in host (little-endian) order.
fn parse_addr(text: &str) -> Option<SocketAddr> {
    let (ip, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Vec<u32> = (0..ip.len() / 8)
        .map(|i| u32::from_str_radix(&ip[i * 8..i * 8 + 8], 16))
        .collect::<Result<_, _>>()
        .ok()?;
    let ip = match words.as_slice() {
        [w] => IpAddr::V4(Ipv4Addr::from(w.to_le_bytes())),
        [a, b, c, d] => {
            let mut bytes = [0u8; 16];
            for (i, w) in [a, b, c, d].iter().enumerate() {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// The listening addresses among `pid`'s open sockets.
fn ports_of(pid: i32, listening: &HashMap<u64, SocketAddr>) -> Vec<SocketAddr> {
    let Ok(dir) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    let mut out: Vec<SocketAddr> = dir
        .filter_map(|e| fs::read_link(e.ok()?.path()).ok())
        .filter_map(|target| {
            let t = target.to_str()?;
            let inode: u64 = t
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()?;
            listening.get(&inode).copied()
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_addresses() {
        assert_eq!(
            parse_addr("0100007F:1F90"),
            Some("127.0.0.1:8080".parse().unwrap())
        );
        assert_eq!(
            parse_addr("00000000000000000000000001000000:0050"),
            Some("[::1]:80".parse().unwrap())
        );
    }
}
