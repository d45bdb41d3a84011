//! A snapshot of the process table, read from `/proc` once and looked up many times.
//!
//! `status` over N services reads `/proc` once, not N times: [`Snapshot::capture`] walks
//! `/proc/*/{stat,cmdline}` and every lookup after that is a hash-map probe or a scan of
//! the in-memory table.

use std::collections::HashMap;
use std::fs;
use std::io::Read as _;
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

/// One process as `/proc` described it at snapshot time.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcInfo {
    /// Process id.
    pub pid: i32,
    /// Parent process id.
    pub ppid: i32,
    /// Process group id.
    pub pgid: i32,
    /// Real owner (uid of `/proc/PID`).
    pub uid: u32,
    /// State letter (`R`, `S`, `Z`, …).
    pub state: char,
    /// Short command name from `stat`.
    pub comm: String,
    /// Arguments joined by single spaces (empty for kernel threads).
    pub cmdline: String,
    /// Start time in clock ticks since boot.
    pub start_ticks: u64,
    /// User + system CPU time in clock ticks.
    pub cpu_ticks: u64,
    /// Resident set size in pages.
    pub rss_pages: u64,
}

impl ProcInfo {
    /// Reads one process; `None` if it does not exist (or vanished while being read).
    pub fn read(pid: i32) -> Option<ProcInfo> {
        ProcInfo::read_with(pid, &mut Vec::new(), &mut Vec::new())
    }

    /// [`ProcInfo::read`] with caller-provided buffers, so a full scan allocates only
    /// what it keeps.
    fn read_with(pid: i32, stat: &mut Vec<u8>, cmdline: &mut Vec<u8>) -> Option<ProcInfo> {
        let dir = format!("/proc/{pid}");
        read_into(&format!("{dir}/stat"), stat).ok()?;
        let uid = fs::metadata(&dir).ok()?.uid();
        if read_into(&format!("{dir}/cmdline"), cmdline).is_err() {
            cmdline.clear();
        }
        parse(pid, &String::from_utf8_lossy(stat), cmdline, uid)
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

/// Reads a whole `/proc` file into `buf` (no size probe: `/proc` files report size 0).
fn read_into(path: &str, buf: &mut Vec<u8>) -> std::io::Result<()> {
    buf.clear();
    fs::File::open(path)?.read_to_end(buf).map(|_| ())
}

/// Parses `/proc/PID/stat` and `/proc/PID/cmdline` contents.
fn parse(pid: i32, stat: &str, cmdline: &[u8], uid: u32) -> Option<ProcInfo> {
    // comm may contain spaces and parentheses: it runs from the first '(' to the last ')'.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_owned();
    let rest: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is field 3 (state) of proc(5).
    let field = |n: usize| -> Option<&str> { rest.get(n - 3).copied() };
    let num = |n: usize| -> Option<u64> { field(n)?.parse().ok() };
    let int = |n: usize| -> Option<i32> { field(n)?.parse().ok() };
    let mut args: Vec<String> = cmdline
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    while args.last().is_some_and(String::is_empty) {
        args.pop();
    }
    Some(ProcInfo {
        pid,
        state: field(3)?.chars().next()?,
        ppid: int(4)?,
        pgid: int(5)?,
        uid,
        comm,
        cmdline: args.join(" "),
        cpu_ticks: num(14)? + num(15)?,
        start_ticks: num(22)?,
        rss_pages: num(24)?,
    })
}

/// The whole process table at one instant, plus what is needed to turn ticks into time.
#[derive(Debug, Clone)]
pub struct Snapshot {
    procs: HashMap<i32, ProcInfo>,
    /// Seconds since boot when the snapshot was taken.
    pub uptime: f64,
    /// Clock ticks per second (`_SC_CLK_TCK`).
    pub ticks_per_sec: u64,
    /// Page size in bytes.
    pub page_size: u64,
    /// Boot time, seconds since the Unix epoch (`btime` of `/proc/stat`).
    pub boot_time: u64,
}

impl Snapshot {
    /// Reads every process under `/proc` once.
    pub fn capture() -> Snapshot {
        let mut procs = HashMap::with_capacity(1024);
        let (mut stat, mut cmdline) = (Vec::with_capacity(512), Vec::with_capacity(4096));
        for pid in proc_pids() {
            if let Some(info) = ProcInfo::read_with(pid, &mut stat, &mut cmdline) {
                procs.insert(pid, info);
            }
        }
        Snapshot {
            procs,
            ..Snapshot::clocks()
        }
    }

    /// A snapshot made of the given processes (for tests).
    pub fn from_procs(procs: impl IntoIterator<Item = ProcInfo>) -> Snapshot {
        Snapshot {
            procs: procs.into_iter().map(|p| (p.pid, p)).collect(),
            ..Snapshot::clocks()
        }
    }

    fn clocks() -> Snapshot {
        let uptime = fs::read_to_string("/proc/uptime")
            .ok()
            .and_then(|s| s.split_whitespace().next().and_then(|u| u.parse().ok()))
            .unwrap_or(0.0);
        let boot_time = fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("btime ").and_then(|v| v.trim().parse().ok()))
            })
            .unwrap_or(0);
        let sysconf = |v| {
            nix::unistd::sysconf(v)
                .ok()
                .flatten()
                .and_then(|n| u64::try_from(n).ok())
        };
        Snapshot {
            procs: HashMap::new(),
            uptime,
            ticks_per_sec: sysconf(nix::unistd::SysconfVar::CLK_TCK)
                .unwrap_or(100)
                .max(1),
            page_size: sysconf(nix::unistd::SysconfVar::PAGE_SIZE).unwrap_or(4096),
            boot_time,
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
        let mut found: Vec<&ProcInfo> = self
            .procs
            .values()
            .filter(|p| {
                p.pid != me
                    && !p.is_zombie()
                    && !p.cmdline.is_empty()
                    && p.cmdline.contains(pattern)
            })
            .collect();
        found.sort_by_key(|p| p.pid);
        found
    }

