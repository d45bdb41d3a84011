//! Parsing durations: `30` (seconds), `30s`, `1m30s`, `250ms`, `1h`.

use std::time::Duration;

/// The accepted forms, quoted in every error message.
pub const ACCEPTED_FORMS: &str =
    "a whole number of seconds (`30`) or a duration like `30s`, `1m30s`, `250ms`, `2h`";

/// Parses a duration the way every configuration source accepts it.
///
/// A bare number is seconds; anything else goes through [`humantime::parse_duration`].
/// Negative values, fractions without a unit, and empty strings are rejected with a message
/// that says what is accepted.
pub fn parse_duration(input: &str) -> Result<Duration, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err(format!("the value is empty; expected {ACCEPTED_FORMS}"));
    }
    if s.starts_with('-') {
        return Err(format!(
            "`{s}` is negative; durations must be zero or more: {ACCEPTED_FORMS}"
        ));
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| format!("`{s}` is too large; expected {ACCEPTED_FORMS}"));
    }
    humantime::parse_duration(s)
        .map_err(|e| format!("`{s}` is not a duration ({e}); expected {ACCEPTED_FORMS}"))
}

/// Reads a duration from a TOML value: a string in any [`ACCEPTED_FORMS`], or a whole number of
/// seconds. Every configuration section (core, admin, systemd) reads its durations with it.
pub(crate) fn duration_value(value: &toml::Value) -> Result<Duration, String> {
    match value {
        toml::Value::String(s) => parse_duration(s),
        toml::Value::Integer(n) if *n >= 0 => Ok(Duration::from_secs(n.unsigned_abs())),
        toml::Value::Integer(n) => {
            Err(format!("`{n}` is negative; durations must be zero or more"))
        }
        other => Err(format!(
            "expected {}, found {}",
            ACCEPTED_FORMS,
            other.type_str()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration(" 2h "), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn rejects_with_the_accepted_forms() {
        for bad in ["", "-5s", "-5", "30x", "abc", "1.5"] {
            let err = parse_duration(bad).expect_err(bad);
            assert!(err.contains("1m30s"), "{bad}: {err}");
        }
        assert!(parse_duration("-5s").is_err_and(|e| e.contains("negative")));
    }
}
