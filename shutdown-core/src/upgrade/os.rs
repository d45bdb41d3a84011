//! The one corner of the crate that needs `unsafe`: starting the successor (after `fork`, only
//! async-signal-safe calls until `execve`) and taking a descriptor inherited by number.
//!
//! The successor is started as systemd starts a socket-activated service: the listeners at
//! descriptors 3, 4, …, `LISTEN_FDS` their count, `LISTEN_FDNAMES` their names, and `LISTEN_PID`
//! the successor's own pid, which exists only after `fork`: the child writes it into an
//! environment buffer prepared before the fork, then calls `execve` itself.
#![allow(unsafe_code)]

use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use libc::c_char;

/// The variable that tells a successor where its control channel is:
/// `<pid>:<control fd>:<stderr fd>`. Like `LISTEN_PID`, it names the process it is for, so a
/// child of the successor that inherits the environment ignores it.
pub(crate) const SUCCESSOR_VAR: &str = "GRACEFUL_SUCCESSOR";

/// Room for a pid in decimal.
const PID_DIGITS: usize = 20;

/// Everything `execve` needs, prepared before the fork so that the child allocates nothing.
pub(crate) struct Image {
    path: CString,
    /// Owned only to keep `argv`'s pointers valid.
    _args: Vec<CString>,
    argv: Vec<*const c_char>,
    /// NUL-terminated `NAME=value` buffers; two have room for a pid.
    env: Vec<Vec<u8>>,
    envp: Vec<*const c_char>,
    listen_pid: usize,
    successor: usize,
    /// What follows the pid in `GRACEFUL_SUCCESSOR`: `:<control fd>:<stderr fd>`.
    successor_tail: Vec<u8>,
    /// The descriptors for 3, 4, …, in order.
    fds: Vec<OwnedFd>,
    /// Scratch room for the descriptors' temporary copies in the child.
    high: Vec<RawFd>,
}

// SAFETY: the raw pointers point into buffers the `Image` owns (heap memory that does not move
// when the `Image` does); they are only read, in the child, by `execve`.
unsafe impl Send for Image {}
// SAFETY: as above; the child has its own copy of the memory it writes.
unsafe impl Sync for Image {}

impl Image {
    /// Prepares the successor's exec: `path` with `args` (argv[0] included), the current
    /// environment without the variables of the protocol, then `LISTEN_FDS`, `LISTEN_FDNAMES`,
    /// `LISTEN_PID` and `GRACEFUL_SUCCESSOR`. `listeners` go to 3, 4, …; `control` and
    /// `stderr` after them.
    pub(crate) fn new(
        path: &Path,
        args: &[std::ffi::OsString],
        listeners: Vec<(String, OwnedFd)>,
        control: OwnedFd,
        stderr: OwnedFd,
    ) -> io::Result<Image> {
        let c = |s: &OsStr| {
            CString::new(s.as_bytes()).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{s:?} contains a NUL byte"),
                )
            })
        };
        let path = c(path.as_os_str())?;
        let args: Vec<CString> = args.iter().map(|a| c(a)).collect::<io::Result<_>>()?;
        let mut argv: Vec<*const c_char> = args.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());

        let count = listeners.len();
        let names: Vec<&str> = listeners.iter().map(|(n, _)| n.as_str()).collect();
        let names = names.join(":");
        let mut env: Vec<Vec<u8>> = std::env::vars_os()
            .filter(|(k, _)| {
                !matches!(
                    k.to_str(),
                    Some("LISTEN_PID" | "LISTEN_FDS" | "LISTEN_FDNAMES" | SUCCESSOR_VAR)
                )
            })
            .map(|(k, v)| {
                let mut b = k.as_bytes().to_vec();
                b.push(b'=');
                b.extend_from_slice(v.as_bytes());
                b
            })
            .filter(|b| !b.contains(&0))
            .map(|mut b| {
                b.push(0);
                b
            })
            .collect();
        env.push(format!("LISTEN_FDS={count}\0").into_bytes());
        if count > 0 {
            env.push(format!("LISTEN_FDNAMES={names}\0").into_bytes());
        }
        let slot = |prefix: &str, tail: usize| {
            let mut b = prefix.as_bytes().to_vec();
            b.resize(prefix.len() + PID_DIGITS + tail + 1, 0);
            b
        };
        let control_fd = 3 + count;
        let stderr_fd = control_fd + 1;
        let successor_tail = format!(":{control_fd}:{stderr_fd}").into_bytes();
        env.push(slot("LISTEN_PID=", 0));
        let listen_pid = env.len() - 1;
        env.push(slot(&format!("{SUCCESSOR_VAR}="), successor_tail.len()));
        let successor = env.len() - 1;
        let mut envp: Vec<*const c_char> = env.iter().map(|b| b.as_ptr().cast()).collect();
        envp.push(std::ptr::null());

        let mut fds: Vec<OwnedFd> = listeners.into_iter().map(|(_, fd)| fd).collect();
        fds.push(control);
        fds.push(stderr);
        let high = vec![-1; fds.len()];
        Ok(Image {
            path,
            _args: args,
            argv,
            env,
            envp,
            listen_pid,
            successor,
            successor_tail,
            fds,
            high,
        })
    }

    /// Runs in the child, between `fork` and `exec`: only async-signal-safe calls, no
    /// allocation. Returns only on failure.
    fn exec(&mut self) -> io::Result<()> {
        // SAFETY: getpid cannot fail and is async-signal-safe.
        let pid = unsafe { libc::getpid() };
        let mut digits = [0u8; PID_DIGITS];
        let digits = decimal(pid.unsigned_abs(), &mut digits);
        write_at(
            &mut self.env[self.listen_pid],
            "LISTEN_PID=".len(),
            digits,
            &[],
        );
        let prefix = SUCCESSOR_VAR.len() + 1;
        write_at(
            &mut self.env[self.successor],
            prefix,
            digits,
            &self.successor_tail,
        );
        // First every source above the target range, so that no dup2 below overwrites a
        // source still to be moved.
        let floor = RawFd::try_from(3 + self.fds.len()).unwrap_or(RawFd::MAX);
        for (fd, high) in self.fds.iter().zip(self.high.iter_mut()) {
            // SAFETY: fcntl on a descriptor this process owns; async-signal-safe.
            *high = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, floor) };
            if *high < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        for (i, high) in self.high.iter().enumerate() {
            let target = RawFd::try_from(3 + i).unwrap_or(RawFd::MAX);
            // SAFETY: dup2 between descriptors of this process; the target loses
            // close-on-exec, the temporary copy keeps it and vanishes at exec.
            if unsafe { libc::dup2(*high, target) } < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        // The buffers were written above; the pointer arrays point at them.
        // SAFETY: NUL-terminated strings and NULL-terminated arrays, all owned by `self`.
        unsafe { libc::execve(self.path.as_ptr(), self.argv.as_ptr(), self.envp.as_ptr()) };
        Err(io::Error::last_os_error())
    }
}

