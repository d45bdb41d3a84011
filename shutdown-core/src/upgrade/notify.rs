//! What an upgrade tells systemd under `Type=notify-reload` (nothing when `NOTIFY_SOCKET` is
//! unset): `RELOADING=1` with `MONOTONIC_USEC` when it starts; `MAINPID=<successor>` and
//! `READY=1` when the successor took over, so systemd follows the new process; `READY=1` with
//! a `STATUS=` when it failed (the old process still serves).

use sd_notify::NotifyState;

use super::error::UpgradeError;
use crate::systemd::send;

/// The upgrade starts.
pub(crate) fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[
            NotifyState::Reloading,
            now,
            NotifyState::Status("upgrading"),
        ]),
        Err(_) => send(&[NotifyState::Reloading, NotifyState::Status("upgrading")]),
    }
}

/// The successor took over.
pub(crate) fn handed_over(pid: u32) {
    let status = format!("upgraded: pid {pid} took over");
    send(&[
        NotifyState::MainPid(pid),
        NotifyState::Ready,
        NotifyState::Status(&status),
    ]);
}

/// The upgrade failed; this process still serves.
pub(crate) fn failed(e: &UpgradeError) {
    let status = format!("upgrade failed, still serving: {e}");
    send(&[NotifyState::Ready, NotifyState::Status(&status)]);
}
