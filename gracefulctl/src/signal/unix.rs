//! Unix: signals through a pidfd, or `kill(2)` where the kernel has none (see the parent
//! module for why a pidfd).

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use rustix::process::{PidfdFlags, pidfd_open, pidfd_send_signal};

use super::{Delivery, same_process};
use crate::manifest::Process;
use crate::procs::ProcInfo;

/// Why a stop request could not be sent: the OS error.
pub type SendError = Errno;

/// What the forced stop is called in the output.
pub const FORCED_NAME: &str = "SIGKILL";

/// What the polite stop of `process` is called in the output: its `stop_signal` (there is
/// always one on Unix).
pub fn polite_name(process: &Process) -> Option<String> {
    Some(process.stop_signal.as_str().to_owned())
}

/// Why `process` cannot be stopped here, decided before anything is sent: nothing on
/// Unix, where every manifest setting works.
pub fn unavailable(_process: &Process, _force: bool) -> Option<String> {
    None
}

/// Whether the forced stop may still follow when the polite one could not be sent: not
/// on Unix, where what refused the stop signal (`EPERM`) refuses SIGKILL too.
pub fn force_may_follow(_error: &SendError) -> bool {
    false
}

/// Sends `process`'s stop signal to `target` (or to its group with `process_group`).
///
/// # Errors
/// The OS error when the signal could not be sent.
pub fn polite(process: &Process, target: &ProcInfo) -> Result<Delivery, SendError> {
    if process.process_group {
        to_group(target.pgid, process.stop_signal)
    } else {
        to_process(target, process.stop_signal)
    }
}

/// Sends SIGKILL to `target` (or to its group with `process_group`).
///
/// # Errors
/// The OS error when the signal could not be sent.
pub fn forced(process: &Process, target: &ProcInfo) -> Result<Delivery, SendError> {
    if process.process_group {
        to_group(target.pgid, Signal::SIGKILL)
    } else {
        to_process(target, Signal::SIGKILL)
    }
}

/// Sends `sig` to `target` if it is still the same process (same start time).
///
/// # Errors
/// The OS error when the signal could not be sent (`EPERM`, …).
pub fn to_process(target: &ProcInfo, sig: Signal) -> Result<Delivery, Errno> {
    let Some(pid) = rustix::process::Pid::from_raw(target.pid) else {
        return Err(Errno::EINVAL);
    };
    match pidfd_open(pid, PidfdFlags::empty()) {
        Ok(fd) => {
            // The descriptor now pins whichever process has this PID: check it is ours.
            if !same_process(target) {
                return Ok(Delivery::Gone);
            }
            let Some(rsig) = rustix::process::Signal::from_named_raw(sig as i32) else {
                return Err(Errno::EINVAL);
            };
            match pidfd_send_signal(&fd, rsig) {
                Ok(()) => Ok(Delivery::Pidfd),
                Err(e) if e == rustix::io::Errno::SRCH => Ok(Delivery::Gone),
                Err(e) => Err(Errno::from_raw(e.raw_os_error())),
            }
        }
        Err(e) if e == rustix::io::Errno::SRCH => Ok(Delivery::Gone),
        // ENOSYS (kernel < 5.3) or a seccomp policy that forbids it: the classic way.
        Err(_) => {
            if !same_process(target) {
                return Ok(Delivery::Gone);
            }
            match kill(Pid::from_raw(target.pid), sig) {
                Ok(()) => Ok(Delivery::Kill),
                Err(Errno::ESRCH) => Ok(Delivery::Gone),
                Err(e) => Err(e),
            }
        }
    }
}

/// Sends `sig` to the process group `pgid` (a group has no pidfd).
///
/// # Errors
/// The OS error when the signal could not be sent.
pub fn to_group(pgid: i32, sig: Signal) -> Result<Delivery, Errno> {
    match killpg(Pid::from_raw(pgid), sig) {
        Ok(()) => Ok(Delivery::Kill),
        Err(Errno::ESRCH) => Ok(Delivery::Gone),
        Err(e) => Err(e),
    }
}