/// Writes `digits`, then `tail`, then NUL into `buf` from `at` (the buffer has room).
fn write_at(buf: &mut [u8], at: usize, digits: &[u8], tail: &[u8]) {
    let mut i = at;
    for &b in digits.iter().chain(tail) {
        if i + 1 >= buf.len() {
            break;
        }
        buf[i] = b;
        i += 1;
    }
    buf[i] = 0;
}

/// `n` in decimal, in `buf`, without allocating.
fn decimal(mut n: u32, buf: &mut [u8; PID_DIGITS]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Makes `command` start the image instead of its own program, in a new process group.
pub(crate) fn prepare(command: &mut tokio::process::Command, mut image: Image) {
    command.process_group(0);
    // SAFETY: the closure runs in the child after fork and calls only async-signal-safe
    // functions (getpid, fcntl, dup2, execve) on memory prepared before the fork.
    unsafe {
        command.pre_exec(move || image.exec());
    }
}

/// The descriptor `fd`, inherited from the predecessor as `GRACEFUL_SUCCESSOR` says, marked
/// close-on-exec. `None` when it is not open.
pub(crate) fn inherited(fd: RawFd) -> Option<OwnedFd> {
    if fd < 3 {
        return None;
    }
    // SAFETY: F_GETFD only asks whether the descriptor is open.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return None;
    }
    // SAFETY: the predecessor passed this descriptor for this process alone
    // (`GRACEFUL_SUCCESSOR` names our pid) and nothing else in the process claims it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: sets close-on-exec on a descriptor we own.
    unsafe { libc::fcntl(owned.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    Some(owned)
}

/// Points descriptor 2 at `fd` (the successor's own stderr, once it is ready).
pub(crate) fn restore_stderr(fd: &OwnedFd) -> io::Result<()> {
    // SAFETY: dup2 onto stderr; Rust's stderr writes to descriptor 2 and is unbuffered.
    if unsafe { libc::dup2(fd.as_raw_fd(), 2) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_pids_without_allocating() {
        let mut buf = [0u8; PID_DIGITS];
        assert_eq!(decimal(0, &mut buf), b"0");
        assert_eq!(decimal(4_194_304, &mut buf), b"4194304");
        let mut slot = b"LISTEN_PID=".to_vec();
        slot.resize(slot.len() + PID_DIGITS + 1, 0);
        write_at(&mut slot, 11, b"123", &[]);
        assert_eq!(&slot[..15], b"LISTEN_PID=123\0");
        let mut slot = b"X=".to_vec();
        slot.resize(2 + PID_DIGITS + 4 + 1, 0);
        write_at(&mut slot, 2, b"77", b":5:6");
        assert_eq!(&slot[..9], b"X=77:5:6\0");
    }
}
