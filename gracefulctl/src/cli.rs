//! The command line (clap derive).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// Stop (and start) a whole set of cooperating processes safely, in order.
///
/// Processes are declared in a manifest (`gracefulctl.toml`). Exit status: 0 when everything
/// went as asked, 1 when something did not (a critical process is down, a process
/// survived `stop`, a readiness check failed), 2 for a usage or manifest error.
#[derive(Debug, Parser)]
#[command(name = "gracefulctl", version, about, long_about)]
pub struct Cli {
    /// The manifest.
    #[arg(
        short,
        long,
        value_name = "PATH",
        env = "GRACEFULCTL_CONFIG",
        default_value = crate::manifest::DEFAULT_MANIFEST,
        global = true
    )]
    pub config: PathBuf,

    /// Allow signalling processes owned by other users.
    #[arg(long, global = true)]
    pub allow_other_users: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show every process: PID, state, uptime, memory, CPU, critical, PID source.
    /// Exits 1 unless every critical process runs.
    Status {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Refresh every SECS seconds until interrupted.
        #[arg(long, value_name = "SECS")]
        watch: Option<u64>,
        /// Also show each process's command line, PID source, children, listening ports and
        /// the last lines of its log (`log = "…"` in the manifest).
        #[arg(long)]
        detailed: bool,
    },
    /// Back up the declared files, then stop the processes in order.
    Stop(StopArgs),
    /// Start the processes in reverse stop order, each after the previous one is ready.
    Start {
        /// Only these processes.
        #[arg(long, num_args = 1.., value_delimiter = ',', value_name = "NAME")]
        only: Vec<String>,
    },
    /// `stop`, then `start`.
    Restart(StopArgs),
    /// Probe each process's readiness check. Exits 1 if any fails.
    Health {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Only these processes.
        #[arg(long, num_args = 1.., value_delimiter = ',', value_name = "NAME")]
        only: Vec<String>,
    },
    /// Copy the declared backup files into `backups/shutdown_YYYYMMDD_HHMMSS/` now.
    Backup {
        /// Only these processes.
        #[arg(long, num_args = 1.., value_delimiter = ',', value_name = "NAME")]
        only: Vec<String>,
    },
    /// Ask one graceful service to upgrade in place, and follow the hand-over.
    ///
    /// Sends the process's `upgrade_signal` (default SIGUSR2), then waits until its PID
    /// file names a new process that holds the file's lock and the old process has exited.
    /// Needs `pid_file`, and acts only when that file is locked (a graceful service with
    /// `[upgrade] pid_file` locks it for its lifetime). Exits 0 once upgraded, 1 when the
    /// upgrade did not happen (the old process still serves) or the old process exited
    /// without a live successor.
    Upgrade {
        /// The process (manifest name).
        #[arg(value_name = "NAME")]
        name: String,
        /// How long to wait at most for the hand-over (`60`, `60s`, `2m`).
        #[arg(long, value_parser = parse_duration_arg, value_name = "DURATION", default_value = "60s")]
        timeout: Duration,
        /// Print what would be done and send nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Wait until the named processes are all stopped, or all ready, for scripts. Exits 0
    /// when they are, 1 when the timeout passes first (naming those that are not).
    Wait {
        /// The processes (manifest names).
        #[arg(required = true, value_name = "NAME")]
        names: Vec<String>,
        /// What to wait for.
        #[arg(long, value_enum)]
        until: Until,
        /// How long to wait at most (`30`, `30s`, `1m30s`).
        #[arg(long, value_parser = parse_duration_arg, value_name = "DURATION")]
        timeout: Duration,
    },
    /// Draw a service's last shutdown (the `last-shutdown.json` it wrote to its `state_dir`):
    /// phases as rows on a time axis, the closes of each priority class, deadlines, and what
    /// ran past its deadline, named. Plain text without colour when `NO_COLOR` is set or
    /// stdout is not a terminal. Needs no manifest.
    Timeline {
        /// The report (`<state_dir>/last-shutdown.json`).
        #[arg(value_name = "REPORT")]
        report: PathBuf,
        /// Also write the picture (a self-contained SVG) to this file.
        #[arg(long, value_name = "FILE")]
        svg: Option<PathBuf>,
    },
    /// Follow a running service's shutdown live through its admin API's `/events`, drawn as
    /// `timeline` draws a report, with the time left of the current deadline; then wait for
    /// the process to exit. Exits 0 when the shutdown completed, 1 when it was forced or the
    /// stream ended early.
    Watch {
        /// The admin API's URL (`http://127.0.0.1:9090`, with its prefix if any), or a
        /// process of the manifest whose `ready` check is the admin API's readiness URL.
        #[arg(value_name = "NAME|URL")]
        target: String,
        /// An API key with the `read` scope.
        #[arg(
            long,
            env = "GRACEFUL_ADMIN_API_KEY",
            hide_env_values = true,
            value_name = "KEY"
        )]
        api_key: Option<String>,
    },
    /// Show gracefulctl's own action log.
    Logs {
        /// Keep printing new lines as they are written.
        #[arg(short, long)]
        follow: bool,
        /// How many of the last lines to show (0 = all).
        #[arg(short = 'n', long, default_value_t = 50)]
        lines: usize,
    },
}

/// What `wait` waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Until {
    /// None of the processes runs.
    Stopped,
    /// Every process passes its readiness check.
    Ready,
}

/// Options shared by `stop` and `restart`.
#[derive(Debug, Clone, clap::Args)]
pub struct StopArgs {
    /// Print the exact plan and touch nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not wait for the stop signal to work: SIGKILL right after it.
    #[arg(long)]
    pub force: bool,
    /// Only these processes (still in stop order).
    #[arg(long, num_args = 1.., value_delimiter = ',', value_name = "NAME")]
    pub only: Vec<String>,
    /// Bound on the whole stop (`30`, `30s`, `1m30s`); once spent, waits are skipped.
    #[arg(long, value_parser = parse_duration_arg, value_name = "DURATION")]
    pub timeout: Option<Duration>,
    /// Skip the backup of declared files.
    #[arg(long)]
    pub no_backup: bool,
}

fn parse_duration_arg(s: &str) -> Result<Duration, String> {
    crate::duration::parse(s).map_err(|e| e.to_string())
}
