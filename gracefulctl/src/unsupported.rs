//! Where the commands cannot run: every one of them reads the process table from Linux's
//! `/proc` and signals through pidfds or `kill(2)`. The manifest is still read and checked,
//! so a typo is reported as on Linux, and then the command says plainly that it is not
//! available here.

use std::process::ExitCode;

use crate::cli::Cli;
use crate::manifest::Manifest;

/// Exit status when something did not go as asked.
pub const EXIT_FAILED: u8 = 1;
/// Exit status for a usage or manifest error, and for a command not available here.
pub const EXIT_ERROR: u8 = 2;

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
