//! Where the commands cannot run: every one of them reads the process table from Linux's
//! `/proc` and signals through pidfds or `kill(2)`. The manifest is still read and checked,
//! so a typo is reported as on Linux, and then the command says plainly that it is not
//! available here.

use std::fmt;
use std::process::ExitCode;
use std::str::FromStr;

use crate::cli::Cli;
use crate::manifest::Manifest;

/// Exit status when something did not go as asked.
pub const EXIT_FAILED: u8 = 1;
/// Exit status for a usage or manifest error, and for a command not available here.
pub const EXIT_ERROR: u8 = 2;

/// The signals a manifest may name (`stop_signal`, `upgrade_signal`), by their Linux numbers,
/// so a manifest written for Linux is read and checked the same way here.
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Hang-up.
    SIGHUP = 1,
    /// Interrupt (Ctrl-C).
    SIGINT = 2,
    /// Quit.
    SIGQUIT = 3,
    /// Kill (cannot be caught).
    SIGKILL = 9,
    /// User signal 1.
    SIGUSR1 = 10,
    /// User signal 2.
    SIGUSR2 = 12,
    /// Terminate.
    SIGTERM = 15,
}

const ALL: [Signal; 7] = [
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGKILL,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGTERM,
];

impl Signal {
    /// The name, e.g. `SIGTERM`.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::SIGHUP => "SIGHUP",
            Signal::SIGINT => "SIGINT",
            Signal::SIGQUIT => "SIGQUIT",
            Signal::SIGKILL => "SIGKILL",
            Signal::SIGUSR1 => "SIGUSR1",
            Signal::SIGUSR2 => "SIGUSR2",
            Signal::SIGTERM => "SIGTERM",
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name or number that is none of [`Signal`]'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownSignal;

impl FromStr for Signal {
    type Err = UnknownSignal;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL.into_iter()
            .find(|sig| sig.as_str() == s)
            .ok_or(UnknownSignal)
    }
}

impl TryFrom<i32> for Signal {
    type Error = UnknownSignal;
    fn try_from(n: i32) -> Result<Self, Self::Error> {
        ALL.into_iter()
            .find(|sig| *sig as i32 == n)
            .ok_or(UnknownSignal)
    }
}

/// Checks the manifest, then says that the command is not available on this platform.
pub fn run(cli: Cli) -> ExitCode {
    if let Err(e) = Manifest::load(&cli.config) {
        eprintln!("error: {e:#}");
        return ExitCode::from(EXIT_ERROR);
    }
    eprintln!(
        "error: {} is not available on this platform: gracefulctl reads the process table \
         from Linux's /proc and signals through pidfds; the manifest {} is valid. Stop a \
         graceful service on Windows with Ctrl-C or Ctrl-Break in its console, or through its \
         admin API (POST /shutdown)",
        command_name(&cli),
        cli.config.display()
    );
    ExitCode::from(EXIT_ERROR)
}

fn command_name(cli: &Cli) -> &'static str {
    use crate::cli::Command;
    match cli.command {
        Command::Status { .. } => "`status`",
        Command::Stop(_) => "`stop`",
        Command::Start { .. } => "`start`",
        Command::Restart(_) => "`restart`",
        Command::Health { .. } => "`health`",
        Command::Backup { .. } => "`backup`",
        Command::Upgrade { .. } => "`upgrade`",
        Command::Wait { .. } => "`wait`",
        Command::Logs { .. } => "`logs`",
        #[allow(unreachable_patterns)] // a command added later reads as "this command"
        _ => "this command",
    }
}
