//! The admin listener's configuration: builder < `[admin]` file section < `GRACEFUL_ADMIN_*`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use crate::config::{
    Config, ConfigError, ConfigIssue, Env, Setting, Source, did_you_mean, set_duration,
};

use super::auth::ApiKey;
use super::auth::Scopes;
use super::readers::{file_key, parse_addr, parse_prefix, parse_route_path, read_key_file, shown};
pub use super::route::Route;

/// The default address: loopback only.
pub const DEFAULT_ADDR: &str = "127.0.0.1:9090";

/// Environment variables read by the admin listener.
pub const ENV_KEYS: &[&str] = &[
    "GRACEFUL_ADMIN_ADDR",
    "GRACEFUL_ADMIN_PREFIX",
    "GRACEFUL_ADMIN_API_KEY",
    "GRACEFUL_ADMIN_API_KEY_FILE",
    "GRACEFUL_ADMIN_API_KEY_SCOPES",
    "GRACEFUL_ADMIN_MAX_SHUTDOWN_TIMEOUT",
    "GRACEFUL_ADMIN_LINGER",
    "GRACEFUL_ADMIN_MEMORY_THRESHOLD_MB",
    "GRACEFUL_ADMIN_CPU_THRESHOLD_PERCENT",
    "GRACEFUL_ADMIN_METRICS_ADDR",
];

/// The keys of the `[admin]` section.
const FILE_KEYS: &[&str] = &[
    "addr",
    "prefix",
    "routes",
    "api_keys",
    "max_shutdown_timeout",
    "body_limit",
    "max_connections",
    "header_timeout",
    "body_timeout",
    "max_connections_per_peer",
    "linger",
    "memory_threshold_mb",
    "cpu_threshold_percent",
    "metrics_addr",
];

/// The effective admin configuration. Every value remembers where it came from, and `GET
/// /config` shows it (API keys redacted).
#[derive(Clone)]
#[non_exhaustive]
pub struct AdminConfig {
    /// Where the listener binds (`GRACEFUL_ADMIN_ADDR`, `addr`; default `127.0.0.1:9090`).
    pub addr: Setting<SocketAddr>,
    /// Put before every route (`GRACEFUL_ADMIN_PREFIX`, `prefix`; default empty).
    pub prefix: Setting<String>,
    /// The path of each route under the prefix (`[admin.routes]`).
    pub routes: BTreeMap<Route, Setting<String>>,
    /// The API keys (`GRACEFUL_ADMIN_API_KEY[_FILE]`, `[[admin.api_keys]]`). Never shown.
    pub api_keys: Vec<ApiKey>,
    /// The largest `timeout_seconds` a `POST /shutdown` may ask for (default 10 minutes).
    pub max_shutdown_timeout: Setting<Duration>,
    /// The largest request body accepted, in bytes (default 4096); larger gets 413.
    pub body_limit: Setting<usize>,
    /// Connections served at once (default 32); more are answered 503 and closed.
    pub max_connections: Setting<usize>,
    /// Connections one peer (IP address) may hold at once (default: half of
    /// `max_connections`); past it, that peer's longest-waiting connection is closed.
    pub max_connections_per_peer: Setting<Option<usize>>,
    /// How long a client may take to send its request headers (default 2s).
    pub header_timeout: Setting<Duration>,
    /// How long a client may take to send its request body (default 5s).
    pub body_timeout: Setting<Duration>,
    /// How long the admin API keeps answering after the shutdown has finished, when the
    /// program awaits [`AdminHandle::linger`](super::AdminHandle::linger) (`GRACEFUL_ADMIN_LINGER`,
    /// `linger`; default 0: not at all), so that a client polling the status reads `STOPPED`.
    pub linger: Setting<Duration>,
    /// Resident memory, in MB, above which `/health` and the metrics report the service as
    /// degraded (`GRACEFUL_ADMIN_MEMORY_THRESHOLD_MB`, `memory_threshold_mb`; default none).
    pub memory_threshold_mb: Setting<Option<u64>>,
    /// CPU use over the last ten seconds, in percent of one core, above which the service
    /// is reported degraded (`GRACEFUL_ADMIN_CPU_THRESHOLD_PERCENT`, `cpu_threshold_percent`;
    /// default none).
    pub cpu_threshold_percent: Setting<Option<f64>>,
    /// A second listener that serves only the metrics route, without a key, for scrapers
    /// that cannot send one (`GRACEFUL_ADMIN_METRICS_ADDR`, `metrics_addr`; default none).
    pub metrics_addr: Setting<Option<SocketAddr>>,
}

