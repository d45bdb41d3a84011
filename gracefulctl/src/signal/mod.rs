//! Delivering a signal to a process that was checked earlier (its PID and start time read
//! from `/proc`). With `kill(2)` there is a window between "this PID is still the process I
//! checked" and the signal, in which the process may exit and its PID be reused by another:
//! the signal would then hit a stranger. A pidfd (Linux ≥ 5.3) closes it: the descriptor is
//! opened first and pins the process it names, the start time is checked afterwards, and
//! the signal goes through the descriptor, so it reaches that process or nobody. Where the
//! kernel has no pidfd, `kill(2)` is used after the same check.

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use rustix::process::{PidfdFlags, pidfd_open, pidfd_send_signal};

use crate::procs::ProcInfo;

/// How a signal was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Through a pidfd: to exactly the process that was checked.
    Pidfd,
    /// With `kill(2)` or `killpg(2)` (no pidfd on this kernel, or a process group).
    Kill,
    /// The checked process had already exited (its PID may now be another's): nothing sent.
    Gone,
}

impl Delivery {
    /// A few words for the output and the log.
    pub fn describe(self) -> &'static str {
        match self {
            Delivery::Pidfd => "through a pidfd",
            Delivery::Kill => "with kill(2)",
            Delivery::Gone => "not sent: it had already exited",
        }
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

/// Whether `target` still runs as the same process (not a zombie, same start time).
pub fn same_process(target: &ProcInfo) -> bool {
    ProcInfo::read(target.pid)
        .is_some_and(|p| !p.is_zombie() && p.start_ticks == target.start_ticks)
}
