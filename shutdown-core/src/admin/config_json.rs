//! `GET /config`: the effective configuration as JSON, every value with its source, shown by
//! each section's key table.

use serde_json::{Value, json};

use super::config::AdminConfig;
use crate::config::Config;

/// `GET /config`. With the `hyper` feature, `http` is the `[http]` table as the file and the
/// environment set it (what `serve` uses unless the program sets keys with its methods).
pub(crate) fn config_json(core: &Config, admin: &AdminConfig) -> Value {
    let sections: Vec<&String> = core.sections.keys().collect();
    #[cfg_attr(not(feature = "hyper"), allow(unused_mut))]
    let mut out = json!({
        "shutdown": Config::KEYS.json(core),
        "admin": AdminConfig::KEYS.json(admin),
        "file_sections": sections,
        "warnings": core.warnings(),
    });
    #[cfg(feature = "hyper")]
    {
        use crate::http::HttpConfig;
        out["http"] = match HttpConfig::from_config(core) {
            Ok(http) => HttpConfig::KEYS.json(&http),
            Err(e) => json!({ "error": e.to_string() }),
        };
    }
    out
}

#[cfg(all(test, feature = "hyper"))]
mod tests {
    use super::*;

    #[test]
    fn shows_the_http_table() {
        let core = Config::default()
            .apply_toml("[http]\nrequest_grace = \"250ms\"", "graceful.toml")
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