impl std::fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminConfig")
            .field("addr", &self.addr.value)
            .field("prefix", &self.prefix.value)
            .field("api_keys", &self.api_keys)
            .finish_non_exhaustive()
    }
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            addr: Setting::default_value(SocketAddr::from(([127, 0, 0, 1], 9090))),
            prefix: Setting::default_value(String::new()),
            routes: Route::ALL
                .iter()
                .copied()
                .map(|r| (r, Setting::default_value(r.default_path().to_string())))
                .collect(),
            api_keys: Vec::new(),
            max_shutdown_timeout: Setting::default_value(Duration::from_secs(600)),
            body_limit: Setting::default_value(4096),
            max_connections: Setting::default_value(32),
            max_connections_per_peer: Setting::default_value(None),
            header_timeout: Setting::default_value(Duration::from_secs(2)),
            body_timeout: Setting::default_value(Duration::from_secs(5)),
            linger: Setting::default_value(Duration::ZERO),
            memory_threshold_mb: Setting::default_value(None),
            cpu_threshold_percent: Setting::default_value(None),
            metrics_addr: Setting::default_value(None),
        }
    }
}

impl AdminConfig {
    /// The connections one peer may hold: `max_connections_per_peer`, else half of
    /// `max_connections` (at least one).
    pub fn per_peer_limit(&self) -> usize {
        let max = self.max_connections.value.max(1);
        self.max_connections_per_peer
            .value
            .unwrap_or(max.div_ceil(2))
            .clamp(1, max)
    }

    /// The full path of `route`: prefix + route name.
    pub fn path(&self, route: Route) -> String {
        let name = self
            .routes
            .get(&route)
            .map_or(route.default_path(), |s| s.value.as_str());
        format!("{}{}", self.prefix.value, name)
    }

    /// Applies the `[admin]` section of `config`'s file, then the `GRACEFUL_ADMIN_*` variables
    /// of `env`. Every problem is reported at once, naming the key, the source and what is
    /// accepted.
    pub fn load(mut self, config: &Config, env: &Env) -> Result<Self, ConfigError> {
        let mut issues = Vec::new();
        if let Some((table, path)) = config.section("admin") {
            self.apply_file(table, path, &mut issues);
        }
        self.apply_env(env, &mut issues);
        self.validate(&mut issues);
        if issues.is_empty() {
            Ok(self)
        } else {
            Err(ConfigError { issues })
        }
    }