    /// Live (non-zombie) direct children of `pid`, by PID.
    pub fn children_of(&self, pid: i32) -> Vec<&ProcInfo> {
        let mut found: Vec<&ProcInfo> = self
            .procs
            .values()
            .filter(|p| p.ppid == pid && !p.is_zombie())
            .collect();
        found.sort_by_key(|p| p.pid);
        found
    }

    /// Live (non-zombie) members of process group `pgid`.
    pub fn group_members(&self, pgid: i32) -> Vec<&ProcInfo> {
        let mut found: Vec<&ProcInfo> = self
            .procs
            .values()
            .filter(|p| p.pgid == pgid && !p.is_zombie())
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

/// Live (non-zombie) members of process group `pgid` right now. Reads only
/// `/proc/*/stat` (no command lines), so polling it while a group stops is cheap.
pub fn live_group_members(pgid: i32) -> Vec<i32> {
    let mut members = Vec::new();
    let mut buf = Vec::with_capacity(512);
    for pid in proc_pids() {
        if read_into(&format!("/proc/{pid}/stat"), &mut buf).is_err() {
            continue;
        }
        let stat = String::from_utf8_lossy(&buf);
        if let Some(p) = parse(pid, &stat, &[], 0)
            && p.pgid == pgid
            && !p.is_zombie()
        {
            members.push(pid);
        }
    }
    members.sort_unstable();
    members
}

/// The PIDs listed under `/proc` (none if it cannot be read).
fn proc_pids() -> impl Iterator<Item = i32> {
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
}

/// Whether `pid` names a live (non-zombie) process right now.
pub fn is_alive(pid: i32) -> bool {
    ProcInfo::read(pid).is_some_and(|p| !p.is_zombie())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_awkward_comm() {
        let stat = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 12345 1000000 300 18446744073709551615";
        let p = parse(4242, stat, b"sleep\x00100\x00", 1000).unwrap();
        assert_eq!(p.comm, "my (odd) name");
        assert_eq!(p.state, 'S');
        assert_eq!((p.ppid, p.pgid), (1, 4242));
        assert_eq!(p.cpu_ticks, 300);
        assert_eq!(p.start_ticks, 12345);
        assert_eq!(p.rss_pages, 300);
        assert_eq!(p.cmdline, "sleep 100");
    }

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
