//! A snapshot of the process table, read once and looked up many times.
//!
//! `status` over N services reads the table once, not N times: [`Snapshot::capture`] asks
//! the platform's reader for every process and every lookup after that is a hash-map probe
//! or a scan of the in-memory table. The readers, one per platform, fill the same
//! [`ProcInfo`]: Linux's `/proc` (`linux.rs`), and on Windows the `sysinfo` crate
//! (`windows.rs`), which has no process groups, zombies or numeric owners (see there).

use std::collections::HashMap;
use std::time::Duration;

#[cfg(unix)]
mod linux;
#[cfg(unix)]
use linux as platform;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as platform;

/// One process as the process table described it at snapshot time.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcInfo {
    /// Process id.
    pub pid: i32,
    /// Parent process id.
    pub ppid: i32,
    /// Process group id (on Windows, which has none, the PID itself).
    pub pgid: i32,
    /// Real owner (uid of `/proc/PID`; 0 on Windows, whose owners are not numbers).
    pub uid: u32,
    /// State letter (`R`, `S`, `Z`, …; always `R` on Windows, where an exited process
    /// leaves the table).
    pub state: char,
    /// Short command name (`stat`'s, or the executable's name on Windows).
    pub comm: String,
    /// Arguments joined by single spaces (empty for kernel threads, and on Windows for
    /// processes whose memory cannot be read).
    pub cmdline: String,
    /// Start time in clock ticks since boot ([`Snapshot::ticks_per_sec`] per second).
    pub start_ticks: u64,
    /// User + system CPU time in clock ticks.
    pub cpu_ticks: u64,
    /// Resident set size in pages ([`Snapshot::page_size`] bytes each).
    pub rss_pages: u64,
}

impl ProcInfo {
    /// Reads one process; `None` if it does not exist (or vanished while being read).
    pub fn read(pid: i32) -> Option<ProcInfo> {
        platform::read_one(pid)
    }

    /// Whether this is a zombie (exited, not yet reaped): it can no longer do anything.
    pub fn is_zombie(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }

    /// Command line to show a person (`[comm]` for kernel threads).
    pub fn display_cmdline(&self) -> String {
        if self.cmdline.is_empty() {
            format!("[{}]", self.comm)
        } else {
            self.cmdline.clone()
        }
    }
}

/// The whole process table at one instant, plus what is needed to turn ticks into time.
#[derive(Debug, Clone)]
pub struct Snapshot {
    procs: HashMap<i32, ProcInfo>,
    /// Seconds since boot when the snapshot was taken.
    pub uptime: f64,
    /// Clock ticks per second (`_SC_CLK_TCK`; 1000 on Windows, where ticks are milliseconds).
    pub ticks_per_sec: u64,
    /// Page size in bytes (1 on Windows, where memory is read in bytes).
    pub page_size: u64,
    /// Boot time, seconds since the Unix epoch (`btime` of `/proc/stat`; 0 if unknown).
    pub boot_time: u64,
}

impl Snapshot {
    /// Reads the whole process table once.
    pub fn capture() -> Snapshot {
        Snapshot {
            procs: platform::read_all(),
            ..platform::clocks()
        }
    }

    /// A snapshot made of the given processes (for tests).
    pub fn from_procs(procs: impl IntoIterator<Item = ProcInfo>) -> Snapshot {
        Snapshot {
            procs: procs.into_iter().map(|p| (p.pid, p)).collect(),
            ..platform::clocks()
        }
    }

    /// The process with this PID, if it exists.
    pub fn get(&self, pid: i32) -> Option<&ProcInfo> {
        self.procs.get(&pid)
    }

    /// How many processes the snapshot holds.
    pub fn len(&self) -> usize {
        self.procs.len()
    }

    /// Whether the snapshot is empty.
    pub fn is_empty(&self) -> bool {
        self.procs.is_empty()
    }

    /// Live (non-zombie) processes whose command line contains `pattern`, excluding
    /// gracefulctl itself, sorted by PID.
    pub fn matching(&self, pattern: &str) -> Vec<&ProcInfo> {
        let me = i32::try_from(std::process::id()).unwrap_or(-1);
        self.live(|p| p.pid != me && !p.cmdline.is_empty() && p.cmdline.contains(pattern))
    }

    /// Live (non-zombie) direct children of `pid`, by PID.
    pub fn children_of(&self, pid: i32) -> Vec<&ProcInfo> {
        self.live(|p| p.ppid == pid)
    }

    /// Live (non-zombie) members of process group `pgid`.
    pub fn group_members(&self, pgid: i32) -> Vec<&ProcInfo> {
        self.live(|p| p.pgid == pgid)
    }

    /// Live (non-zombie) processes for which `keep` is true, by PID.
    fn live(&self, keep: impl Fn(&ProcInfo) -> bool) -> Vec<&ProcInfo> {
        let mut found: Vec<&ProcInfo> = self
            .procs
            .values()
            .filter(|p| !p.is_zombie() && keep(p))
            .collect();
        found.sort_by_key(|p| p.pid);
        found
    }

    /// How long `p` has been running.
    pub fn uptime_of(&self, p: &ProcInfo) -> Duration {
        let started = p.start_ticks as f64 / self.ticks_per_sec as f64;
        Duration::from_secs_f64((self.uptime - started).max(0.0))
    }

    /// Resident memory of `p` in bytes.
    pub fn memory_of(&self, p: &ProcInfo) -> u64 {
        p.rss_pages.saturating_mul(self.page_size)
    }

    /// Average CPU use of `p` over its lifetime, in percent of one core (as `ps` shows).
    pub fn cpu_percent_of(&self, p: &ProcInfo) -> f64 {
        let alive = self.uptime_of(p).as_secs_f64();
        if alive <= 0.0 {
            return 0.0;
        }
        let cpu = p.cpu_ticks as f64 / self.ticks_per_sec as f64;
        (cpu / alive * 100.0 * 10.0).round() / 10.0
    }

    /// When `p` started, in seconds since the Unix epoch.
    pub fn start_epoch_of(&self, p: &ProcInfo) -> f64 {
        self.boot_time as f64 + p.start_ticks as f64 / self.ticks_per_sec as f64
    }
}

/// Live (non-zombie) members of process group `pgid` right now, cheaper than a full
/// snapshot (no command lines). Always empty on Windows, which has no process groups.
pub fn live_group_members(pgid: i32) -> Vec<i32> {
    platform::live_group_members(pgid)
}

/// Whether `pid` names a live (non-zombie) process right now.
pub fn is_alive(pid: i32) -> bool {
    ProcInfo::read(pid).is_some_and(|p| !p.is_zombie())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_in_the_snapshot() {
        let snap = Snapshot::capture();
        let me = i32::try_from(std::process::id()).unwrap();
        let p = snap.get(me).unwrap();
        assert!(!p.is_zombie());
        assert!(snap.len() > 1);
        assert!(snap.matching(&p.cmdline).iter().all(|q| q.pid != me));
    }
}
