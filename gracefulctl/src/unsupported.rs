//! What gracefulctl cannot do on Windows, said before anything is read or sent: which
//! command, why, and what to use instead.

use crate::cli::Command;

/// A command, or an option of one, that is not available on Windows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} is not available on Windows: {why}; {instead}")]
pub(crate) struct Unsupported {
    /// The command, e.g. "`start`".
    pub what: &'static str,
    /// Why it cannot work there.
    pub why: &'static str,
    /// What to use instead.
    pub instead: &'static str,
}

/// `Err` when `command` cannot work on Windows.
///
/// # Errors
/// The [`Unsupported`] saying which command, why, and what to use instead.
pub(crate) fn check(command: &Command) -> Result<(), Unsupported> {
    let refuse = |what, why, instead| Err(Unsupported { what, why, instead });
    match command {
        Command::Status { detailed: true, .. } => refuse(
            "`status --detailed`",
            "it reads each process's children, sockets and listening ports from Linux's /proc",
            "use `status` for the table, and `netstat -ano` or Resource Monitor for the ports",
        ),
        Command::Start { .. } => refuse(
            "`start`",
            "it runs each command with `sh -c` in a process group of its own, and Windows has \
             neither `sh` nor process groups to stop later",
            "start the services with their service manager (sc.exe, NSSM, Task Scheduler), then \
             check them with `gracefulctl wait --until ready`",
        ),
        Command::Restart(_) => refuse(
            "`restart`",
            "it ends with `start`, which runs commands with `sh -c` in process groups Windows \
             has not",
            "run `gracefulctl stop`, then start the services with their service manager",
        ),
        Command::Upgrade { .. } => refuse(
            "`upgrade`",
            "the in-place upgrade is asked for with a signal and hands the listening sockets \
             over a Unix socket; graceful's `upgrade` feature is inactive on Windows",
            "stop the old process with `gracefulctl stop` and start the new one, or run two \
             instances behind a load balancer and replace them one at a time",
        ),
        Command::Status { .. }
        | Command::Stop(_)
        | Command::Health { .. }
        | Command::Backup { .. }
        | Command::Wait { .. }
        | Command::Logs { .. }
        | Command::Timeline { .. }
        | Command::Watch { .. } => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::cli::Cli;

    fn check_args(args: &[&str]) -> Result<(), Unsupported> {
        check(&Cli::parse_from(args).command)
    }

    #[test]
    fn status_and_stop_work_and_the_rest_says_what_instead() {
        assert_eq!(check_args(&["gracefulctl", "status"]), Ok(()));
        assert_eq!(check_args(&["gracefulctl", "stop", "--dry-run"]), Ok(()));
        let e = check_args(&["gracefulctl", "start"])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("`start` is not available on Windows: ") && e.contains("sc.exe"),
            "{e}"
        );
        let e = check_args(&["gracefulctl", "status", "--detailed"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("netstat -ano"), "{e}");
    }
}
