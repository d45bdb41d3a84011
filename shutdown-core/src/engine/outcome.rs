//! What `main` may return, and what [`Graceful::run`](crate::Graceful::run) gives back.

use std::process::ExitCode;

use crate::exit;
use crate::report::{MainOutcome, ShutdownReport};

/// A return type `main` may have under `#[graceful::main]`: `()`, `Result<(), E>`,
/// [`ExitCode`], or `Result<ExitCode, E>` (`E: Debug`, as for Rust's own `main`).
pub trait MainOutput: Send + 'static {
    /// Converts the value into what the engine records.
    fn into_main_exit(self) -> MainExit;
}

/// How `main` ended, as the engine sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum MainExit {
    /// `()` or `Ok(())`.
    Ok,
    /// An error, formatted with `Debug`.
    Error(String),
    /// An explicit exit code.
    Code(ExitCode),
}

impl MainOutput for () {
    fn into_main_exit(self) -> MainExit {
        MainExit::Ok
    }
}

impl MainOutput for ExitCode {
    fn into_main_exit(self) -> MainExit {
        MainExit::Code(self)
    }
}

impl<E: std::fmt::Debug + Send + 'static> MainOutput for Result<(), E> {
    fn into_main_exit(self) -> MainExit {
        match self {
            Ok(()) => MainExit::Ok,
            Err(e) => MainExit::Error(format!("{e:?}")),
        }
    }
}

impl<E: std::fmt::Debug + Send + 'static> MainOutput for Result<ExitCode, E> {
    fn into_main_exit(self) -> MainExit {
        match self {
            Ok(c) => MainExit::Code(c),
            Err(e) => MainExit::Error(format!("{e:?}")),
        }
    }
}

/// The result of [`Graceful::run`](crate::Graceful::run): the report and the exit status.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// Everything that happened.
    pub report: ShutdownReport,
    pub(crate) main_code: Option<ExitCode>,
}

impl RunOutcome {
    /// The numeric exit code the engine chose, or `None` when `main` returned its own
    /// [`ExitCode`] (which wins and cannot be read back as a number).
    ///
    /// Order: start-up failure ([`exit::STARTUP_FAILED`]) > forced ([`exit::FORCED`]) >
    /// `main`'s error (1) or panic (101) > `main`'s own code > a fatal task failure (1) > 0.
    pub fn code(&self) -> Option<u8> {
        if self.report.startup_error.is_some() {
            return Some(exit::STARTUP_FAILED);
        }
        if self.report.is_forced() {
            return Some(exit::FORCED);
        }
        match &self.report.main {
            MainOutcome::Error(_) => Some(exit::MAIN_ERROR),
            MainOutcome::Panicked(_) => Some(101),
            MainOutcome::ExitCode => None,
            _ if self.report.failed_task().is_some() => Some(exit::MAIN_ERROR),
            _ => Some(0),
        }
    }

    /// The exit status to return from the process's `main`.
    pub fn exit_code(&self) -> ExitCode {
        match (self.code(), &self.main_code) {
            (Some(c), _) => ExitCode::from(c),
            (None, Some(c)) => *c,
            (None, None) => ExitCode::SUCCESS,
        }
    }
}
