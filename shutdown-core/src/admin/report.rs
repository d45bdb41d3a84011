//! The report the previous process left in the state directory, read once at start into a
//! typed summary for `/status`.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::Config;

/// The fields of a written [`ShutdownReport`](crate::report::ShutdownReport) that `/status` shows.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct PreviousShutdown {
    #[serde(default)]
    result: Option<String>,
    /// Total duration, in seconds.
    #[serde(default)]
    total: Option<f64>,
    #[serde(default)]
    reason: Value,
    #[serde(default)]
    deadlines: Value,
    #[serde(default)]
    abandoned: Value,
}

impl PreviousShutdown {
    /// Reads `config`'s state directory; a missing file is `None`, a damaged one is logged
    /// and ignored (it must never stop the admin API).
    pub(crate) fn read(config: &Config) -> Option<PreviousShutdown> {
        let dir = config.state_dir.value.as_ref()?;
        let parsed = match crate::report::read_last(dir)? {
            Ok(v) => serde_json::from_value::<PreviousShutdown>(v).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match parsed {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::warn!(target: "graceful::admin", "previous shutdown report ignored: {e}");
                None
            }
        }
    }

    /// The JSON `/status` shows under `previous_shutdown`.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "result": self.result,
            "forced": self.result.as_deref() == Some("forced"),
            "duration_seconds": self.total,
            "reason": self.reason,
            "deadlines": self.deadlines,
            "abandoned": self.abandoned,
        })
    }
}
