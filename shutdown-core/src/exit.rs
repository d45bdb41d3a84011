//! The process exit codes: how a shutdown ended decides how the process exits.
//!
//! A supervisor (systemd's `Restart=on-failure`, Kubernetes, a shell script) learns from the
//! exit code alone whether the service stopped cleanly. The [`ShutdownReport`] decides it, the
//! same way on every path ([`Entry`](crate::Entry), `#[graceful::main]`, and
//! [`RunOutcome::exit_code`](crate::RunOutcome::exit_code) for programs that run the engine on
//! their own runtime):
//!
//! | code | outcome | when |
//! |---|---|---|
//! | `0` | completed | every phase finished within its deadline, nothing failed, `main` returned `()`/`Ok(())` |
//! | `main`'s own | completed | `main` returned a non-zero [`std::process::ExitCode`] (it wins over `0`, [`FAILED`] and [`COMPLETED_WITH_ERRORS`]) |
//! | [`MAIN_ERROR`] (1) | failed | `main` returned `Err`; `Error: …` is printed, as Rust's own `main` does; resources are still closed |
//! | [`FAILED`] (69) | failed | a fatal failure: [`Shutdown::fail`](crate::Shutdown::fail) started the shutdown, or a tracked task ([`Shutdown::spawn`](crate::Shutdown::spawn)) panicked or returned `Err` (named in the report's `tasks`) |
//! | [`STARTUP_FAILED`] (70) | failed | a resource constructor failed; what was built is closed |
//! | [`COMPLETED_WITH_ERRORS`] (74) | completed with errors | the shutdown met its deadlines, but a close or a phase hook returned an error or panicked (named in the report) |
//! | [`CONFIG_ERROR`] (78) | not started | the configuration was invalid; nothing was started |
//! | `101` ([`MAIN_PANICKED`]) | failed | `main` panicked (the code Rust uses for a panic in `main`); resources are still closed |
//! | [`FORCED`] (124) | forced | a deadline expired or the shutdown was forced (`DELETE /shutdown`, [`Shutdown::force`](crate::Shutdown::force)); also the watchdog's code when the process was stuck at the overall deadline |
//! | `128 + n` | second signal | a second signal `n` arrived during the shutdown: the process exits at once (130 for SIGINT, 143 for SIGTERM) |
//!
//! When several apply, the first row in this order wins: [`CONFIG_ERROR`], [`STARTUP_FAILED`],
//! [`FORCED`], [`MAIN_PANICKED`], [`MAIN_ERROR`], `main`'s own code, [`FAILED`],
//! [`COMPLETED_WITH_ERRORS`], `0`. A second signal ends the process before any report.
//!
//! [`ShutdownReport`]: crate::report::ShutdownReport

use crate::reason::ShutdownReason;
use crate::report::{CloseOutcome, MainOutcome, ShutdownReport};

/// `main` returned an error.
pub const MAIN_ERROR: u8 = 1;
/// A fatal failure: [`Shutdown::fail`](crate::Shutdown::fail) started the shutdown, or a
/// tracked task failed fatally (`EX_UNAVAILABLE`: something the service needs is gone).
pub const FAILED: u8 = 69;
/// A resource failed to build at start-up (`EX_SOFTWARE`).
pub const STARTUP_FAILED: u8 = 70;
/// The shutdown completed within its deadlines, but a close or a phase hook failed or
/// panicked (`EX_IOERR`: what was to be flushed, saved or released may not be).
pub const COMPLETED_WITH_ERRORS: u8 = 74;
/// The configuration was invalid (`EX_CONFIG`).
pub const CONFIG_ERROR: u8 = 78;
/// `main` panicked: the code Rust's own runtime uses for a panic in `main`.
pub const MAIN_PANICKED: u8 = 101;
/// A deadline expired and the shutdown was forced (the same code as `timeout(1)`).
pub const FORCED: u8 = 124;

/// The exit code for a forced exit caused by a second signal numbered `signo`.
pub fn second_signal(signo: i32) -> i32 {
    128 + signo
}

/// The exit code `report` decides, by the table above; `None` when `main` returned its own
/// non-zero [`ExitCode`](std::process::ExitCode), which wins and cannot be read back as a
/// number.
pub fn code(report: &ShutdownReport) -> Option<u8> {
    if report.startup_error.is_some() {
        return Some(STARTUP_FAILED);
    }
    if report.is_forced() {
        return Some(FORCED);
    }
    match &report.main {
        MainOutcome::Panicked(_) => return Some(MAIN_PANICKED),
        MainOutcome::Error(_) => return Some(MAIN_ERROR),
        MainOutcome::ExitCode => return None,
        _ => {}
    }
    if matches!(report.reason, Some(ShutdownReason::ResourceFailed { .. }))
        || report.failed_task().is_some()
    {
        return Some(FAILED);
    }
    let failed =
        |o: &CloseOutcome| matches!(o, CloseOutcome::Failed(_) | CloseOutcome::Panicked(_));
    if report.resources.iter().any(|r| failed(&r.outcome))
        || report.hooks.iter().any(|h| failed(&h.outcome))
    {
        return Some(COMPLETED_WITH_ERRORS);
    }
    Some(0)
}
