//! The admin listener's configuration: builder < `[admin]` file section < `GRACEFUL_ADMIN_*`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::{
    Config, ConfigError, ConfigIssue, Env, Setting, Source, did_you_mean, set_duration,
};

use super::auth::{ApiKey, Scope, Scopes};

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
];

/// One of the admin API's routes. Its path is `prefix + name`; see [`AdminConfig::routes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// `GET /health/live`: 200 while the process runs. No key.
    Live,
    /// `GET /health/ready`: 200 while running, 503 from the first moment of shutdown. No key.
    Ready,
    /// `GET /health`: both, plus resource states. No key.
    Health,
    /// `GET /status`: phase, state, uptime, in-flight work, resources, progress. Scope `read`.
    Status,
    /// `GET /process`: pid, uptime, memory, CPU, threads, open fds. Scope `read`.
    Process,
    /// `GET /config`: the effective configuration with sources, secrets redacted. Scope `read`.
    Config,
    /// `GET /metrics`: Prometheus text. Scope `read`.
    Metrics,
    /// `GET /events`: Server-Sent Events of phase changes and resource closes. Scope `read`.
    Events,
    /// `POST /shutdown` starts a graceful shutdown, `DELETE /shutdown` forces one. Scope `system`.
    Shutdown,
}

impl Route {
    /// Every route.
    pub const ALL: [Route; 9] = [
        Route::Live,
        Route::Ready,
        Route::Health,
        Route::Status,
        Route::Process,
        Route::Config,
        Route::Metrics,
        Route::Events,
        Route::Shutdown,
    ];

    /// The key of the route in `[admin.routes]`.
    pub fn key(self) -> &'static str {
        match self {
            Route::Live => "live",
            Route::Ready => "ready",
            Route::Health => "health",
            Route::Status => "status",
            Route::Process => "process",
            Route::Config => "config",
            Route::Metrics => "metrics",
            Route::Events => "events",
            Route::Shutdown => "shutdown",
        }
    }

    /// The default path (before the prefix).
    pub fn default_path(self) -> &'static str {
        match self {
            Route::Live => "/health/live",
            Route::Ready => "/health/ready",
            Route::Health => "/health",
            Route::Status => "/status",
            Route::Process => "/process",
            Route::Config => "/config",
            Route::Metrics => "/metrics",
            Route::Events => "/events",
            Route::Shutdown => "/shutdown",
        }
    }

    /// The methods the route answers.
    pub fn methods(self) -> &'static [&'static str] {
        match self {
            Route::Shutdown => &["POST", "DELETE"],
            _ => &["GET"],
        }
    }

    /// The scope a key needs, or `None` for the probes.
    pub fn scope(self) -> Option<Scope> {
        match self {
            Route::Live | Route::Ready | Route::Health => None,
            Route::Shutdown => Some(Scope::System),
            _ => Some(Scope::Read),
        }
    }

    fn parse(key: &str) -> Option<Route> {
        Route::ALL.into_iter().find(|r| r.key() == key)
    }
}

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
    /// How long a client may take to send its request headers (default 5s).
    pub header_timeout: Setting<Duration>,
    /// How long a client may take to send its request body (default 5s).
    pub body_timeout: Setting<Duration>,
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
                .into_iter()
                .map(|r| (r, Setting::default_value(r.default_path().to_string())))
                .collect(),
            api_keys: Vec::new(),
            max_shutdown_timeout: Setting::default_value(Duration::from_secs(600)),
            body_limit: Setting::default_value(4096),
            max_connections: Setting::default_value(32),
            header_timeout: Setting::default_value(Duration::from_secs(5)),
            body_timeout: Setting::default_value(Duration::from_secs(5)),
        }
    }
}

