//! Measured durations as people read them (`88µs`, `1.2s`, `103ms`, `1m30s`), the one format
//! of every duration the engine logs or prints: `tracing` fields (`took = %Took(d)`) and
//! stderr lines alike.
//!
//! A figure under 10 keeps one decimal, a larger one is rounded to a whole number of its unit,
//! and a trailing `.0` is dropped: three significant digits at most, enough to read a log.
//! Configured values are not measured and keep their exact form (`format_duration` of the
//! shared grammar), so they can be copied back into a configuration.

use std::fmt;
use std::time::Duration;

/// Displays a measured duration in the unit that reads best; see the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Took(pub(crate) Duration);

impl fmt::Display for Took {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = self.0.as_nanos();
        if nanos < 1_000 {
            return write!(f, "{nanos}ns");
        }
        if nanos >= 60_000_000_000 {
            // Whole seconds from a minute on: `1m30s`, `2h5m`.
            let secs = (nanos + 500_000_000) / 1_000_000_000;
            let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
            if h > 0 {
                write!(f, "{h}h")?;
                if m > 0 || s > 0 {
                    write!(f, "{m}m")?;
                }
            } else {
                write!(f, "{m}m")?;
            }
            return if s > 0 { write!(f, "{s}s") } else { Ok(()) };
        }
        let (value, unit) = if nanos < 1_000_000 {
            (nanos as f64 / 1e3, "µs")
        } else if nanos < 1_000_000_000 {
            (nanos as f64 / 1e6, "ms")
        } else {
            (nanos as f64 / 1e9, "s")
        };
        let rounded = if value < 10.0 {
            (value * 10.0).round() / 10.0
        } else {
            value.round()
        };
        // 999.6ms rounds to 1000ms: say 1s.
        match (rounded >= 1000.0, unit) {
            (true, "µs") => f.write_str("1ms"),
            (true, "ms") => f.write_str("1s"),
            _ => write!(f, "{rounded}{unit}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Took;
    use std::time::Duration;

    fn show(nanos: u64) -> String {
        Took(Duration::from_nanos(nanos)).to_string()
    }

    #[test]
    fn reads_like_a_person_writes_it() {
        assert_eq!(show(0), "0ns");
        assert_eq!(show(850), "850ns");
        assert_eq!(show(88_075), "88µs");
        assert_eq!(show(8_807), "8.8µs");
        assert_eq!(show(1_000), "1µs");
        assert_eq!(show(102_753_464), "103ms");
        assert_eq!(show(1_234_000_000), "1.2s");
        assert_eq!(show(10_000_000_000), "10s");
        assert_eq!(show(59_400_000_000), "59s");
        assert_eq!(show(90_000_000_000), "1m30s");
        assert_eq!(show(120_000_000_000), "2m");
        assert_eq!(show(7_500_000_000_000), "2h5m");
        assert_eq!(show(999_600), "1ms");
        assert_eq!(show(999_600_000), "1s");
    }
}
