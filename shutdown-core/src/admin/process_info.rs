//! `GET /process`: what the process looks like from `/proc/self` (Linux); elsewhere the
//! fields the platform cannot tell are `null`.

use std::time::Duration;

use serde_json::{Value, json};

/// Clock ticks per second of `/proc/<pid>/stat` times. Linux fixes `USER_HZ` at 100 on every
/// architecture Rust targets, so reading it needs no `sysconf` call.
const USER_HZ: f64 = 100.0;

/// A snapshot of the process.
pub(crate) fn snapshot(uptime: Duration, recent: Option<(f64, Duration)>) -> Value {
    let status = std::fs::read_to_string("/proc/self/status").ok();
    let field = |name: &str| -> Option<u64> {
        let s = status.as_deref()?;
        let line = s.lines().find(|l| l.starts_with(name))?;
        line[name.len()..].split_whitespace().next()?.parse().ok()
    };
    let kib = |name: &str| field(name).map(|k| k * 1024);
    let cpu = cpu_seconds();
    json!({
        "pid": std::process::id(),
        "uptime_seconds": uptime.as_secs_f64(),
        "memory": {
            "rss_bytes": kib("VmRSS:"),
            "virtual_bytes": kib("VmSize:"),
            "peak_rss_bytes": kib("VmHWM:"),
        },
        "cpu": {
            "user_seconds": cpu.map(|c| c.0),
            "system_seconds": cpu.map(|c| c.1),
            "total_seconds": cpu.map(|c| c.0 + c.1),
            "percent": recent.map(|r| r.0),
            "window_seconds": recent.map(|r| r.1.as_secs_f64()),
        },
        "threads": field("Threads:"),
        "open_fds": open_fds(),
    })
}

/// Resident memory in bytes.
pub(crate) fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line["VmRSS:".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// User + system CPU seconds so far.
pub(crate) fn cpu_total_seconds() -> Option<f64> {
    cpu_seconds().map(|(u, s)| u + s)
}

/// User and system CPU seconds, from fields 14 and 15 of `/proc/self/stat`.
fn cpu_seconds() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state); utime is field 14, stime field 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime / USER_HZ, stime / USER_HZ))
}

fn open_fds() -> Option<usize> {
    // The directory handle itself is one of the entries while it is being read.
    std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|d| d.count().saturating_sub(1))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn reads_proc_self() {
        let v = snapshot(Duration::from_secs(3), None);
        assert_eq!(v["pid"], std::process::id());
        assert!(v["memory"]["rss_bytes"].as_u64().unwrap_or(0) > 0, "{v}");
        assert!(v["threads"].as_u64().unwrap_or(0) >= 1, "{v}");
        assert!(v["open_fds"].as_u64().unwrap_or(0) >= 3, "{v}");
        assert!(v["cpu"]["total_seconds"].as_f64().is_some(), "{v}");
    }
}
