//! The fd-store mode: at shutdown, each registered listener goes to systemd's file descriptor
//! store (`FDSTORE=1`, `FDNAME=<name>`), so that while the service restarts the sockets stay
//! open and clients wait in the backlog; systemd passes them back to the next start in
//! `LISTEN_FDS`/`LISTEN_FDNAMES`, where [`Listeners`](super::Listeners) takes them by name.
//! Needs `FileDescriptorStoreMax=` in the unit (and, for `systemctl restart` to keep them,
//! `FileDescriptorStorePreserve=yes` on systemd 254 or later).

use std::os::fd::{AsFd, OwnedFd};

use sd_notify::NotifyState;

/// Sends each listener to the fd store; returns how many systemd accepted.
pub(crate) fn push(listeners: &[(String, OwnedFd)]) -> usize {
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        tracing::warn!(target: "graceful::upgrade", "`[upgrade] fd_store = true` but NOTIFY_SOCKET is unset (not run by systemd): the listeners close with the process");
        return 0;
    }
    let mut sent = 0;
    for (name, fd) in listeners {
        match sd_notify::notify_with_fds(
            false,
            &[NotifyState::FdStore, NotifyState::FdName(name)],
            &[fd.as_fd()],
        ) {
            Ok(()) => sent += 1,
            Err(e) => {
                tracing::error!(target: "graceful::upgrade", listener = %name, "cannot hand the listener to systemd's fd store: {e}; clients are refused until the service is back");
            }
        }
    }
    tracing::info!(target: "graceful::upgrade", sent, "listeners handed to systemd's fd store");
    sent
}