    fn apply_file(&mut self, table: &toml::Table, path: &Path, issues: &mut Vec<ConfigIssue>) {
        let source = Source::File(path.to_path_buf());
        let mut fail = |key: &str, message: String| {
            issues.push(ConfigIssue {
                key: format!("admin.{key}"),
                source: source.clone(),
                message,
            })
        };
        for (key, value) in table {
            match key.as_str() {
                "metrics_addr" => match value.as_str().map(parse_addr) {
                    Some(Ok(a)) => self.metrics_addr.set(Some(a), source.clone()),
                    Some(Err(e)) => fail(key, e),
                    None => fail(
                        key,
                        format!(
                            "expected a string like \"0.0.0.0:9091\", found {}",
                            value.type_str()
                        ),
                    ),
                },
                "addr" => match value.as_str().map(parse_addr) {
                    Some(Ok(a)) => self.addr.set(a, source.clone()),
                    Some(Err(e)) => fail(key, e),
                    None => fail(
                        key,
                        format!(
                            "expected a string like \"{DEFAULT_ADDR}\", found {}",
                            value.type_str()
                        ),
                    ),
                },
                "prefix" => match value.as_str().map(parse_prefix) {
                    Some(Ok(p)) => self.prefix.set(p, source.clone()),
                    Some(Err(e)) => fail(key, e),
                    None => fail(
                        key,
                        format!(
                            "expected a string like \"/admin\", found {}",
                            value.type_str()
                        ),
                    ),
                },
                "routes" => match value.as_table() {
                    Some(routes) => {
                        for (name, path) in routes {
                            let Some(route) = Route::parse(name) else {
                                let names: Vec<&str> = Route::ALL.iter().map(|r| r.key()).collect();
                                fail(
                                    &format!("routes.{name}"),
                                    format!(
                                        "unknown route `{name}`{}; accepted routes: {}",
                                        did_you_mean(name, &names),
                                        names.join(", ")
                                    ),
                                );
                                continue;
                            };
                            match path.as_str().map(parse_route_path) {
                                Some(Ok(p)) => {
                                    if let Some(s) = self.routes.get_mut(&route) {
                                        s.set(p, source.clone());
                                    }
                                }
                                Some(Err(e)) => fail(&format!("routes.{name}"), e),
                                None => fail(
                                    &format!("routes.{name}"),
                                    format!(
                                        "expected a path string like \"/stop\", found {}",
                                        path.type_str()
                                    ),
                                ),
                            }
                        }
                    }
                    None => fail(
                        key,
                        format!(
                            "expected a table like `[admin.routes]` `shutdown = \"/stop\"`, found {}",
                            value.type_str()
                        ),
                    ),
                },
                "api_keys" => match value.as_array() {
                    Some(keys) => {
                        for (i, entry) in keys.iter().enumerate() {
                            match file_key(entry, path, source.clone()) {
                                Ok(k) => self.api_keys.push(k),
                                Err(e) => fail(&format!("api_keys[{i}]"), e),
                            }
                        }
                    }
                    None => fail(
                        key,
                        format!(
                            "expected an array of tables like `[[admin.api_keys]]` `key_file = \"/run/secrets/admin\"` \
                             `scopes = [\"read\"]`, found {}",
                            value.type_str()
                        ),
                    ),
                },
                "max_shutdown_timeout" | "header_timeout" | "body_timeout" | "linger" => {
                    match crate::config::duration_value(value) {
                        Ok(d) => match key.as_str() {
                            "max_shutdown_timeout" => {
                                self.max_shutdown_timeout.set(d, source.clone())
                            }
                            "header_timeout" => self.header_timeout.set(d, source.clone()),
                            "linger" => self.linger.set(d, source.clone()),
                            _ => self.body_timeout.set(d, source.clone()),
                        },
                        Err(e) => fail(key, e),
                    }
                }
                "body_limit" | "max_connections" | "max_connections_per_peer" => {
                    match value.as_integer() {
                        Some(n) if n > 0 => {
                            let n = usize::try_from(n).unwrap_or(usize::MAX);
                            match key.as_str() {
                                "body_limit" => self.body_limit.set(n, source.clone()),
                                "max_connections" => self.max_connections.set(n, source.clone()),
                                _ => self.max_connections_per_peer.set(Some(n), source.clone()),
                            }
                        }
                        _ => fail(
                            key,
                            format!(
                                "expected a whole number greater than zero, found {}",
                                shown(value)
                            ),
                        ),
                    }
                }
                "memory_threshold_mb" => match value.as_integer() {
                    Some(n) if n > 0 => self
                        .memory_threshold_mb
                        .set(u64::try_from(n).ok(), source.clone()),
                    _ => fail(
                        key,
                        format!(
                            "expected a whole number of megabytes greater than zero, found {}",
                            shown(value)
                        ),
                    ),
                },
                "cpu_threshold_percent" => {
                    match value
                        .as_float()
                        .or_else(|| value.as_integer().map(|i| i as f64))
                    {
                        Some(p) if p > 0.0 && p.is_finite() => {
                            self.cpu_threshold_percent.set(Some(p), source.clone())
                        }
                        _ => fail(
                            key,
                            format!(
                                "expected a percentage of one core greater than zero (e.g. 80 or 150 for one and a half cores), found {}",
                                shown(value)
                            ),
                        ),
                    }
                }
                unknown => fail(
                    unknown,
                    format!(
                        "unknown key `{unknown}` in `[admin]`{}; accepted keys: {}",
                        did_you_mean(unknown, FILE_KEYS),
                        FILE_KEYS.join(", ")
                    ),
                ),
            }
        }
    }

