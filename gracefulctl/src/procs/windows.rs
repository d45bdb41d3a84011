//! The process table on Windows, read with the `sysinfo` crate (the Toolhelp/NT process
//! list, each process's command line and times).
//!
//! What Windows has not, the reader fills so that the shared logic needs no special case:
//! no process groups (`pgid` is the PID itself), no zombies (an exited process leaves the
//! table: `state` is always `R`), no numeric owners (`uid` is 0 for every process, so the
//! owner check of [`crate::safety`] never refuses; Windows itself refuses to end another
//! user's process without the right to). Times are in milliseconds (`ticks_per_sec` is
//! 1000) and memory in bytes (`page_size` is 1). The command line of a process whose
//! memory cannot be read (another user's, a protected one) is empty: such a process is
//! shown by its executable's name and is never matched by a `pattern`.

use std::collections::HashMap;

use sysinfo::{Pid, Process, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

use super::{ProcInfo, Snapshot};

/// Milliseconds: the unit of `start_ticks` and `cpu_ticks` here.
const TICKS_PER_SEC: u64 = 1000;

/// A `sysinfo` table holding `which`, with what a [`ProcInfo`] needs.
fn table(which: ProcessesToUpdate<'_>) -> System {
    let mut sys = System::new();
    sys.refresh_processes_specifics(
        which,
        true,
        ProcessRefreshKind::nothing()
            .with_cmd(UpdateKind::Always)
            .with_memory()
            .with_cpu(),
    );
    sys
}

/// The PID as `sysinfo` spells it; `None` for a negative one.
fn sys_pid(pid: i32) -> Option<Pid> {
    u32::try_from(pid).ok().map(Pid::from_u32)
}

/// One `sysinfo` process as a [`ProcInfo`]; `None` for a PID beyond `i32`.
fn info(p: &Process, boot_time: u64) -> Option<ProcInfo> {
    let pid = i32::try_from(p.pid().as_u32()).ok()?;
    let ppid = p
        .parent()
        .and_then(|pp| i32::try_from(pp.as_u32()).ok())
        .unwrap_or(0);
    let args: Vec<String> = p
        .cmd()
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    Some(ProcInfo {
        pid,
        ppid,
        pgid: pid,
        uid: 0,
        state: 'R',
        comm: p.name().to_string_lossy().into_owned(),
        cmdline: args.join(" "),
        start_ticks: p.start_time().saturating_sub(boot_time) * TICKS_PER_SEC,
        cpu_ticks: p.accumulated_cpu_time(),
        rss_pages: p.memory(),
    })
}

/// Reads one process; `None` if it does not exist.
pub(super) fn read_one(pid: i32) -> Option<ProcInfo> {
    let sys_pid = sys_pid(pid)?;
    let sys = table(ProcessesToUpdate::Some(&[sys_pid]));
    info(sys.process(sys_pid)?, System::boot_time())
}

/// Every process, read once.
pub(super) fn read_all() -> HashMap<i32, ProcInfo> {
    let sys = table(ProcessesToUpdate::All);
    let boot_time = System::boot_time();
    sys.processes()
        .values()
        .filter_map(|p| info(p, boot_time))
        .map(|p| (p.pid, p))
        .collect()
}

/// An empty snapshot with the clocks read now.
pub(super) fn clocks() -> Snapshot {
    Snapshot {
        procs: HashMap::new(),
        uptime: System::uptime() as f64,
        ticks_per_sec: TICKS_PER_SEC,
        page_size: 1,
        boot_time: System::boot_time(),
    }
}

/// Windows has no process groups: nobody is a member of one.
pub(super) fn live_group_members(_pgid: i32) -> Vec<i32> {
    Vec::new()
}
