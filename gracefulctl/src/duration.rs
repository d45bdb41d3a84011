//! Durations as operators write them: `30` (seconds), `30s`, `1m30s`, `500ms`.

use std::time::Duration;

/// The forms a duration may take, quoted in every error message about one.
pub const ACCEPTED_FORMS: &str =
    "a number of seconds (`30`) or a humantime duration (`30s`, `1m30s`, `500ms`)";

/// Parses `30`, `30s`, `1m30s`, `500ms` … into a [`Duration`].
///
/// A bare number is a count of seconds; anything else goes through `humantime`.
///
/// # Errors
/// A message naming the offending text and the accepted forms.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("empty duration; expected {ACCEPTED_FORMS}"));
    }
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    if let Ok(secs) = text.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Ok(Duration::from_secs_f64(secs));
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("invalid duration `{text}` ({e}); expected {ACCEPTED_FORMS}"))
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
            if v.is_finite() && v >= 0.0 {
                Ok(Duration::from_secs_f64(v))
            } else {
                Err(E::custom(format!(
                    "invalid duration `{v}`; expected {}",
                    super::ACCEPTED_FORMS
                )))
            }
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
    }

    #[test]
    fn rejects_garbage_with_the_accepted_forms() {
        let err = parse("10x").unwrap_err();
        assert!(err.contains("`10x`"), "{err}");
        assert!(err.contains("1m30s"), "{err}");
        assert!(parse("").is_err());
        assert!(parse("-3").is_err());
    }
}