    fn apply_env(&mut self, env: &Env, issues: &mut Vec<ConfigIssue>) {
        let mut fail = |var: &str, message: String| {
            issues.push(ConfigIssue {
                key: var.to_string(),
                source: Source::Env(var.to_string()),
                message,
            })
        };
        if let Some(raw) = env.get("GRACEFUL_ADMIN_ADDR") {
            match parse_addr(&raw) {
                Ok(a) => self.addr.set(a, Source::Env("GRACEFUL_ADMIN_ADDR".into())),
                Err(e) => fail("GRACEFUL_ADMIN_ADDR", e),
            }
        }
        if let Some(raw) = env.get("GRACEFUL_ADMIN_METRICS_ADDR") {
            match parse_addr(&raw) {
                Ok(a) => self
                    .metrics_addr
                    .set(Some(a), Source::Env("GRACEFUL_ADMIN_METRICS_ADDR".into())),
                Err(e) => fail("GRACEFUL_ADMIN_METRICS_ADDR", e),
            }
        }
        if let Some(raw) = env.get("GRACEFUL_ADMIN_PREFIX") {
            match parse_prefix(&raw) {
                Ok(p) => self
                    .prefix
                    .set(p, Source::Env("GRACEFUL_ADMIN_PREFIX".into())),
                Err(e) => fail("GRACEFUL_ADMIN_PREFIX", e),
            }
        }
        if let Some(raw) = env.get("GRACEFUL_ADMIN_MAX_SHUTDOWN_TIMEOUT") {
            set_duration(
                &mut self.max_shutdown_timeout,
                &raw,
                Source::Env("GRACEFUL_ADMIN_MAX_SHUTDOWN_TIMEOUT".into()),
                &mut |e| fail("GRACEFUL_ADMIN_MAX_SHUTDOWN_TIMEOUT", e),
            );
        }
        if let Some(raw) = env.get("GRACEFUL_ADMIN_LINGER") {
            set_duration(
                &mut self.linger,
                &raw,
                Source::Env("GRACEFUL_ADMIN_LINGER".into()),
                &mut |e| fail("GRACEFUL_ADMIN_LINGER", e),
            );
        }
        if let Some(raw) = env.get("GRACEFUL_ADMIN_MEMORY_THRESHOLD_MB") {
            match raw.trim().parse::<u64>() {
                Ok(n) if n > 0 => self.memory_threshold_mb.set(
                    Some(n),
                    Source::Env("GRACEFUL_ADMIN_MEMORY_THRESHOLD_MB".into()),
                ),
                _ => fail(
                    "GRACEFUL_ADMIN_MEMORY_THRESHOLD_MB",
                    format!(
                        "`{raw}` is not a whole number of megabytes greater than zero, like 512"
                    ),
                ),
            }
        }
        if let Some(raw) = env.get("GRACEFUL_ADMIN_CPU_THRESHOLD_PERCENT") {
            match raw.trim().trim_end_matches('%').parse::<f64>() {
                Ok(p) if p > 0.0 && p.is_finite() => self.cpu_threshold_percent.set(
                    Some(p),
                    Source::Env("GRACEFUL_ADMIN_CPU_THRESHOLD_PERCENT".into()),
                ),
                _ => fail(
                    "GRACEFUL_ADMIN_CPU_THRESHOLD_PERCENT",
                    format!("`{raw}` is not a percentage of one core greater than zero, like 80"),
                ),
            }
        }
        let scopes = match env.get("GRACEFUL_ADMIN_API_KEY_SCOPES") {
            None => Ok(Scopes::ALL),
            Some(raw) => Scopes::parse(raw.split(',').map(str::trim).filter(|s| !s.is_empty())),
        };
        let scopes = match scopes {
            Ok(s) => s,
            Err(e) => {
                fail("GRACEFUL_ADMIN_API_KEY_SCOPES", e);
                Scopes::ALL
            }
        };
        let inline = env.get("GRACEFUL_ADMIN_API_KEY");
        let file = env.get("GRACEFUL_ADMIN_API_KEY_FILE");
        match (inline, file) {
            (Some(_), Some(_)) => fail(
                "GRACEFUL_ADMIN_API_KEY",
                "both GRACEFUL_ADMIN_API_KEY and GRACEFUL_ADMIN_API_KEY_FILE are set; set only one"
                    .into(),
            ),
            (Some(secret), None) => {
                match ApiKey::new(secret, scopes, Source::Env("GRACEFUL_ADMIN_API_KEY".into())) {
                    Ok(k) => self.api_keys.push(k),
                    Err(e) => fail("GRACEFUL_ADMIN_API_KEY", e),
                }
            }
            (None, Some(path)) => match read_key_file(Path::new(&path)) {
                Ok(secret) => match ApiKey::new(
                    secret,
                    scopes,
                    Source::Env("GRACEFUL_ADMIN_API_KEY_FILE".into()),
                ) {
                    Ok(k) => self.api_keys.push(k),
                    Err(e) => fail("GRACEFUL_ADMIN_API_KEY_FILE", format!("{path}: {e}")),
                },
                Err(e) => fail("GRACEFUL_ADMIN_API_KEY_FILE", e),
            },
            (None, None) => {}
        }
    }

