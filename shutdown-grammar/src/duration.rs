//! Durations: `30` and `1.5` (seconds), `30s`, `1m30s`, `250ms`, `2h`.
//!
//! A bare number is seconds, with up to nine decimal places (`0.25` is 250 ms). Anything else
//! is a sequence of numbers with units as [`humantime::parse_duration`] reads them (`1m30s`,
//! `1m 30s`, `250ms`, `2h`, `1day`). Signs, exponents and empty values are refused.

use std::fmt;
use std::time::Duration;

/// The accepted forms, quoted in every error message about a duration.
pub const ACCEPTED_FORMS: &str =
    "a number of seconds (`30`, `1.5`) or a duration like `30s`, `1m30s`, `250ms`, `2h`";

/// What is wrong with a duration. [`Display`](fmt::Display) names the text and lists
/// [`ACCEPTED_FORMS`]; [`DurationError::reason`] is the short reason alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    /// Nothing but spaces.
    Empty,
    /// Starts with `-`.
    Negative(String),
    /// More seconds than a [`Duration`] holds.
    TooLarge(String),
    /// More than nine decimal places (finer than a nanosecond).
    TooPrecise(String),
    /// Not a duration; the parser's own reason.
    Invalid {
        /// The text as given.
        input: String,
        /// Why it was refused.
        reason: String,
    },
}

impl DurationError {
    /// Why the text was refused, without the text or the accepted forms ("is negative").
    pub fn reason(&self) -> String {
        match self {
            DurationError::Empty => "is empty".into(),
            DurationError::Negative(_) => "is negative; durations are zero or more".into(),
            DurationError::TooLarge(_) => "is too large".into(),
            DurationError::TooPrecise(_) => {
                "has more than nine decimal places; the finest step is a nanosecond".into()
            }
            DurationError::Invalid { reason, .. } => format!("is not a duration ({reason})"),
        }
    }
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::Empty => write!(f, "the value is empty; expected {ACCEPTED_FORMS}"),
            DurationError::Negative(s)
            | DurationError::TooLarge(s)
            | DurationError::TooPrecise(s)
            | DurationError::Invalid { input: s, .. } => {
                write!(f, "`{s}` {}; expected {ACCEPTED_FORMS}", self.reason())
            }
        }
    }
}

impl std::error::Error for DurationError {}

/// Parses a duration in any of the [accepted forms](self).
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    if s.starts_with('-') {
        return Err(DurationError::Negative(s.to_string()));
    }
    if let Some(d) = seconds(s)? {
        return Ok(d);
    }
    humantime::parse_duration(s).map_err(|e| DurationError::Invalid {
        input: s.to_string(),
        reason: e.to_string(),
    })
}

/// `30` or `1.5`: whole or decimal seconds, exactly (no floating point). `None` when `s` is
/// not such a number.
fn seconds(s: &str) -> Result<Option<Duration>, DurationError> {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (s.contains('.') && !digits(fraction)) {
        return Ok(None);
    }
    let secs = whole
        .parse::<u64>()
        .map_err(|_| DurationError::TooLarge(s.to_string()))?;
    if fraction.len() > 9 {
        return Err(DurationError::TooPrecise(s.to_string()));
    }
    let nanos = if fraction.is_empty() {
        0
    } else {
        // At most nine digits: fits in u32; pad to nanoseconds.
        let padded = format!("{fraction:0<9}");
        padded
            .parse::<u32>()
            .map_err(|_| DurationError::TooPrecise(s.to_string()))?
    };
    Ok(Some(Duration::new(secs, nanos)))
}

/// Seconds given as a number (a TOML integer or float, a macro literal): zero or more,
/// finite.
pub fn from_seconds_f64(secs: f64) -> Result<Duration, DurationError> {
    if secs.is_sign_negative() && secs != 0.0 {
        return Err(DurationError::Negative(secs.to_string()));
    }
    Duration::try_from_secs_f64(secs).map_err(|_| DurationError::TooLarge(secs.to_string()))
}

/// A duration written back in a form [`parse_duration`] accepts (`1m30s`, `2s500ms`), for
/// messages that suggest a value.
pub fn format_duration(d: Duration) -> String {
    humantime::format_duration(d).to_string().replace(' ', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1m 30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration(" 2h "), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn decimal_seconds_are_exact() {
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("0.000000001"), Ok(Duration::from_nanos(1)));
        assert_eq!(
            parse_duration("0.0000000001"),
            Err(DurationError::TooPrecise("0.0000000001".into()))
        );
    }

    #[test]
    fn rejects_with_the_accepted_forms() {
        for bad in [
            "", "-5s", "-5", "-1.5", "30x", "abc", "1.", ".5", "1e3", "NaN", "inf",
        ] {
            let err = parse_duration(bad).expect_err(bad);
            assert!(err.to_string().contains("1m30s"), "{bad}: {err}");
        }
        assert!(matches!(
            parse_duration("-5s"),
            Err(DurationError::Negative(_))
        ));
        assert_eq!(
            parse_duration("99999999999999999999"),
            Err(DurationError::TooLarge("99999999999999999999".into()))
        );
        assert_eq!(
            parse_duration("30x").map_err(|e| e.reason().contains("unknown time unit")),
            Err(true)
        );
    }

    #[test]
    fn numbers_and_formatting_round_trip() {
        assert_eq!(from_seconds_f64(1.5), Ok(Duration::from_millis(1500)));
        assert!(from_seconds_f64(-1.0).is_err());
        assert!(from_seconds_f64(f64::NAN).is_err());
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
        let d = Duration::from_millis(2500);
        assert_eq!(parse_duration(&format_duration(d)), Ok(d));
    }
}
