//! Durations as operators write them: `30`, `1.5` (seconds), `30s`, `1m30s`, `500ms`.
//!
//! The grammar is the engine's (`shutdown_grammar::duration`), so a value that works in
//! `SHUTDOWN_TIMEOUT` works on this command line and in the manifest, and the other way round.

use std::time::Duration;

pub use shutdown_grammar::duration::{ACCEPTED_FORMS, DurationError};

/// Parses `30`, `1.5`, `30s`, `1m30s`, `500ms` … into a [`Duration`].
///
/// # Errors
/// A [`DurationError`] whose message names the offending text and the accepted forms.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    shutdown_grammar::parse_duration(text)
}

/// Serde helper: a duration written as a string (`"10s"`) or an integer (`10`, seconds).
pub(crate) mod serde_duration {
    use std::fmt;
    use std::time::Duration;

    use serde::de::{self, Visitor};

    struct DurationVisitor;

    impl Visitor<'_> for DurationVisitor {
        type Value = Duration;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(super::ACCEPTED_FORMS)
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
            super::parse(v).map_err(E::custom)
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
            u64::try_from(v).map(Duration::from_secs).map_err(|_| {
                E::custom(format!(
                    "negative duration `{v}`; expected {}",
                    super::ACCEPTED_FORMS
                ))
            })
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
            Ok(Duration::from_secs(v))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
            shutdown_grammar::duration::from_seconds_f64(v).map_err(E::custom)
        }
    }

    pub(crate) fn deserialize<'de, D: de::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        d.deserialize_any(DurationVisitor)
    }

    pub(crate) mod option {
        use std::time::Duration;

        pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
            d: D,
        ) -> Result<Option<Duration>, D::Error> {
            super::deserialize(d).map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(parse("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(
            parse("0.5"),
            shutdown_grammar::parse_duration("0.5"),
            "the engine's grammar"
        );
    }

    #[test]
    fn rejects_garbage_with_the_accepted_forms() {
        let err = parse("10x").unwrap_err().to_string();
        assert!(err.contains("`10x`"), "{err}");
        assert!(err.contains("1m30s"), "{err}");
        assert!(parse("").is_err());
        assert!(parse("-3").is_err());
    }
}
