//! [`Remaining`]: a timer deadline that is saved as the time it had left.

use std::time::{Duration, Instant};

/// A deadline for a timer kept in saved state. An [`Instant`] means nothing in another
/// process, so it is saved as the time that was left (in milliseconds) and restored as
/// "now + that": a timer with 40 s left when the service stopped has 40 s left when it
/// resumes.
///
/// ```
/// use std::time::Duration;
/// use graceful::state::Remaining;
///
/// let t = Remaining::after(Duration::from_secs(40));
/// let json = serde_json::to_string(&t).expect("serializes");
/// let back: Remaining = serde_json::from_str(&json).expect("deserializes");
/// assert!(back.left() <= Duration::from_secs(40));
/// assert!(!back.is_due()); // restored with the time it had left, not as an expired deadline
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Remaining(Instant);

impl Remaining {
    /// A deadline `d` from now.
    pub fn after(d: Duration) -> Self {
        Remaining(Instant::now() + d)
    }

    /// The deadline.
    pub fn deadline(&self) -> Instant {
        self.0
    }

    /// The time left (zero once due).
    pub fn left(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    /// `true` once the deadline has passed.
    pub fn is_due(&self) -> bool {
        self.left().is_zero()
    }
}

impl serde::Serialize for Remaining {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.left().as_millis().min(u128::from(u64::MAX)) as u64)
    }
}

impl<'de> serde::Deserialize<'de> for Remaining {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let ms = <u64 as serde::Deserialize>::deserialize(d)?;
        Ok(Remaining::after(Duration::from_millis(ms)))
    }
}
