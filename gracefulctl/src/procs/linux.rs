//! The process table read from Linux's `/proc`: `/proc/PID/{stat,cmdline}` for each
//! process, `/proc/uptime` and `/proc/stat` for the clocks.

use std::collections::HashMap;
use std::fs;
use std::io::Read as _;
use std::os::unix::fs::MetadataExt;

use super::{ProcInfo, Snapshot};

/// Reads one process; `None` if it does not exist (or vanished while being read).
pub(super) fn read_one(pid: i32) -> Option<ProcInfo> {
    read_with(pid, &mut Vec::new(), &mut Vec::new())
}

/// [`read_one`] with caller-provided buffers, so a full scan allocates only what it keeps.
fn read_with(pid: i32, stat: &mut Vec<u8>, cmdline: &mut Vec<u8>) -> Option<ProcInfo> {
    let dir = format!("/proc/{pid}");
    read_into(&format!("{dir}/stat"), stat).ok()?;
    let uid = fs::metadata(&dir).ok()?.uid();
    if read_into(&format!("{dir}/cmdline"), cmdline).is_err() {
        cmdline.clear();
    }
    parse(pid, &String::from_utf8_lossy(stat), cmdline, uid)
}

/// Every process under `/proc`, read once.
pub(super) fn read_all() -> HashMap<i32, ProcInfo> {
    let mut procs = HashMap::with_capacity(1024);
    let (mut stat, mut cmdline) = (Vec::with_capacity(512), Vec::with_capacity(4096));
    for pid in proc_pids() {
        if let Some(info) = read_with(pid, &mut stat, &mut cmdline) {
            procs.insert(pid, info);
        }
    }
    procs
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

/// An empty snapshot with the clocks read now.
pub(super) fn clocks() -> Snapshot {
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

/// Live (non-zombie) members of process group `pgid` right now. Reads only
/// `/proc/*/stat` (no command lines), so polling it while a group stops is cheap.
pub(super) fn live_group_members(pgid: i32) -> Vec<i32> {
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
}
