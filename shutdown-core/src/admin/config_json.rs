//! `GET /config`: the effective configuration as JSON, every value with its source, shown by
//! each section's key table.

use serde_json::{Value, json};

use super::config::AdminConfig;
use crate::config::Config;

/// `GET /config`: the core under `shutdown`, then every feature section the configuration
/// loaded under its name (`http` is what `serve` uses unless the program sets keys with its
/// methods); `admin` is the API's effective configuration, builder values included.
pub(crate) fn config_json(core: &Config, admin: &AdminConfig) -> Value {
    let sections: Vec<&String> = core.sections.keys().collect();
    let mut out = json!({
        "shutdown": Config::KEYS.json(core),
        "file_sections": sections,
        "warnings": core.warnings(),
    });
    for (name, section) in core.sections_json() {
        out[name] = section;
    }
    out["admin"] = AdminConfig::KEYS.json(admin);
    out
}

#[cfg(all(test, feature = "hyper"))]
mod tests {
    use super::*;

    #[test]
    fn shows_the_http_table() {
        let core = Config::default()
            .apply_toml("[http]\nrequest_grace = \"250ms\"", "graceful.toml")
            .and_then(|c| c.load(None, &crate::Env::None))
            .expect("valid toml");
        let json = config_json(&core, &AdminConfig::default());
        let http = &json["http"];
        assert!(
            http["request_grace"].to_string().contains("250ms"),
            "{http}"
        );
        assert!(http["lame_duck"].to_string().contains("true"), "{http}");
    }
}
