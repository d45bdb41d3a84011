//! `gracefulctl`: show, stop and start a whole set of cooperating processes safely, in
//! order, from the command line.
//!
//! The binary is a thin wrapper around [`run`]. The pieces, one job each:
//! [`manifest`] (reading and checking `gracefulctl.toml`), [`procs`] (one snapshot of the
//! process table per command), [`locate`] (PID file / pattern lookup, stale and reused PIDs),
//! [`safety`] (what is never signalled), [`signal`] (the polite and the forced stop request,
//! one sender per platform), [`admin_stop`] (`POST /shutdown` to a service's admin API),
//! [`plan`] (ordering), [`stop`], [`start`], [`upgrade`],
//! [`status`] and [`detail`] (`status --detailed`), [`ready`] and [`http_url`] (the readiness URL form), [`backup`], [`log`] (the action log), [`output`], and
//! [`timeline`] (`timeline` and `watch`: a shutdown drawn on a time axis).
//! See the crate README for the manifest format and the commands.
//!
//! On Windows the process table is read with `sysinfo`, and `status`, `stop` (polite
//! through the admin API, forced with `TerminateProcess`), `health`, `wait`, `backup`,
//! `logs`, `timeline` and `watch` work; `start`, `restart`, `upgrade` and
//! `status --detailed` say why they are not available there and what to use instead.

// Unit tests may unwrap: a panic is the failure report there.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod admin_stop;
pub mod backup;
pub mod cli;
mod commands;
pub mod detail;
pub mod duration;
pub mod http_url;
pub mod locate;
pub mod log;
pub mod manifest;
pub mod output;
pub mod plan;
pub mod procs;
pub mod ready;
pub mod safety;
pub mod signal;
#[cfg(not(unix))]
mod signal_name;
#[cfg(unix)]
pub mod start;
pub mod status;
pub mod stop;
pub mod timeline;
// Consulted on Windows only; compiled everywhere so its tests run on every platform.
#[cfg_attr(unix, allow(dead_code))]
mod unsupported;
#[cfg(unix)]
pub mod upgrade;

pub use commands::{EXIT_ERROR, EXIT_FAILED, run};
#[cfg(not(unix))]
pub use signal_name::Signal;
