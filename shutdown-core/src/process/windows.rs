//! Windows: the child is started with `CREATE_NEW_PROCESS_GROUP` and asked to stop with
//! `CTRL_BREAK_EVENT`, the one console event `GenerateConsoleCtrlEvent` delivers to a single
//! process group (Ctrl-C can only go to every process of the console, the service included).
//! The event reaches the child only when it shares the service's console; a service without
//! one logs that the request failed and ends the child at the deadline.
//!
//! At the deadline the child is ended with `TerminateProcess`. Its own children are not:
//! Windows has no kill of a process group, only of a job object, and putting the child in a
//! job of ours would change how it runs (nested jobs, breakaway rules). A child that starts
//! workers of its own must stop them on Ctrl-Break.

use tokio::process::{Child, Command};
use windows_sys::Win32::System::Console::{CTRL_BREAK_EVENT, GenerateConsoleCtrlEvent};
use windows_sys::Win32::System::Threading::CREATE_NEW_PROCESS_GROUP;

/// What ends a child that did not stop in time.
pub(super) const FORCE: &str = "TerminateProcess";

/// The one stop request Windows can send to a process group: Ctrl-Break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Signal;

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CTRL_BREAK")
    }
}

/// Makes the child the root of a new process group (its id is the child's pid).
pub(super) fn new_group(command: &mut Command) {
    command.creation_flags(CREATE_NEW_PROCESS_GROUP);
}

/// Sends Ctrl-Break to the group `pid` leads.
pub(super) fn ask_to_stop(pid: u32, _signal: Signal) -> std::io::Result<()> {
    // SAFETY: GenerateConsoleCtrlEvent takes two integers and reads no memory of ours.
    #[allow(unsafe_code)]
    let sent = unsafe { GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, pid) };
    if sent == 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Only the child itself is waited for: the members of its group cannot be listed.
pub(super) fn group_alive(_pid: u32) -> bool {
    false
}

/// No group kill exists on Windows; the child is ended through its handle (`end_leader`).
pub(super) fn kill_group(_pid: u32) -> std::io::Result<()> {
    Ok(())
}

/// `TerminateProcess` on the child.
pub(super) fn end_leader(child: &mut Child) -> std::io::Result<()> {
    child.start_kill()
}
