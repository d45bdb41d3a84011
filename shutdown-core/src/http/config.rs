//! How the HTTP server behaves while draining: the `[http]` table of the configuration file.

use std::time::Duration;

use crate::config::value::{self, Show};
use crate::config::{Config, ConfigError, Input, Section, Shown, key};

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
/// fatal_panics = true        # a panicking handler starts the shutdown (default false)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpConfig {
    /// What to do with requests that arrive on a live connection during the drain.
    pub late_requests: LateRequests,
    /// The `Retry-After` of refused requests, in whole seconds (rounded up).
    pub retry_after: Duration,
    /// A request handler that panics is always answered 500, logged and counted; with
    /// `true` it is also a fatal failure: the shutdown starts and the exit code is 69.
    pub fatal_panics: bool,
}

impl Show for LateRequests {
    fn show(&self) -> Shown {
        Shown::Text(
            match self {
                LateRequests::Serve => "serve",
                LateRequests::Refuse => "refuse",
            }
            .into(),
        )
    }
}

fn late_requests(input: Input<'_>) -> Result<LateRequests, String> {
    value::one_of(
        input,
        &[
            ("serve", LateRequests::Serve),
            ("refuse", LateRequests::Refuse),
        ],
    )
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            late_requests: LateRequests::Serve,
            retry_after: Duration::from_secs(5),
            fatal_panics: false,
        }
    }
}

impl HttpConfig {
    /// The keys of the `[http]` table.
    pub(crate) const KEYS: Section<HttpConfig> = Section {
        name: "http",
        keys: &[
            key!(plain "late_requests", None, late_requests, late_requests,
                "what to do with a request on a live connection during the drain: `\"serve\"` or `\"refuse\"` (503)"),
            key!(plain "retry_after", None, retry_after, value::duration,
                "the `Retry-After` of refused requests, whole seconds rounded up"),
            key!(plain "fatal_panics", None, fatal_panics, value::boolean,
                "a request handler that panics is answered 500 and counted; `true` also starts the shutdown (exit 69)"),
        ],
    };

    /// The defaults, overridden by the `[http]` table of the engine's configuration file.
    /// Every problem is reported at once, naming the key, the file, the line and the accepted
    /// forms.
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        let mut out = HttpConfig::default();
        let mut issues = Vec::new();
        config.read_section(&HttpConfig::KEYS, &mut out, &mut issues);
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
        Config::default()
            .apply_toml(&format!("[http]\n{toml_text}"), "graceful.toml")
            .expect("valid toml")
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
    fn http_doc_table_is_the_key_table() {
        let doc = include_str!("../../../docs/http.md");
        crate::config::tests::assert_doc_table(
            doc,
            "docs/http.md",
            "http",
            &HttpConfig::KEYS.markdown(),
        );
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
        assert!(
            text.contains("line 4: unknown key `port` in `[http]`"),
            "the shared section reader names the line: {text}"
        );
    }
}
