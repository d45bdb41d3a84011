//! Signal names: which signals a shutdown can listen to, and how they may be written.
//!
//! `SIGTERM`, `TERM`, `term` and `15` all name SIGTERM. The numbers are Linux's.

use std::fmt;

/// One signal: its canonical name, its number on Linux, and the other spellings accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalName {
    /// The canonical name (`SIGTERM`, `CTRL_BREAK`).
    pub name: &'static str,
    /// The signal number on Linux, for Unix signals.
    pub number: Option<u8>,
    /// Other spellings, upper case, without the `SIG` prefix.
    pub aliases: &'static [&'static str],
}

/// Every signal a shutdown can be started by, canonical name first.
pub const SIGNALS: &[SignalName] = &[
    SignalName {
        name: "SIGTERM",
        number: Some(15),
        aliases: &["TERM"],
    },
    SignalName {
        name: "SIGINT",
        number: Some(2),
        aliases: &["INT", "CTRL_C", "CTRLC"],
    },
    SignalName {
        name: "SIGHUP",
        number: Some(1),
        aliases: &["HUP"],
    },
    SignalName {
        name: "SIGQUIT",
        number: Some(3),
        aliases: &["QUIT"],
    },
    SignalName {
        name: "SIGUSR1",
        number: Some(10),
        aliases: &["USR1"],
    },
    SignalName {
        name: "SIGUSR2",
        number: Some(12),
        aliases: &["USR2"],
    },
    SignalName {
        name: "CTRL_BREAK",
        number: None,
        // `SIGBREAK` is its name in Node.js and the C runtime.
        aliases: &["CTRLBREAK", "BREAK"],
    },
    SignalName {
        name: "CTRL_CLOSE",
        number: None,
        aliases: &["CTRLCLOSE"],
    },
    SignalName {
        name: "CTRL_LOGOFF",
        number: None,
        aliases: &["CTRLLOGOFF"],
    },
    SignalName {
        name: "CTRL_SHUTDOWN",
        number: None,
        aliases: &["CTRLSHUTDOWN"],
    },
];

/// A name that is not a signal graceful can listen to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalError {
    /// The text as given.
    pub input: String,
}

impl SignalError {
    /// "is not a signal graceful can listen to (did you mean …); expected one of …", without
    /// the text itself.
    pub fn reason(&self) -> String {
        let names = names();
        let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        format!(
            "is not a signal graceful can listen to{}; use {} (or a number such as `15`)",
            crate::suggest::hint(&self.input, &names),
            quoted.join(", ")
        )
    }
}

impl fmt::Display for SignalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` {}", self.input, self.reason())
    }
}

impl std::error::Error for SignalError {}

/// The canonical names, in [`SIGNALS`] order.
pub fn names() -> Vec<&'static str> {
    SIGNALS.iter().map(|s| s.name).collect()
}

/// The canonical name of a signal written as a name, an alias or a number.
pub fn parse_signal(input: &str) -> Result<&'static str, SignalError> {
    let upper = input.trim().to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    let number = bare.parse::<u8>().ok();
    SIGNALS
        .iter()
        .find(|s| {
            s.name == upper
                || s.name == bare
                || s.aliases.contains(&bare)
                || (number.is_some() && s.number == number)
        })
        .map(|s| s.name)
        .ok_or_else(|| SignalError {
            input: input.trim().to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_aliases_and_numbers() {
        assert_eq!(parse_signal("SIGTERM"), Ok("SIGTERM"));
        assert_eq!(parse_signal("term"), Ok("SIGTERM"));
        assert_eq!(parse_signal("15"), Ok("SIGTERM"));
        assert_eq!(parse_signal(" 2 "), Ok("SIGINT"));
        assert_eq!(parse_signal("ctrl_c"), Ok("SIGINT"));
        assert_eq!(parse_signal("CTRL_BREAK"), Ok("CTRL_BREAK"));
        assert_eq!(parse_signal("SIGBREAK"), Ok("CTRL_BREAK"));
        assert_eq!(parse_signal("ctrl_shutdown"), Ok("CTRL_SHUTDOWN"));
        for s in SIGNALS {
            assert_eq!(parse_signal(s.name), Ok(s.name));
        }
        let e = parse_signal("SIGTREM").expect_err("typo");
        assert!(e.to_string().contains("did you mean `SIGTERM`"), "{e}");
        assert!(parse_signal("9").is_err(), "SIGKILL cannot be caught");
    }
}
