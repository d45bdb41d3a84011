//! Durations in reports and errors, serialized as fractional seconds (`1.5`, not
//! `{"secs":1,"nanos":500000000}`). One place for both, below them in the module graph.

/// Serializes a `Duration` as fractional seconds.
pub(crate) mod duration_secs {
    use std::time::Duration;

    pub(crate) fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

/// Serializes an `Option<Duration>` as fractional seconds, or `null`.
pub(crate) mod opt_duration_secs {
    use std::time::Duration;

    pub(crate) fn serialize<S: serde::Serializer>(
        d: &Option<Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }
}
