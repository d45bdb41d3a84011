//! The signals a manifest may name where nix has no `Signal` type (Windows): the same
//! names and Linux numbers, so a manifest written for Linux is read and checked the same way.

use std::fmt;
use std::str::FromStr;

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
