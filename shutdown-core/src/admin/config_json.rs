//! `GET /config`: the effective configuration as JSON, every value with its source, shown by
//! each section's key table.

use serde_json::{Value, json};

use super::config::AdminConfig;
use crate::config::Config;

/// `GET /config`.
pub(crate) fn config_json(core: &Config, admin: &AdminConfig) -> Value {
    let sections: Vec<&String> = core.sections.keys().collect();
    json!({
        "shutdown": Config::KEYS.json(core),
        "admin": AdminConfig::KEYS.json(admin),
        "file_sections": sections,
        "warnings": core.warnings(),
    })
}
