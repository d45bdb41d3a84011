//! What the application reports through the admin API: its named counts of active operations
//! (a daemon's `processes`, `jobs`, `timers`) and what it recovered at start.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Map, Value, json};

/// A named count the application reports, read each time a response needs it.
type Count = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The application's named counts, in registration order.
#[derive(Clone, Default)]
pub(crate) struct Operations(Vec<(String, Count)>);

impl fmt::Debug for Operations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(n, _)| n))
            .finish()
    }
}

impl Operations {
    /// Adds (or replaces) the count called `name`.
    pub(crate) fn insert(&mut self, name: String, count: Count) {
        self.0.retain(|(n, _)| *n != name);
        self.0.push((name, count));
    }

    /// Every count, read now, after `ours` (the engine's own counts); an application count
    /// with the same name wins.
    pub(crate) fn read(&self, ours: &[(&str, u64)]) -> Value {
        let mut out = Map::new();
        for (name, n) in ours {
            out.insert((*name).to_string(), json!(n));
        }
        for (name, count) in &self.0 {
            out.insert(name.clone(), json!(count()));
        }
        Value::Object(out)
    }
}

/// Where a piece of saved state came from at start-up.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "from", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RecoveredFrom {
    /// Restored from the snapshot the previous process saved.
    Snapshot,
    /// No snapshot existed: started empty.
    Fresh,
    /// The snapshot was damaged or incompatible and moved aside; started empty.
    MovedAside {
        /// Where the unusable file is now.
        aside: PathBuf,
        /// Why it was unusable.
        error: String,
    },
}

#[cfg(feature = "state")]
impl From<&crate::state::Restored> for RecoveredFrom {
    fn from(r: &crate::state::Restored) -> Self {
        match r {
            crate::state::Restored::FromSnapshot => RecoveredFrom::Snapshot,
            crate::state::Restored::MovedAside { error, aside } => RecoveredFrom::MovedAside {
                aside: aside.clone(),
                error: error.clone(),
            },
            // `Fresh`, and any future way of starting without the snapshot's content.
            _ => RecoveredFrom::Fresh,
        }
    }
}

/// One piece of state recovered at start, as `/status` shows it under `recovered`: its name,
/// where it came from, and the counts the application found in it.
///
/// ```
/// use graceful::admin::{Recovered, RecoveredFrom};
/// let jobs = Recovered::new("jobs", RecoveredFrom::Snapshot).count("jobs", 3).count("timers", 1);
/// # let _ = jobs;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Recovered {
    name: String,
    #[serde(flatten)]
    from: RecoveredFrom,
    counts: BTreeMap<String, u64>,
}

impl Recovered {
    /// State `name`, obtained as `from` (with feature `state`, `(&saved.restored()).into()`).
    pub fn new(name: impl Into<String>, from: impl Into<RecoveredFrom>) -> Self {
        Recovered {
            name: name.into(),
            from: from.into(),
            counts: BTreeMap::new(),
        }
    }

    /// Adds a count of what was recovered (`processes`, `jobs`, `timers`, …).
    pub fn count(mut self, name: impl Into<String>, n: u64) -> Self {
        self.counts.insert(name.into(), n);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_counts_follow_and_override_ours() {
        let mut ops = Operations::default();
        ops.insert("jobs".into(), Arc::new(|| 3));
        ops.insert("tasks".into(), Arc::new(|| 7));
        assert_eq!(
            ops.read(&[("connections", 1), ("tasks", 2)]),
            json!({"connections": 1, "tasks": 7, "jobs": 3})
        );
    }

    #[test]
    fn recovered_state_serializes_flat() {
        let r = Recovered::new("jobs", RecoveredFrom::Fresh).count("jobs", 0);
        assert_eq!(
            serde_json::to_value(&r).expect("json"),
            json!({"name": "jobs", "from": "fresh", "counts": {"jobs": 0}})
        );
    }
}
