//! Booleans as operators write them in environment variables and files.

use std::fmt;

/// The accepted forms, quoted in every error.
pub const ACCEPTED_FORMS: &str = "true/false, yes/no, on/off or 1/0";

/// A text that is not a boolean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoolError {
    /// The text as given.
    pub input: String,
}

impl fmt::Display for BoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a boolean; expected {ACCEPTED_FORMS}",
            self.input
        )
    }
}

impl std::error::Error for BoolError {}

/// Parses `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`, in any case, surrounding spaces
/// ignored.
pub fn parse_bool(input: &str) -> Result<bool, BoolError> {
    match input.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(BoolError {
            input: input.trim().to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_documented_spelling() {
        for t in ["1", "true", "YES", " on "] {
            assert_eq!(parse_bool(t), Ok(true), "{t}");
        }
        for f in ["0", "False", "no", "OFF"] {
            assert_eq!(parse_bool(f), Ok(false), "{f}");
        }
        let e = parse_bool("maybe").expect_err("maybe");
        assert!(e.to_string().contains("yes/no"), "{e}");
    }
}
