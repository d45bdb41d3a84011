//! How the HTTP server behaves while draining: the `[http]` table of the configuration file.

use std::time::Duration;

use crate::config::value::{self, Show};
use crate::config::{Config, ConfigError, Env, Input, Section, Shown, key, no_rules};

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
/// configuration file and the `GRACEFUL_HTTP_*` environment variables when the engine's
/// configuration is loaded (with the other sections, from the same environment); `serve`
/// takes them from there ([`HttpConfig::from_config`]). Every key is optional:
///
/// ```toml
/// [http]
/// late_requests = "refuse"   # or "serve" (default)
/// retry_after = "5s"         # Retry-After of refused requests (default 5s)
/// request_grace = "1s"       # how long a connection may take to send its next request
/// lame_duck = true           # Connection: close / GOAWAY during readiness_delay
/// fatal_panics = true        # a panicking handler starts the shutdown (default false)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpConfig {
    /// What to do with requests that arrive on a live connection during the drain.
    pub late_requests: LateRequests,
    /// The `Retry-After` of refused requests, in whole seconds (rounded up).
    pub retry_after: Duration,
    /// How long a connection open when the drain starts may take to send its next request
    /// (HTTP/1, and connections that have not sent a request yet): the request is answered
    /// with `Connection: close`; a connection that sends nothing in that time is closed then.
    /// Never more than half of `drain_timeout`, so the answer fits in the drain.
    pub request_grace: Duration,
    /// While `readiness_delay` runs, tell clients to move: HTTP/1 responses carry
    /// `Connection: close` and HTTP/2 connections get a graceful GOAWAY (default `true`).
    pub lame_duck: bool,
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

/// The default of [`HttpConfig::request_grace`]: ten times the pause of a client that waits
/// 100 ms between requests, and short beside a drain.
const DEFAULT_REQUEST_GRACE: Duration = Duration::from_secs(1);

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            late_requests: LateRequests::Serve,
            retry_after: Duration::from_secs(5),
            request_grace: DEFAULT_REQUEST_GRACE,
            lame_duck: true,
            fatal_panics: false,
        }
    }
}

impl HttpConfig {
    /// The keys of the `[http]` table.
    pub(crate) const KEYS: Section<HttpConfig> = Section {
        name: "http",
        keys: &[
            key!(plain "late_requests", Some("GRACEFUL_HTTP_LATE_REQUESTS"), late_requests, late_requests,
                "what to do with a request on a live connection during the drain: `\"serve\"` or `\"refuse\"` (503)"),
            key!(plain "retry_after", Some("GRACEFUL_HTTP_RETRY_AFTER"), retry_after, value::duration,
                "the `Retry-After` of refused requests, whole seconds rounded up"),
            key!(plain "request_grace", Some("GRACEFUL_HTTP_REQUEST_GRACE"), request_grace, value::duration,
                "how long a connection open when the drain starts may take to send its next request (answered with `Connection: close`); at most half of `drain_timeout`"),
            key!(plain "lame_duck", Some("GRACEFUL_HTTP_LAME_DUCK"), lame_duck, value::boolean,
                "during `readiness_delay`, HTTP/1 responses carry `Connection: close` and HTTP/2 connections get GOAWAY, so clients reconnect elsewhere"),
            key!(plain "fatal_panics", Some("GRACEFUL_HTTP_FATAL_PANICS"), fatal_panics, value::boolean,
                "a request handler that panics is answered 500 and counted; `true` also starts the shutdown (exit 69)"),
        ],
        check: no_rules,
    };

    /// The defaults, overridden by the `[http]` table of `config`'s file, overridden by the
    /// `GRACEFUL_HTTP_*` variables of `env`. Every problem is reported at once, naming the
    /// key, the source (file and line, or variable) and the accepted forms.
    pub fn load(config: &Config, env: &Env) -> Result<Self, ConfigError> {
        HttpConfig::KEYS.load(HttpConfig::default(), config, env)
    }

    /// The `[http]` section of `config` as it was loaded with the rest of the configuration
    /// (the defaults < the file < the `GRACEFUL_HTTP_*` variables of the environment the
    /// configuration was read with): what [`serve`](crate::http::serve) uses when it is not
    /// given a configuration. For a configuration that was never loaded, the section is read
    /// from its file table alone.
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        config.section(&HttpConfig::KEYS)
    }

    /// [`request_grace`](Self::request_grace), at most half of `drain_timeout`.
    pub(crate) fn grace_within(&self, drain_timeout: Duration) -> Duration {
        self.request_grace.min(drain_timeout / 2)
    }

    /// The `Retry-After` header value: whole seconds, rounded up, at least 1.
    pub(crate) fn retry_after_secs(&self) -> u64 {
        let d = self.retry_after;
        (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
    }
}

inventory::submit! {
    crate::config::sections::Registration(&HttpConfig::KEYS)
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
    fn grace_and_lame_duck_from_the_file_then_the_environment() {
        let config = with_http("request_grace = \"300ms\"\nlame_duck = false");
        let c = HttpConfig::load(&config, &Env::None).expect("ok");
        assert_eq!(c.request_grace, Duration::from_millis(300));
        assert!(!c.lame_duck);
        let env = Env::Map(
            [
                ("GRACEFUL_HTTP_REQUEST_GRACE", "2s"),
                ("GRACEFUL_HTTP_LAME_DUCK", "true"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        );
        let c = HttpConfig::load(&config, &env).expect("ok");
        assert_eq!(
            c.request_grace,
            Duration::from_secs(2),
            "the environment wins"
        );
        assert!(c.lame_duck);
        assert_eq!(
            HttpConfig::default().request_grace,
            Duration::from_secs(1),
            "the default"
        );
    }

    #[test]
    fn a_bad_grace_names_the_variable_and_the_accepted_forms() {
        let env = Env::Map(
            [
                ("GRACEFUL_HTTP_REQUEST_GRACE", "soon"),
                ("GRACEFUL_HTTP_LAME_DUCK", "maybe"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        );
        let e = HttpConfig::load(&Config::default(), &env).expect_err("bad values");
        assert_eq!(e.issues.len(), 2, "{e}");
        let text = e.to_string();
        assert!(text.contains("GRACEFUL_HTTP_REQUEST_GRACE"), "{text}");
        assert!(text.contains("GRACEFUL_HTTP_LAME_DUCK"), "{text}");
    }

    #[test]
    fn the_grace_never_passes_half_the_drain() {
        let c = HttpConfig {
            request_grace: Duration::from_secs(30),
            ..HttpConfig::default()
        };
        assert_eq!(
            c.grace_within(Duration::from_secs(10)),
            Duration::from_secs(5)
        );
        assert_eq!(
            HttpConfig::default().grace_within(Duration::from_secs(10)),
            Duration::from_secs(1)
        );
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