    fn validate(&self, issues: &mut Vec<ConfigIssue>) {
        if let Err(e) = parse_prefix(&self.prefix.value) {
            issues.push(ConfigIssue {
                key: "admin.prefix".into(),
                source: self.prefix.source.clone(),
                message: e,
            });
        }
        for (route, path) in &self.routes {
            if let Err(e) = parse_route_path(&path.value) {
                issues.push(ConfigIssue {
                    key: format!("admin.routes.{}", route.key()),
                    source: path.source.clone(),
                    message: e,
                });
            }
        }
        let mut seen: BTreeMap<String, Route> = BTreeMap::new();
        for &route in Route::ALL {
            let path = self.path(route);
            if let Some(other) = seen.insert(path.clone(), route) {
                let source = self
                    .routes
                    .get(&route)
                    .map_or(Source::Default, |s| s.source.clone());
                issues.push(ConfigIssue {
                    key: format!("admin.routes.{}", route.key()),
                    source,
                    message: format!(
                        "`{path}` is already the path of route `{}`; each route needs its own path",
                        other.key()
                    ),
                });
            }
        }
        if self.max_shutdown_timeout.value.is_zero() {
            issues.push(ConfigIssue {
                key: "admin.max_shutdown_timeout".into(),
                source: self.max_shutdown_timeout.source.clone(),
                message: "must be greater than zero".into(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::auth::Scope;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn defaults_are_loopback_without_keys() {
        let c = AdminConfig::default()
            .load(&Config::default(), &Env::None)
            .expect("valid");
        assert!(c.addr.value.ip().is_loopback());
        assert!(c.api_keys.is_empty());
        assert_eq!(c.path(Route::Live), "/health/live");
    }

    #[test]
    fn classic_daemon_layout_from_the_file() {
        let config = Config::default()
            .apply_toml(
                "[admin]\nprefix = \"/api/v1/daemon/\"\n[admin.routes]\nshutdown = \"/stop\"\n",
                "/etc/app.toml",
            )
            .expect("valid");
        let c = AdminConfig::default()
            .load(&config, &Env::None)
            .expect("valid");
        assert_eq!(c.path(Route::Shutdown), "/api/v1/daemon/stop");
        assert_eq!(c.path(Route::Status), "/api/v1/daemon/status");
        assert_eq!(c.path(Route::Events), "/api/v1/daemon/events");
    }

    #[test]
    fn bad_values_name_key_source_and_accepted_forms() {
        let config = Config::default()
            .apply_toml(
                "[admin]\nadr = \"x\"\naddr = \"localhost\"\nbody_limit = -1\n[admin.routes]\nstop = \"/x\"\n",
                "/etc/app.toml",
            )
            .expect("the core accepts any [admin] table");
        let err = AdminConfig::default()
            .load(&config, &Env::None)
            .expect_err("invalid");
        let text = err.to_string();
        assert!(
            text.contains("admin.adr")
                && text.contains("did you mean `addr`")
                && text.contains("accepted keys"),
            "{text}"
        );
        assert!(
            text.contains("admin.addr") && text.contains("127.0.0.1:9090"),
            "{text}"
        );
        assert!(text.contains("admin.body_limit"), "{text}");
        assert!(
            text.contains("admin.routes.stop") && text.contains("accepted routes"),
            "{text}"
        );
        assert!(text.contains("/etc/app.toml"), "{text}");
        let err = AdminConfig::default()
            .load(
                &Config::default(),
                &env(&[
                    ("GRACEFUL_ADMIN_API_KEY_SCOPES", "read,admin"),
                    ("GRACEFUL_ADMIN_ADDR", "x"),
                ]),
            )
            .expect_err("invalid");
        let text = err.to_string();
        assert!(
            text.contains("GRACEFUL_ADMIN_API_KEY_SCOPES") && text.contains("read, system"),
            "{text}"
        );
        assert!(text.contains("env GRACEFUL_ADMIN_ADDR"), "{text}");
    }

    #[test]
    fn keys_come_from_env_with_scopes() {
        let c = AdminConfig::default()
            .load(
                &Config::default(),
                &env(&[
                    ("GRACEFUL_ADMIN_API_KEY", "0123456789abcdef"),
                    ("GRACEFUL_ADMIN_API_KEY_SCOPES", "read"),
                ]),
            )
            .expect("valid");
        assert_eq!(c.api_keys.len(), 1);
        assert!(c.api_keys[0].scopes().contains(Scope::Read));
        assert!(!c.api_keys[0].scopes().contains(Scope::System));
        assert!(
            !format!("{c:?}").contains("0123456789abcdef"),
            "Debug must not show the key"
        );
    }

    #[test]
    fn grace_period_arithmetic_warns() {
        let short = Config::default()
            .load(
                None,
                &env(&[
                    ("SHUTDOWN_GRACE_PERIOD", "40s"),
                    ("SHUTDOWN_READINESS_DELAY", "5s"),
                ]),
            )
            .expect("valid");
        // 5s + 10s (drain) + 5s (close) + 2s (margin) = 22s fits in 40s.
        assert!(short.warnings().is_empty(), "{:?}", short.warnings());
        let tight = Config::default()
            .load(
                None,
                &env(&[
                    ("SHUTDOWN_GRACE_PERIOD", "20s"),
                    ("SHUTDOWN_READINESS_DELAY", "5s"),
                ]),
            )
            .expect("valid");
        let w = tight.warnings().join("\n");
        assert!(
            w.contains("= 22s") && w.contains("env SHUTDOWN_GRACE_PERIOD"),
            "{w}"
        );
    }

    #[test]
    fn duplicate_paths_are_rejected() {
        let config = Config::default()
            .apply_toml(
                "[admin]\n[admin.routes]\nstatus = \"/health\"\n",
                "/etc/app.toml",
            )
            .expect("valid");
        let err = AdminConfig::default()
            .load(&config, &Env::None)
            .expect_err("dup");
        assert!(
            err.to_string().contains("already the path of route"),
            "{err}"
        );
    }
}
