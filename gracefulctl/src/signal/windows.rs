//! Windows: the polite stop is `POST /shutdown` to the service's admin API, the forced one
//! `TerminateProcess`.
//!
//! Why not a console event: a graceful service on Windows stops on Ctrl-C, Ctrl-Break,
//! console close, logoff and system shutdown, but `GenerateConsoleCtrlEvent` reaches only
//! processes attached to the caller's own console, so another program can send one only by
//! detaching from its console and attaching to the service's, through `unsafe` calls this
//! crate does not make. `taskkill /PID n` without `/F` posts `WM_CLOSE` to the process's
//! windows, and a console service has none. The admin API works from anywhere, on every
//! platform, and starts exactly the shutdown a Ctrl-C starts.

use sysinfo::ProcessesToUpdate;

use super::Delivery;
use crate::admin_stop::{self, AdminError, Answer};
use crate::manifest::Process;
use crate::procs::ProcInfo;
use crate::procs::windows::{sys_pid, table};

/// Why a stop request could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The process declares no admin API: nothing polite reaches it from outside.
    #[error(
        "no polite stop reaches a console process on Windows from outside; declare `admin = \
         \"http://HOST:PORT\"` (the service's admin API) to stop it with POST /shutdown, or \
         pass --force to end it with TerminateProcess"
    )]
    NoAdminApi,
    /// The admin API did not take the request.
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// `TerminateProcess` failed (another user's or a protected process).
    #[error("TerminateProcess failed (access denied: another user's or a protected process?)")]
    TerminateFailed,
}

/// What the forced stop is called in the output.
pub const FORCED_NAME: &str = "TerminateProcess";

/// What the polite stop of `process` is called in the output.
pub fn polite_name(process: &Process) -> String {
    match &process.admin {
        Some(admin) => format!("POST {}", admin_stop::shutdown_url(admin)),
        None => "no polite request (no `admin` declared)".to_owned(),
    }
}

/// Why `process` cannot be stopped on Windows, decided before anything is sent:
/// `process_group` (Windows has no process groups to signal), or no admin API without
/// `--force` (there would be nothing to wait for before `TerminateProcess`).
pub fn unavailable(process: &Process, force: bool) -> Option<String> {
    if process.process_group {
        return Some(
            "`process_group = true` is not available on Windows, which has no process groups \
             to signal; remove it to stop the main process only"
                .to_owned(),
        );
    }
    if process.admin.is_none() && !force {
        return Some(SendError::NoAdminApi.to_string());
    }
    None
}

/// Whether the forced stop may still follow when the polite one could not be sent: when
/// there is no admin API (only reached with `--force`) or it did not answer.
pub fn force_may_follow(error: &SendError) -> bool {
    matches!(error, SendError::NoAdminApi | SendError::Admin(_))
}

/// Asks `process` to stop through its admin API, with the key in `GRACEFUL_ADMIN_API_KEY`.
///
/// # Errors
/// [`SendError::NoAdminApi`] without `admin`; [`SendError::Admin`] when the API refused.
pub fn polite(process: &Process, target: &ProcInfo) -> Result<Delivery, SendError> {
    let Some(admin) = &process.admin else {
        return Err(SendError::NoAdminApi);
    };
    if !super::same_process(target) {
        return Ok(Delivery::Gone);
    }
    let key = std::env::var(admin_stop::KEY_ENV).ok();
    match admin_stop::request_shutdown(admin, key.as_deref())? {
        Answer::Stopping => Ok(Delivery::AdminApi),
        Answer::Finished => Ok(Delivery::Gone),
    }
}

/// Ends `target` with `TerminateProcess` if it is still the same process: the handle is
/// opened when the process is read, before its start time is compared, so a PID reused
/// meanwhile is never hit.
///
/// # Errors
/// [`SendError::TerminateFailed`] when Windows refused.
pub fn forced(_process: &Process, target: &ProcInfo) -> Result<Delivery, SendError> {
    let Some(pid) = sys_pid(target.pid) else {
        return Ok(Delivery::Gone);
    };
    let sys = table(ProcessesToUpdate::Some(&[pid]));
    let Some(p) = sys.process(pid) else {
        return Ok(Delivery::Gone);
    };
    let same = crate::procs::windows::info(p, sysinfo::System::boot_time())
        .is_some_and(|now| now.start_ticks == target.start_ticks);
    if !same {
        return Ok(Delivery::Gone);
    }
    if p.kill() {
        Ok(Delivery::Handle)
    } else {
        Err(SendError::TerminateFailed)
    }
}
