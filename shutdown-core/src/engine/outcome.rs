//! What `main` may return, and what [`Graceful::run`](crate::Graceful::run) gives back.

use std::process::ExitCode;
use std::sync::Arc;

use crate::exit;
use crate::report::ShutdownReport;

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
    /// Everything that happened. The engine keeps this same report (for the admin API and the
    /// watchdog), not a copy of it.
    pub report: Arc<ShutdownReport>,
    pub(crate) main_code: Option<ExitCode>,
}

impl RunOutcome {
    /// The numeric exit code the report decides ([`exit::code`], whose table lists every
    /// outcome), or `None` when `main` returned its own non-zero [`ExitCode`] (which wins over
    /// the codes of a completed shutdown and cannot be read back as a number).
    pub fn code(&self) -> Option<u8> {
        exit::code(&self.report)
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
