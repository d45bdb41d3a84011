//! What gracefulctl refuses to signal: PID 1, itself, its parent and every further
//! ancestor (the shell, `sudo`, the terminal multiplexer…), its own process group, and
//! processes of other users (unless `--allow-other-users`).

use std::fmt;

use crate::procs::{ProcInfo, Snapshot};

/// Who is asking: the facts a refusal is decided on.
#[derive(Debug, Clone)]
pub struct Guard {
    /// gracefulctl's own PID.
    pub me: i32,
    /// Its parent's PID.
    pub parent: i32,
    /// Its parent, grandparent… up to (not including) PID 1.
    pub ancestors: Vec<i32>,
    /// Its own process group.
    pub my_group: i32,
    /// Its real user id.
    pub uid: u32,
    /// Whether other users' processes may be signalled.
    pub allow_other_users: bool,
}

impl Guard {
    /// The guard for the running process.
    #[cfg(unix)]
    pub fn current(allow_other_users: bool) -> Guard {
        Guard {
            me: nix::unistd::getpid().as_raw(),
            parent: nix::unistd::getppid().as_raw(),
            ancestors: Vec::new(),
            my_group: nix::unistd::getpgrp().as_raw(),
            uid: nix::unistd::getuid().as_raw(),
            allow_other_users,
        }
    }

    /// The guard for the running process. Windows has no process groups and no numeric
    /// owners: `my_group` is the PID itself and `uid` 0, as every process reads there (so
    /// the owner check never refuses; Windows refuses to end another user's process
    /// without the right to).
    #[cfg(windows)]
    pub fn current(allow_other_users: bool) -> Guard {
        let me = i32::try_from(std::process::id()).unwrap_or(-1);
        Guard {
            me,
            parent: ProcInfo::read(me).map_or(0, |p| p.ppid),
            ancestors: Vec::new(),
            my_group: me,
            uid: 0,
            allow_other_users,
        }
    }

    /// The same guard, also protecting every ancestor found in `snap`.
    pub fn with_ancestors(mut self, snap: &Snapshot) -> Guard {
        let mut pid = self.parent;
        while pid > 1 && !self.ancestors.contains(&pid) {
            self.ancestors.push(pid);
            pid = snap.get(pid).map_or(0, |p| p.ppid);
        }
        self
    }

    /// Checks that `target` may be signalled (and its group, when `group` is set).
    ///
    /// # Errors
    /// The [`Refusal`] that forbids it.
    pub fn check(&self, target: &ProcInfo, group: bool, snap: &Snapshot) -> Result<(), Refusal> {
        self.check_one(target)?;
        if group {
            if target.pgid <= 1 {
                return Err(Refusal::InitGroup(target.pgid));
            }
            if target.pgid == self.my_group {
                return Err(Refusal::OwnGroup(target.pgid));
            }
            for member in snap.group_members(target.pgid) {
                self.check_one(member)?;
            }
        }
        Ok(())
    }

    fn check_one(&self, target: &ProcInfo) -> Result<(), Refusal> {
        if target.pid <= 1 {
            return Err(Refusal::Init(target.pid));
        }
        if target.pid == self.me {
            return Err(Refusal::Itself(target.pid));
        }
        if target.pid == self.parent {
            return Err(Refusal::Parent(target.pid));
        }
        if self.ancestors.contains(&target.pid) {
            return Err(Refusal::Ancestor(target.pid));
        }
        if target.uid != self.uid && !self.allow_other_users {
            return Err(Refusal::OtherUser {
                pid: target.pid,
                uid: target.uid,
            });
        }
        Ok(())
    }
}

