//! How the HTTP server behaves while draining: the `[http]` table of the configuration file.

use std::time::Duration;

use crate::config::{Config, ConfigError, ConfigIssue, Source, parse_duration};

/// What to do with a request that arrives on a live connection after the server stopped
/// taking work (the phase reached [`DrainingConnections`](crate::Phase::DrainingConnections)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LateRequests {
    /// Serve it; HTTP/1 responses carry `Connection: close` so the client moves on (default).
    #[default]
    Serve,
    /// Answer `503 Service Unavailable` with `Retry-After` and `Connection: close` without
    /// calling the application.
    Refuse,
}

/// Settings of [`serve`](crate::http::serve). Read from the `[http]` table of the
/// configuration file by [`HttpConfig::from_config`]; every key is optional:
///
/// ```toml
/// [http]
/// late_requests = "refuse"   # or "serve" (default)
/// retry_after = "5s"         # Retry-After of refused requests (default 5s)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpConfig {
    /// What to do with requests that arrive on a live connection during the drain.
    pub late_requests: LateRequests,
    /// The `Retry-After` of refused requests, in whole seconds (rounded up).
    pub retry_after: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            late_requests: LateRequests::Serve,
            retry_after: Duration::from_secs(5),
        }
    }
}

impl HttpConfig {
    /// The defaults, overridden by the `[http]` table of the engine's configuration file.
    /// Every problem is reported at once, naming the key, the file and the accepted forms.
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        let mut out = HttpConfig::default();
        let Some((table, path)) = config.section("http") else {
            return Ok(out);
        };
        let source = Source::File(path.clone());
        let mut issues = Vec::new();
        let mut issue = |key: &str, message: String| {
            issues.push(ConfigIssue {
                key: format!("http.{key}"),
                source: source.clone(),
                message,
            })
        };
        for (key, value) in table {
            match key.as_str() {
                "late_requests" => match value.as_str() {
                    Some("serve") => out.late_requests = LateRequests::Serve,
                    Some("refuse") => out.late_requests = LateRequests::Refuse,
                    _ => issue(
                        key,
                        format!("`{value}` is not accepted; expected \"serve\" or \"refuse\""),
                    ),
                },
                "retry_after" => {
                    let parsed = match value {
                        toml::Value::Integer(n) if *n >= 0 => {
                            Ok(Duration::from_secs(n.unsigned_abs()))
                        }
                        toml::Value::String(s) => parse_duration(s),
                        other => Err(format!("`{other}` is not a duration")),
                    };
                    match parsed {
                        Ok(d) => out.retry_after = d,
                        Err(e) => issue(key, e),
                    }
                }
                other => issue(
                    other,
                    format!(
                        "unknown key `{other}` in [http]; accepted keys: late_requests, retry_after"
                    ),
                ),
            }
        }
        if issues.is_empty() {
            Ok(out)
        } else {
            Err(ConfigError { issues })
        }
    }

    /// The `Retry-After` header value: whole seconds, rounded up, at least 1.
    pub(crate) fn retry_after_secs(&self) -> u64 {
        let d = self.retry_after;
        (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_http(toml_text: &str) -> Config {
        let mut c = Config::default();
        let table: toml::Table = toml::from_str(toml_text).expect("valid toml");
        c.sections
            .insert("http".into(), (table, "graceful.toml".into()));
        c
    }

    #[test]
    fn defaults_without_a_table() {
        assert_eq!(
            HttpConfig::from_config(&Config::default()),
            Ok(HttpConfig::default())
        );
    }

    #[test]
    fn reads_the_http_table() {
        let c = HttpConfig::from_config(&with_http(
            "late_requests = \"refuse\"\nretry_after = \"1m30s\"",
        ))
        .expect("ok");
        assert_eq!(c.late_requests, LateRequests::Refuse);
        assert_eq!(c.retry_after_secs(), 90);
    }

    #[test]
    fn reports_every_bad_key() {
        let e = HttpConfig::from_config(&with_http(
            "late_requests = \"drop\"\nretry_after = \"soon\"\nport = 1",
        ))
        .expect_err("bad values");
        assert_eq!(e.issues.len(), 3, "{e}");
        let text = e.to_string();
        assert!(
            text.contains("http.late_requests") && text.contains("\"serve\" or \"refuse\""),
            "{text}"
        );
        assert!(text.contains("graceful.toml"), "{text}");
    }
}
