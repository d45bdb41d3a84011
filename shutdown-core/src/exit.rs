//! The process exit codes `#[graceful::main]` uses.
//!
//! | code | when |
//! |---|---|
//! | `0` | the shutdown completed and `main` returned `()`/`Ok(())` |
//! | `1` | `main` returned `Err`, or a tracked task ([`Shutdown::spawn`](crate::Shutdown::spawn)) panicked or returned `Err` (resources are still closed first) |
//! | `main`'s own | `main` returned an [`std::process::ExitCode`]: it wins over `0` |
//! | [`STARTUP_FAILED`] (70) | a resource constructor failed; what was built is closed |
//! | [`CONFIG_ERROR`] (78) | the configuration was invalid; nothing was started |
//! | [`FORCED`] (124) | a deadline expired: the shutdown was forced |
//! | `128 + n` | a second signal `n` arrived during shutdown (130 for SIGINT, 143 for SIGTERM) |

/// `main` returned an error.
pub const MAIN_ERROR: u8 = 1;
/// A resource failed to build at start-up (`EX_SOFTWARE`).
pub const STARTUP_FAILED: u8 = 70;
/// The configuration was invalid (`EX_CONFIG`).
pub const CONFIG_ERROR: u8 = 78;
/// A deadline expired and the shutdown was forced (the same code as `timeout(1)`).
pub const FORCED: u8 = 124;

/// The exit code for a forced exit caused by a second signal numbered `signo`.
pub fn second_signal(signo: i32) -> i32 {
    128 + signo
}
