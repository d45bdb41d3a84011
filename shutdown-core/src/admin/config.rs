//! The admin listener's configuration: builder < `[admin]` file section < `GRACEFUL_ADMIN_*`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::{
    Config, ConfigError, ConfigIssue, Env, Input, Key, Section, Setting, Shown, Source, key, toml,
    value,
};

use super::auth::ApiKey;
use super::auth::Scopes;
use super::readers::{file_key, parse_addr, parse_prefix, parse_route_path, read_key_file};
pub(crate) use super::route::Route;

pub use super::readers::DEFAULT_ADDR;

/// The variables that configure API keys (read together, so they are not rows of
/// the `[admin]` key table).
pub const KEY_ENV: &[&str] = &[
    "GRACEFUL_ADMIN_API_KEY",
    "GRACEFUL_ADMIN_API_KEY_FILE",
    "GRACEFUL_ADMIN_API_KEY_SCOPES",
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
    /// `max_connections`); past it, that peer's longest-waiting connection with nothing unread
    /// gives its slot up (answered 503 and closed).
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

    /// The keys of the `[admin]` table and their `GRACEFUL_ADMIN_*` variables.
    pub(crate) const KEYS: Section<AdminConfig> = Section {
        name: "admin",
        keys: &[
            key!(
                "addr",
                Some("GRACEFUL_ADMIN_ADDR"),
                addr,
                addr,
                "where the listener binds (`admin = …` in `#[graceful::main]`)"
            ),
            key!(
                "prefix",
                Some("GRACEFUL_ADMIN_PREFIX"),
                prefix,
                prefix,
                "put before every route, like `\"/api/v1/daemon\"`"
            ),
            Key {
                name: "routes",
                env: None,
                doc: "the path of each route under the prefix: `[admin.routes]` `shutdown = \"/stop\"`",
                read: read_routes,
                show: |c| {
                    Shown::Map(
                        c.routes
                            .iter()
                            .map(|(r, s)| {
                                let path = Shown::Text(c.path(*r));
                                (
                                    r.key().to_string(),
                                    Shown::Set(Box::new(path), s.source.clone()),
                                )
                            })
                            .collect(),
                    )
                },
                fill: |c, lower| {
                    for (route, path) in &lower.routes {
                        if c.routes
                            .get(route)
                            .is_none_or(|s| s.source == Source::Default)
                        {
                            c.routes.insert(*route, path.clone());
                        }
                    }
                },
            },
            Key {
                name: "api_keys",
                env: None,
                doc: "`[[admin.api_keys]]` with `key_file` (or `key`) and `scopes`; also `GRACEFUL_ADMIN_API_KEY[_FILE]` and `GRACEFUL_ADMIN_API_KEY_SCOPES`; never shown",
                read: read_api_keys,
                show: |c| Shown::List(c.api_keys.iter().map(shown_key).collect()),
                // Keys add up: the lower layer's first.
                fill: |c, lower| {
                    let loaded = std::mem::replace(&mut c.api_keys, lower.api_keys.clone());
                    c.api_keys.extend(loaded);
                },
            },
            key!(
                "max_shutdown_timeout",
                Some("GRACEFUL_ADMIN_MAX_SHUTDOWN_TIMEOUT"),
                max_shutdown_timeout,
                value::duration,
                "the largest `timeout_seconds` a `POST /shutdown` may ask for"
            ),
            key!(
                "body_limit",
                Some("GRACEFUL_ADMIN_BODY_LIMIT"),
                body_limit,
                value::positive_count,
                "the largest request body in bytes; larger gets 413"
            ),
            key!(
                "max_connections",
                Some("GRACEFUL_ADMIN_MAX_CONNECTIONS"),
                max_connections,
                value::positive_count,
                "connections served at once; more are answered 503"
            ),
            Key {
                name: "max_connections_per_peer",
                env: Some("GRACEFUL_ADMIN_MAX_CONNECTIONS_PER_PEER"),
                doc: "connections one peer may hold (unset: half of `max_connections`); past it, its longest-waiting one with nothing unread is answered 503 and closed",
                read: |c, input, source| {
                    let n = value::positive_count(input)?;
                    c.max_connections_per_peer.set(Some(n), source);
                    Ok(())
                },
                // The effective limit, with the source of the setting.
                show: |c| {
                    let limit =
                        Shown::Number(u64::try_from(c.per_peer_limit()).unwrap_or(u64::MAX));
                    Shown::Set(Box::new(limit), c.max_connections_per_peer.source.clone())
                },
                fill: |c, lower| {
                    if c.max_connections_per_peer.source == Source::Default {
                        c.max_connections_per_peer = lower.max_connections_per_peer.clone();
                    }
                },
            },
            key!(
                "header_timeout",
                Some("GRACEFUL_ADMIN_HEADER_TIMEOUT"),
                header_timeout,
                value::duration,
                "how long a client may take to send its request headers"
            ),
            key!(
                "body_timeout",
                Some("GRACEFUL_ADMIN_BODY_TIMEOUT"),
                body_timeout,
                value::duration,
                "how long a client may take to send its request body"
            ),
            key!(
                "linger",
                Some("GRACEFUL_ADMIN_LINGER"),
                linger,
                value::duration,
                "how long the API keeps answering after the shutdown, when the program awaits `AdminHandle::linger`"
            ),
            key!(
                "memory_threshold_mb",
                Some("GRACEFUL_ADMIN_MEMORY_THRESHOLD_MB"),
                memory_threshold_mb,
                megabytes,
                "resident memory in MB above which `/health` and the metrics say `degraded`"
            ),
            key!(
                "cpu_threshold_percent",
                Some("GRACEFUL_ADMIN_CPU_THRESHOLD_PERCENT"),
                cpu_threshold_percent,
                percent,
                "CPU use over the last 10 s, in percent of one core, above which the service is `degraded`"
            ),
            key!(
                "metrics_addr",
                Some("GRACEFUL_ADMIN_METRICS_ADDR"),
                metrics_addr,
                some_addr,
                "a second listener serving only the metrics route, without a key"
            ),
        ],
        check: |c, _config, env, issues| {
            c.apply_key_env(env, issues);
            c.validate(issues);
        },
    };

    /// Applies the `[admin]` section of `config`'s file, then the `GRACEFUL_ADMIN_*` variables
    /// of `env`. Every problem is reported at once, naming the key, the source and what is
    /// accepted.
    pub fn load(self, config: &Config, env: &Env) -> Result<Self, ConfigError> {
        AdminConfig::KEYS.load(self, config, env)
    }

    /// The `[admin]` section `config` loaded (defaults < file < the `GRACEFUL_ADMIN_*`
    /// variables of the environment the configuration was read with), with `self`'s values
    /// (a builder's) where neither the file nor the environment set the key.
    ///
    /// # Errors
    /// A builder value that breaks a rule of the section (a bad prefix, two routes on one
    /// path).
    pub fn under(self, config: &Config) -> Result<Self, ConfigError> {
        let mut loaded = config.section(&AdminConfig::KEYS)?;
        AdminConfig::KEYS.fill(&mut loaded, &self);
        let mut issues = Vec::new();
        loaded.validate(&mut issues);
        if issues.is_empty() {
            Ok(loaded)
        } else {
            Err(ConfigError { issues })
        }
    }

    /// The API key variables, which are read together.
    fn apply_key_env(&mut self, env: &Env, issues: &mut Vec<ConfigIssue>) {
        let mut fail = |var: &str, message: String| {
            issues.push(ConfigIssue {
                key: var.to_string(),
                source: Source::Env(var.to_string()),
                message,
            })
        };
        let scopes = match env.get("GRACEFUL_ADMIN_API_KEY_SCOPES") {
            None => Ok(Scopes::ALL),
            Some(raw) => Scopes::parse(raw.split(',').map(str::trim).filter(|s| !s.is_empty())),
        };
        let scopes = match scopes {
            Ok(s) => s,
            Err(e) => {
                fail("GRACEFUL_ADMIN_API_KEY_SCOPES", e.to_string());
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
                    Err(e) => fail("GRACEFUL_ADMIN_API_KEY", e.to_string()),
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

inventory::submit! {
    crate::config::sections::Registration(&AdminConfig::KEYS)
}

/// An API key as `GET /config` shows it: never the secret.
fn shown_key(k: &ApiKey) -> Shown {
    let scopes = k
        .scopes()
        .names()
        .into_iter()
        .map(|n| Shown::Text(n.into()));
    Shown::Map(vec![
        ("key".into(), Shown::Text("<redacted>".into())),
        ("scopes".into(), Shown::List(scopes.collect())),
        ("source".into(), Shown::Text(k.source().to_string())),
    ])
}

/// `[admin.routes]`: `<route> = "/path"`; every bad entry is named.
fn read_routes(c: &mut AdminConfig, input: Input<'_>, source: Source) -> Result<(), String> {
    let Input::File(toml::Value::Table(routes)) = input else {
        return Err(format!(
            "expected a table like `[admin.routes]` `shutdown = \"/stop\"`, found {}",
            input.describe()
        ));
    };
    let names: Vec<&str> = Route::ALL.iter().map(|r| r.key()).collect();
    let mut problems = Vec::new();
    for (name, path) in routes {
        let Some(route) = Route::parse(name) else {
            problems.push(format!(
                "unknown route `{name}`{}; accepted routes: {}",
                shutdown_grammar::hint(name, &names),
                names.join(", ")
            ));
            continue;
        };
        match value::text(Input::File(path)).and_then(|p| parse_route_path(&p)) {
            Ok(p) => {
                if let Some(s) = c.routes.get_mut(&route) {
                    s.set(p, source.clone());
                }
            }
            Err(e) => problems.push(format!("routes.{name}: {e}")),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// `[[admin.api_keys]]`; every bad entry is named.
fn read_api_keys(c: &mut AdminConfig, input: Input<'_>, source: Source) -> Result<(), String> {
    let Input::File(toml::Value::Array(keys)) = input else {
        return Err(format!(
            "expected an array of tables like `[[admin.api_keys]]` `key_file = \"/run/secrets/admin\"` \
             `scopes = [\"read\"]`, found {}",
            input.describe()
        ));
    };
    let file = match &source {
        Source::File(p) => p.clone(),
        _ => PathBuf::new(),
    };
    let mut problems = Vec::new();
    for (i, entry) in keys.iter().enumerate() {
        match file_key(entry, &file, source.clone()) {
            Ok(k) => c.api_keys.push(k),
            Err(e) => problems.push(format!("api_keys[{i}]: {e}")),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn addr(input: Input<'_>) -> Result<SocketAddr, String> {
    match input.text() {
        Some(t) => parse_addr(t),
        None => Err(format!(
            "expected a string like \"{DEFAULT_ADDR}\", found {}",
            input.describe()
        )),
    }
}

fn some_addr(input: Input<'_>) -> Result<Option<SocketAddr>, String> {
    match input.text() {
        Some(t) => parse_addr(t).map(Some),
        None => Err(format!(
            "expected a string like \"0.0.0.0:9091\", found {}",
            input.describe()
        )),
    }
}

fn prefix(input: Input<'_>) -> Result<String, String> {
    match input.text() {
        Some(t) => parse_prefix(t),
        None => Err(format!(
            "expected a string like \"/admin\", found {}",
            input.describe()
        )),
    }
}

/// Whole megabytes greater than zero.
fn megabytes(input: Input<'_>) -> Result<Option<u64>, String> {
    let n = match input {
        Input::File(toml::Value::Integer(n)) => u64::try_from(*n).ok(),
        _ => input.text().and_then(|t| t.trim().parse::<u64>().ok()),
    };
    match n {
        Some(n) if n > 0 => Ok(Some(n)),
        _ => Err(format!(
            "expected a whole number of megabytes greater than zero, like 512, found {}",
            input.describe()
        )),
    }
}

/// A percentage of one core greater than zero (`80`, `150`, `80%`).
fn percent(input: Input<'_>) -> Result<Option<f64>, String> {
    #[allow(clippy::cast_precision_loss)] // percentages are small whole numbers
    let p = match input {
        Input::File(toml::Value::Integer(n)) => Some(*n as f64),
        Input::File(toml::Value::Float(x)) => Some(*x),
        _ => input
            .text()
            .and_then(|t| t.trim().trim_end_matches('%').parse::<f64>().ok()),
    };
    match p {
        Some(p) if p > 0.0 && p.is_finite() => Ok(Some(p)),
        _ => Err(format!(
            "expected a percentage of one core greater than zero (e.g. 80, or 150 for one and a half cores), found {}",
            input.describe()
        )),
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
            text.contains("admin.routes")
                && text.contains("unknown route `stop`")
                && text.contains("accepted routes"),
            "{text}"
        );
        assert!(text.contains("/etc/app.toml"), "{text}");
        assert!(
            text.contains("line 2: unknown key `adr` in `[admin]`"),
            "the shared section reader names the line: {text}"
        );
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
    fn operations_doc_table_is_the_key_table() {
        let doc = include_str!("../../../docs/operations.md");
        crate::config::tests::assert_doc_table(
            doc,
            "docs/operations.md",
            "admin",
            &AdminConfig::KEYS.markdown(),
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