/// Why a process is not signalled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// PID 1 (or 0 / negative).
    Init(i32),
    /// gracefulctl itself.
    Itself(i32),
    /// gracefulctl's parent (usually the operator's shell).
    Parent(i32),
    /// An ancestor of gracefulctl beyond its parent.
    Ancestor(i32),
    /// Owned by another user.
    OtherUser {
        /// The process.
        pid: i32,
        /// Its owner.
        uid: u32,
    },
    /// Group signalling would hit gracefulctl's own group.
    OwnGroup(i32),
    /// Group signalling would hit group 0/1.
    InitGroup(i32),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Init(pid) => write!(f, "refusing to signal PID {pid} (init)"),
            Refusal::Itself(pid) => {
                write!(f, "refusing to signal PID {pid}: it is gracefulctl itself")
            }
            Refusal::Parent(pid) => {
                write!(
                    f,
                    "refusing to signal PID {pid}: it is gracefulctl's parent"
                )
            }
            Refusal::Ancestor(pid) => write!(
                f,
                "refusing to signal PID {pid}: it is an ancestor of gracefulctl (it started the command)"
            ),
            Refusal::OtherUser { pid, uid } => write!(
                f,
                "refusing to signal PID {pid}: it belongs to uid {uid}, not to you; pass --allow-other-users to allow it"
            ),
            Refusal::OwnGroup(g) => write!(
                f,
                "refusing to signal process group {g}: gracefulctl itself is in it; turn `process_group` off or start the process with its own group (setsid)"
            ),
            Refusal::InitGroup(g) => write!(f, "refusing to signal process group {g}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(pid: i32, pgid: i32, uid: u32) -> ProcInfo {
        ProcInfo {
            pid,
            ppid: 1,
            pgid,
            uid,
            state: 'S',
            comm: "x".into(),
            cmdline: "x".into(),
            start_ticks: 0,
            cpu_ticks: 0,
            rss_pages: 0,
        }
    }

    fn guard(allow: bool) -> Guard {
        Guard {
            me: 100,
            parent: 99,
            ancestors: vec![99, 50],
            my_group: 99,
            uid: 1000,
            allow_other_users: allow,
        }
    }

    #[test]
    fn refuses_init_self_parent_and_others() {
        let snap = Snapshot::from_procs([]);
        let g = guard(false);
        assert_eq!(
            g.check(&proc(1, 1, 1000), false, &snap),
            Err(Refusal::Init(1))
        );
        assert_eq!(
            g.check(&proc(100, 99, 1000), false, &snap),
            Err(Refusal::Itself(100))
        );
        assert_eq!(
            g.check(&proc(99, 99, 1000), false, &snap),
            Err(Refusal::Parent(99))
        );
        assert_eq!(
            g.check(&proc(50, 50, 1000), false, &snap),
            Err(Refusal::Ancestor(50))
        );
        assert_eq!(
            g.check(&proc(500, 500, 0), false, &snap),
            Err(Refusal::OtherUser { pid: 500, uid: 0 })
        );
        assert_eq!(guard(true).check(&proc(500, 500, 0), false, &snap), Ok(()));
        assert_eq!(g.check(&proc(500, 500, 1000), false, &snap), Ok(()));
    }

    #[test]
    fn ancestors_are_walked_up_to_init() {
        let mut p99 = proc(99, 99, 1000);
        p99.ppid = 50;
        let mut p50 = proc(50, 50, 1000);
        p50.ppid = 1;
        let snap = Snapshot::from_procs([p99, p50]);
        let g = Guard {
            ancestors: Vec::new(),
            ..guard(false)
        }
        .with_ancestors(&snap);
        assert_eq!(g.ancestors, [99, 50]);
    }

    #[test]
    fn group_signalling_checks_every_member() {
        let g = guard(false);
        let snap = Snapshot::from_procs([proc(500, 500, 1000), proc(501, 500, 0)]);
        assert_eq!(
            g.check(&proc(500, 500, 1000), true, &snap),
            Err(Refusal::OtherUser { pid: 501, uid: 0 })
        );
        assert_eq!(
            g.check(&proc(98, 99, 1000), true, &snap),
            Err(Refusal::OwnGroup(99))
        );
        assert_eq!(g.check(&proc(98, 500, 1000), false, &snap), Ok(()));
    }
}
