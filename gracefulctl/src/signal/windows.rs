//! Windows: the polite stop is a `POST` to the service's admin API shutdown route (the
//! manifest's `stop_url`), the forced one `TerminateProcess`, through `taskkill /PID n /F`.
//!
//! Why not a console event: a graceful service on Windows stops on Ctrl-C, Ctrl-Break,
//! console close, logoff and system shutdown, but `GenerateConsoleCtrlEvent` reaches only
//! processes attached to the caller's own console, so another program can send one only by
//! detaching from its console and attaching to the service's, through `unsafe` calls this
//! crate does not make. `taskkill /PID n` without `/F` posts `WM_CLOSE` to the process's
//! windows, and a console service has none. The admin API works from anywhere, on every
//! platform, and starts exactly the shutdown a Ctrl-C starts.
//!
//! Why `taskkill`: opening a handle to another process and calling `TerminateProcess` on it
//! needs `unsafe` calls too. As with `kill(2)` where Linux has no pidfd, the start time is
//! checked right before, so a PID reused meanwhile is hit only if it was reused in that
//! instant.

use std::process::Command;

use super::Delivery;
use crate::admin_stop::{self, AdminError, Answer};
use crate::manifest::Process;
use crate::procs::ProcInfo;

/// Why a stop request could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The process declares no `stop_url`: nothing polite reaches it from outside.
    #[error("no polite stop reaches a console process on Windows from outside without `stop_url`")]
    NoStopUrl,
    /// The admin API did not take the request.
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// `taskkill /F` could not be run, or failed (another user's or a protected process).
    #[error("taskkill /PID {pid} /F failed: {message}")]
    TerminateFailed {
        /// The process.
        pid: i32,
        /// What taskkill said, or why it could not run.
        message: String,
    },
}

/// What the forced stop is called in the output.
pub const FORCED_NAME: &str = "TerminateProcess";

/// What the polite stop of `process` is called in the output; `None` without `stop_url`,
/// when there is none.
pub fn polite_name(process: &Process) -> Option<String> {
    process.stop_url.as_ref().map(|url| format!("POST {url}"))
}

/// Why `process` cannot be stopped on Windows, decided before anything is sent:
/// `process_group` (Windows has no process groups to signal), or no `stop_url` without
/// `--force` (there would be nothing to wait for before `TerminateProcess`).
pub fn unavailable(process: &Process, force: bool) -> Option<String> {
    if process.process_group {
        return Some(
            "`process_group = true` is not available on Windows, which has no process groups \
             to signal; remove it to stop the main process only"
                .to_owned(),
        );
    }
    if process.stop_url.is_none() && !force {
        return Some(format!(
            "{}; declare `stop_url = \"http://HOST:PORT/shutdown\"` (the service's admin API) to \
             ask it with a POST, or pass --force to end it with TerminateProcess",
            SendError::NoStopUrl
        ));
    }
    None
}

/// Whether the forced stop may still follow when the polite one could not be sent: when
/// there is no `stop_url` (only reached with `--force`) or the admin API did not take the
/// request.
pub fn force_may_follow(error: &SendError) -> bool {
    matches!(error, SendError::NoStopUrl | SendError::Admin(_))
}

/// Asks `process` to stop with a `POST` to its `stop_url`, with the key in
/// `GRACEFUL_ADMIN_API_KEY`.
///
/// # Errors
/// [`SendError::NoStopUrl`] without `stop_url`; [`SendError::Admin`] when the API refused.
pub fn polite(process: &Process, target: &ProcInfo) -> Result<Delivery, SendError> {
    let Some(url) = &process.stop_url else {
        return Err(SendError::NoStopUrl);
    };
    if !super::same_process(target) {
        return Ok(Delivery::Gone);
    }
    let key = std::env::var(admin_stop::KEY_ENV).ok();
    match admin_stop::request_shutdown(url, key.as_deref())? {
        Answer::Stopping => Ok(Delivery::AdminApi),
        Answer::Finished => Ok(Delivery::Gone),
    }
}

/// Ends `target` with `taskkill /PID n /F` (`TerminateProcess`) if it is still the same
/// process (same start time).
///
/// # Errors
/// [`SendError::TerminateFailed`] when taskkill could not run or Windows refused.
pub fn forced(_process: &Process, target: &ProcInfo) -> Result<Delivery, SendError> {
    if !super::same_process(target) {
        return Ok(Delivery::Gone);
    }
    let failed = |message: String| SendError::TerminateFailed {
        pid: target.pid,
        message,
    };
    let out = Command::new("taskkill")
        .args(["/PID", &target.pid.to_string(), "/F"])
        .output()
        .map_err(|e| failed(format!("cannot run taskkill: {e}")))?;
    if out.status.success() {
        return Ok(Delivery::Taskkill);
    }
    if !super::same_process(target) {
        // It exited on its own between the check and taskkill.
        return Ok(Delivery::Gone);
    }
    let said = String::from_utf8_lossy(&out.stderr);
    let said = said.trim();
    let said = if said.is_empty() {
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    } else {
        said.to_owned()
    };
    Err(failed(format!("{} ({said})", out.status)))
}
