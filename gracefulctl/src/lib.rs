//! `gracefulctl`: show, stop and start a whole set of cooperating processes safely, in
//! order, from the command line.
//!
//! The binary is a thin wrapper around [`run`]. The pieces, one job each:
//! [`manifest`] (reading and checking `gracefulctl.toml`), [`procs`] (one snapshot of `/proc`
//! per command), [`locate`] (PID file / pattern lookup, stale and reused PIDs),
//! [`safety`] (what is never signalled), [`signal`] (delivery through a pidfd), [`plan`] (ordering), [`stop`], [`start`], [`upgrade`],
//! [`status`] and [`detail`] (`status --detailed`), [`ready`], [`backup`], [`log`] (the action log), [`output`], and
//! [`timeline`] (`timeline` and `watch`: a shutdown drawn on a time axis).
//! See the crate README for the manifest format and the commands.

// Unit tests may unwrap: a panic is the failure report there.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod backup;
pub mod cli;
mod commands;
pub mod detail;
pub mod duration;
pub mod locate;
pub mod log;
pub mod manifest;
pub mod output;
pub mod plan;
pub mod procs;
pub mod ready;
pub mod safety;
pub mod signal;
pub mod start;
pub mod status;
pub mod stop;
pub mod timeline;
pub mod upgrade;

pub use commands::{EXIT_ERROR, EXIT_FAILED, run};
