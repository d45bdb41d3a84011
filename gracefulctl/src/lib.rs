//! `gracefulctl`: show, stop and start a whole set of cooperating processes safely, in
//! order, from the command line.
//!
//! The binary is a thin wrapper around [`run`]. The pieces, one job each:
//! [`manifest`] (reading and checking `gracefulctl.toml`), [`procs`] (one snapshot of `/proc`
//! per command), [`locate`] (PID file / pattern lookup, stale and reused PIDs),
//! [`safety`] (what is never signalled), [`signal`] (delivery through a pidfd), [`plan`] (ordering), [`stop`], [`start`], [`upgrade`],
//! [`status`] and [`detail`] (`status --detailed`), [`ready`] and [`http_url`] (the readiness URL form), [`backup`], [`log`] (the action log), [`output`], and
//! [`timeline`] (`timeline` and `watch`: a shutdown drawn on a time axis).
//! See the crate README for the manifest format and the commands.
//!
//! On other platforms than Unix the crate builds with [`cli`], [`manifest`], [`plan`],
//! [`backup`], [`duration`], [`http_url`], [`log`] and [`output`]; `run` checks the manifest and says that
//! the commands, which read Linux's `/proc`, are not available there.

// Unit tests may unwrap: a panic is the failure report there.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod backup;
pub mod cli;
#[cfg(unix)]
mod commands;
#[cfg(unix)]
pub mod detail;
pub mod duration;
pub mod http_url;
#[cfg(unix)]
pub mod locate;
pub mod log;
pub mod manifest;
pub mod output;
pub mod plan;
#[cfg(unix)]
pub mod procs;
pub mod ready;
#[cfg(unix)]
pub mod safety;
#[cfg(unix)]
pub mod signal;
#[cfg(unix)]
pub mod start;
#[cfg(unix)]
pub mod status;
#[cfg(unix)]
pub mod stop;
#[cfg(unix)]
pub mod timeline;
#[cfg(not(unix))]
mod signal_name;
#[cfg(not(unix))]
mod unsupported;
#[cfg(unix)]
pub mod upgrade;

#[cfg(unix)]
pub use commands::{EXIT_ERROR, EXIT_FAILED, run};
#[cfg(not(unix))]
pub use signal_name::Signal;
#[cfg(not(unix))]
pub use unsupported::{EXIT_ERROR, EXIT_FAILED, run};