impl AdminConfig {
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
                "max_shutdown_timeout" | "header_timeout" | "body_timeout" => {
                    match crate::config::duration_value(value) {
                        Ok(d) => match key.as_str() {
                            "max_shutdown_timeout" => {
                                self.max_shutdown_timeout.set(d, source.clone())
                            }
                            "header_timeout" => self.header_timeout.set(d, source.clone()),
                            _ => self.body_timeout.set(d, source.clone()),
                        },
                        Err(e) => fail(key, e),
                    }
                }
                "body_limit" | "max_connections" => match value.as_integer() {
                    Some(n) if n > 0 => {
                        let n = usize::try_from(n).unwrap_or(usize::MAX);
                        if key == "body_limit" {
                            self.body_limit.set(n, source.clone());
                        } else {
                            self.max_connections.set(n, source.clone());
                        }
                    }
                    _ => fail(
                        key,
                        format!("expected a whole number greater than zero, found {value}"),
                    ),
                },
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
        for route in Route::ALL {
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

pub(crate) fn parse_addr(raw: &str) -> Result<SocketAddr, String> {
    raw.trim().parse::<SocketAddr>().map_err(|_| {
        format!("`{raw}` is not a socket address; expected an IP and a port like \"{DEFAULT_ADDR}\" or \"[::1]:9090\"")
    })
}

pub(crate) fn parse_prefix(raw: &str) -> Result<String, String> {
    let p = raw.trim().trim_end_matches('/');
    if p.is_empty() {
        return Ok(String::new());
    }
    if !p.starts_with('/') || p.contains(char::is_whitespace) || p.contains(['?', '#']) {
        return Err(format!(
            "`{raw}` is not a path prefix; expected empty or a path starting with `/`, like \"/api/v1/daemon\""
        ));
    }
    Ok(p.to_string())
}

fn parse_route_path(raw: &str) -> Result<String, String> {
    let p = raw.trim();
    if !p.starts_with('/')
        || p.len() < 2
        || p.ends_with('/')
        || p.contains(char::is_whitespace)
        || p.contains(['?', '#'])
    {
        return Err(format!(
            "`{raw}` is not a route path; expected a path like \"/stop\" or \"/health/live\""
        ));
    }
    Ok(p.to_string())
}

fn read_key_file(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
        .map_err(|e| format!("cannot read the API key file {}: {e}", path.display()))
}

fn file_key(entry: &toml::Value, file: &Path, source: Source) -> Result<ApiKey, String> {
    let Some(t) = entry.as_table() else {
        return Err(format!(
            "expected a table with `key` or `key_file` and `scopes`, found {}",
            entry.type_str()
        ));
    };
    for k in t.keys() {
        if !["key", "key_file", "scopes"].contains(&k.as_str()) {
            return Err(format!(
                "unknown key `{k}`; accepted keys: key, key_file, scopes"
            ));
        }
    }
    let secret = match (t.get("key"), t.get("key_file")) {
        (Some(_), Some(_)) => return Err("set either `key` or `key_file`, not both".into()),
        (Some(toml::Value::String(s)), None) => s.clone(),
        (None, Some(toml::Value::String(p))) => {
            let p = PathBuf::from(p);
            let p = if p.is_relative() {
                file.parent().map_or(p.clone(), |d| d.join(&p))
            } else {
                p
            };
            read_key_file(&p)?
        }
        (None, None) => {
            return Err("missing `key` or `key_file` (a file holding the key is preferred)".into());
        }
        _ => return Err("`key` and `key_file` must be strings".into()),
    };
    let scopes = match t.get("scopes") {
        None => Scopes::ALL,
        Some(toml::Value::Array(items)) => {
            let names: Result<Vec<&str>, String> = items
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| format!("scope {v} is not a string"))
                })
                .collect();
            Scopes::parse(names?.into_iter())?
        }
        Some(other) => {
            return Err(format!(
                "`scopes` must be an array like [\"read\", \"system\"], found {}",
                other.type_str()
            ));
        }
    };
    ApiKey::new(secret, scopes, source)
}

#[cfg(test)]
mod tests {
    use super::*;

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
