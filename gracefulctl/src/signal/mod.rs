//! Delivering a stop request to a process that was checked earlier (its PID and start time
//! read from the process table), one sender per platform behind the same functions:
//! [`polite`] (the request to stop), [`forced`] (the end at the deadline), [`same_process`].
//!
//! On Unix the polite request is the process's `stop_signal` and the forced one SIGKILL.
//! With `kill(2)` there is a window between "this PID is still the process I checked" and
//! the signal, in which the process may exit and its PID be reused by another: the signal
//! would then hit a stranger. A pidfd (Linux ≥ 5.3) closes it: the descriptor is opened
//! first and pins the process it names, the start time is checked afterwards, and the
//! signal goes through the descriptor, so it reaches that process or nobody. Where the
//! kernel has no pidfd, `kill(2)` is used after the same check.
//!
//! On Windows no signal reaches a console process from outside: the polite request is
//! a `POST` to the service's admin API shutdown route (the manifest's `stop_url`), and the
//! forced one `TerminateProcess` (through `taskkill /F`, after the same start-time check as
//! `kill(2)`).

use crate::procs::ProcInfo;

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::*;

/// How a stop request was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Through a pidfd: to exactly the process that was checked.
    #[cfg(unix)]
    Pidfd,
    /// With `kill(2)` or `killpg(2)` (no pidfd on this kernel, or a process group).
    #[cfg(unix)]
    Kill,
    /// Through the service's admin API (`POST /shutdown`).
    #[cfg(windows)]
    AdminApi,
    /// With `taskkill /PID n /F` (`TerminateProcess`).
    #[cfg(windows)]
    Taskkill,
    /// The checked process had already exited (its PID may now be another's): nothing sent.
    Gone,
}

impl Delivery {
    /// A few words for the output and the log.
    pub fn describe(self) -> &'static str {
        match self {
            #[cfg(unix)]
            Delivery::Pidfd => "through a pidfd",
            #[cfg(unix)]
            Delivery::Kill => "with kill(2)",
            #[cfg(windows)]
            Delivery::AdminApi => "through its admin API",
            #[cfg(windows)]
            Delivery::Taskkill => "with taskkill /F",
            Delivery::Gone => "not sent: it had already exited",
        }
    }
}

/// Whether `target` still runs as the same process (not a zombie, same start time).
pub fn same_process(target: &ProcInfo) -> bool {
    ProcInfo::read(target.pid)
        .is_some_and(|p| !p.is_zombie() && p.start_ticks == target.start_ticks)
}
