//! Unix: the child leads its own process group; the stop signal and `SIGKILL` go to the group.

pub use nix::sys::signal::Signal;
use nix::sys::signal::killpg;
use nix::unistd::Pid;
use tokio::process::{Child, Command};

/// What ends a child that did not stop in time.
pub(super) const FORCE: &str = "SIGKILL";

/// Makes the child the leader of a new process group (its id is the child's pid).
pub(super) fn new_group(command: &mut Command) {
    command.process_group(0);
}

/// Sends `signal` to the group led by `pid`.
pub(super) fn ask_to_stop(pid: u32, signal: Signal) -> std::io::Result<()> {
    killpg(group(pid), signal).map_err(std::io::Error::from)
}

/// `true` while any process of the group exists (the leader may be a zombie).
pub(super) fn group_alive(pid: u32) -> bool {
    killpg(group(pid), None).is_ok()
}

/// `SIGKILL` to the whole group, the leader included.
pub(super) fn kill_group(pid: u32) -> std::io::Result<()> {
    killpg(group(pid), Signal::SIGKILL).map_err(std::io::Error::from)
}

/// Ends the leader at the deadline: the group kill already did.
pub(super) fn end_leader(_child: &mut Child) -> std::io::Result<()> {
    Ok(())
}

fn group(pid: u32) -> Pid {
    Pid::from_raw(pid as i32)
}
