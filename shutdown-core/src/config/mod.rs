//! Configuration: defaults < builder < `#[graceful::main]` arguments < TOML file < environment.
//!
//! Every value remembers its [`Source`], so `println!("{config}")` shows operators the
//! effective values and where each came from.
//!
//! Each section of the configuration is one key table, inside the crate: the core's and one
//! per feature module (`[admin]`, `[http]`, `[systemd]`, `[state]`, `[upgrade]`). The table
//! drives the file reader, the environment reader, `Display`, the admin API's `GET /config`
//! and the tables in README.md and docs/ (tests check they are in step).
//!
//! The file's path comes from `#[graceful::main(config = "…")]` or `SHUTDOWN_CONFIG` (the
//! environment wins). Tables named in [`SECTIONS`] are kept raw for the feature sections;
//! any other unknown key is an error naming the line. Every feature section registered in
//! `sections.rs` is read by [`Config::load`] with the same environment as the core, and a
//! feature takes its typed value from the loaded configuration.

mod duration;
mod file;
mod key;
pub(crate) mod sections;
mod source;
pub(crate) mod toml;
pub(crate) mod value;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub(crate) use duration::ACCEPTED_FORMS;
pub use duration::{DurationError, parse_duration};
pub(crate) use key::{FileText, key};
pub(crate) use key::{Key, Section, no_rules};
use sections::Loaded;
pub use source::{Setting, Source};
pub(crate) use value::{Input, Shown};

use shutdown_grammar::ArgValue;
use shutdown_grammar::keys;
use shutdown_grammar::rules::{Broken, Deadlines};

use crate::reason::Signal;

/// What [`Config::warnings`] adds to `readiness_delay + drain_timeout + close` for the process
/// to flush and exit before the orchestrator's grace period ends.
pub(crate) const GRACE_MARGIN: Duration = Duration::from_secs(2);

/// Top-level tables of the configuration file that belong to feature modules.
pub(crate) const SECTIONS: &[&str] = &["admin", "http", "state", "systemd", "upgrade"];

/// Top-level tables that are refused, with what to use instead.
pub(crate) const RETIRED_SECTIONS: &[(&str, &str)] = &[
    (
        "kubernetes",
        "graceful reads no `[kubernetes]` table; set the pod's terminationGracePeriodSeconds as \
         `grace_period` (or SHUTDOWN_GRACE_PERIOD) and the endpoint-removal delay as \
         `readiness_delay` at the top level",
    ),
    (
        "metrics",
        "graceful reads no `[metrics]` table; metrics are recorded when the `metrics` feature is \
         enabled and served by the admin API's `/metrics` route, configured in `[admin]`",
    ),
];

/// The effective configuration of an engine.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Config {
    /// Bounds the whole shutdown, from the trigger to the last flush.
    pub timeout: Setting<Duration>,
    /// Bounds `DrainingConnections`.
    pub drain_timeout: Setting<Duration>,
    /// Bounds each resource's close.
    pub resource_close_timeout: Setting<Duration>,
    /// How long listeners keep accepting after readiness turns false.
    pub readiness_delay: Setting<Duration>,
    /// When `true` (default), the process exits with [`FORCED`](crate::exit::FORCED) at
    /// `timeout` even if work is stuck; when `false`, the deadline is recorded and logged but
    /// the process waits for stuck work.
    pub force_after_timeout: Setting<bool>,
    /// When `true` (default), `DrainingConnections` waits for tracked in-flight work (up to
    /// `drain_timeout`); when `false`, the drain does not wait and the shutdown goes straight
    /// on to saving state and closing resources.
    pub wait_for_connections: Setting<bool>,
    /// Which signals start a shutdown.
    pub signals: Setting<Vec<Signal>>,
    /// A signal that arrives again within this window of the same signal is a copy of it, not
    /// a second signal (a process-group kill plus a forwarding wrapper delivers two). A second
    /// signal after the window ends the process at once. `0` counts every copy.
    pub signal_repeat_window: Setting<Duration>,
    /// How long the [`SavingState`](crate::Phase::SavingState) hooks may still run when the
    /// shutdown is forced (`DELETE /shutdown`, [`Shutdown::force`](crate::Shutdown::force), an
    /// expired deadline). The engine keeps this much of the overall timeout for them (at most
    /// half of it) when any are registered. `0`: a forced shutdown skips the save.
    pub forced_save_timeout: Setting<Duration>,
    /// Optional budget for a whole priority class while closing (priority → budget).
    pub class_budgets: BTreeMap<i32, Setting<Duration>>,
    /// Where state snapshots and the last shutdown report are written.
    pub state_dir: Setting<Option<PathBuf>>,
    /// Also draw the last shutdown as a picture, `last-shutdown.svg`, beside the report in
    /// `state_dir` (feature `timeline`).
    pub report_svg: Setting<bool>,
    /// The orchestrator's grace period (Kubernetes `terminationGracePeriodSeconds`, systemd
    /// `TimeoutStopSec`); a warning is emitted when the budgets add up to more.
    pub grace_period: Setting<Option<Duration>>,
    /// Raw feature sections of the file (see [`SECTIONS`]), with the file they came from.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) sections: BTreeMap<String, (toml::Table, PathBuf)>,
    /// The file's text, so that feature sections can name the line of a bad key.
    #[cfg_attr(feature = "serde", serde(skip))]
    file: Option<FileText>,
    /// Environment variables that look like settings but are not (see [`Config::warnings`]).
    #[cfg_attr(feature = "serde", serde(skip))]
    unknown_env: Vec<String>,
    /// Where the environment was read from, so that the feature sections read the same one.
    #[cfg_attr(feature = "serde", serde(skip))]
    env: Env,
    /// The feature sections, once loaded.
    #[cfg_attr(feature = "serde", serde(skip))]
    loaded: Option<Loaded>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timeout: Setting::default_value(shutdown_grammar::defaults::TIMEOUT),
            drain_timeout: Setting::default_value(shutdown_grammar::defaults::DRAIN_TIMEOUT),
            resource_close_timeout: Setting::default_value(
                shutdown_grammar::defaults::RESOURCE_CLOSE_TIMEOUT,
            ),
            readiness_delay: Setting::default_value(shutdown_grammar::defaults::READINESS_DELAY),
            force_after_timeout: Setting::default_value(true),
            wait_for_connections: Setting::default_value(true),
            signals: Setting::default_value(Signal::defaults()),
            signal_repeat_window: Setting::default_value(
                shutdown_grammar::defaults::SIGNAL_REPEAT_WINDOW,
            ),
            forced_save_timeout: Setting::default_value(
                shutdown_grammar::defaults::FORCED_SAVE_TIMEOUT,
            ),
            class_budgets: BTreeMap::new(),
            state_dir: Setting::default_value(None),
            report_svg: Setting::default_value(false),
            grace_period: Setting::default_value(None),
            sections: BTreeMap::new(),
            file: None,
            unknown_env: Vec::new(),
            env: Env::None,
            loaded: None,
        }
    }
}

impl Config {
    /// The core's keys: the top level of the configuration file and the `SHUTDOWN_*`
    /// environment variables. README.md's configuration table is this table (a test checks).
    pub(crate) const KEYS: Section<Config> = Section {
        name: "",
        keys: &[
            key!(spec keys::TIMEOUT, timeout, value::duration),
            key!(spec keys::DRAIN_TIMEOUT, drain_timeout, value::duration),
            key!(spec keys::RESOURCE_CLOSE_TIMEOUT, resource_close_timeout, value::duration),
            key!(spec keys::READINESS_DELAY, readiness_delay, value::duration),
            key!(spec keys::FORCE_AFTER_TIMEOUT, force_after_timeout, value::boolean),
            key!(spec keys::WAIT_FOR_CONNECTIONS, wait_for_connections, value::boolean),
            key!(spec keys::SIGNALS, signals, value::signals),
            key!(spec keys::SIGNAL_REPEAT_WINDOW, signal_repeat_window, value::duration),
            key!(spec keys::FORCED_SAVE_TIMEOUT, forced_save_timeout, value::duration),
            key!(spec keys::STATE_DIR, state_dir, value::some_path),
            key!(spec keys::REPORT_SVG, report_svg, value::boolean),
            key!(spec keys::GRACE_PERIOD, grace_period, value::some_duration),
            Key {
                name: keys::CLASS_BUDGETS.name,
                env: keys::CLASS_BUDGETS.env,
                doc: keys::CLASS_BUDGETS.doc,
                read: read_class_budgets,
                show: |c| {
                    Shown::Map(
                        c.class_budgets
                            .iter()
                            .map(|(p, s)| (p.to_string(), Shown::setting(s)))
                            .collect(),
                    )
                },
                fill: |c, lower| {
                    for (p, b) in &lower.class_budgets {
                        c.class_budgets.entry(*p).or_insert_with(|| b.clone());
                    }
                },
            },
        ],
        // The rules between core keys are `Config::validate`, which also sees the builder's values.
        check: no_rules,
    };
}

/// `[class_budgets]` `"<priority>" = <duration>`; every bad entry is named.
fn read_class_budgets(c: &mut Config, input: Input<'_>, source: Source) -> Result<(), String> {
    let Input::File(toml::Value::Table(t)) = input else {
        return Err(format!(
            "expected a table like `[class_budgets]` `\"90\" = \"2s\"`, found {}",
            input.describe()
        ));
    };
    let mut problems = Vec::new();
    for (prio, budget) in t {
        let Ok(p) = prio.trim().parse::<i32>() else {
            problems.push(format!(
                "class_budgets key `{prio}` is not an integer priority"
            ));
            continue;
        };
        match value::duration(Input::File(budget)) {
            Ok(d) => {
                c.class_budgets.insert(
                    p,
                    Setting {
                        value: d,
                        source: source.clone(),
                    },
                );
            }
            Err(e) => problems.push(format!("class_budgets.{prio}: {e}")),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// The key (`drain_timeout`, `SHUTDOWN_TIMEOUT`, `[admin]` …).
    pub key: String,
    /// Where the bad value came from.
    pub source: Source,
    /// What was wrong and what is accepted.
    pub message: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` ({}): {}", self.key, self.source, self.message)
    }
}

/// The configuration is invalid. Lists every problem found, not only the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Every problem, in the order found.
    pub issues: Vec<ConfigIssue>,
}

impl std::error::Error for ConfigError {}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid shutdown configuration")?;
        for issue in &self.issues {
            write!(f, "\n  - {issue}")?;
        }
        Ok(())
    }
}

/// Where environment variables are read from. Tests pass a map, so they never mutate the
/// process environment and can run in parallel.
#[derive(Debug, Clone, Default)]
pub enum Env {
    /// `std::env::vars()`.
    #[default]
    Process,
    /// A fixed set of variables.
    Map(BTreeMap<String, String>),
    /// No environment at all.
    None,
}

impl Env {
    /// The variable `key`, if set (from the process or the fixed map).
    pub fn get(&self, key: &str) -> Option<String> {
        match self {
            Env::Process => std::env::var(key).ok(),
            Env::Map(m) => m.get(key).cloned(),
            Env::None => None,
        }
    }

    fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        match self {
            Env::Process => std::env::vars()
                .map(|(k, _)| k)
                .filter(|k| k.starts_with(prefix))
                .collect(),
            Env::Map(m) => m
                .keys()
                .filter(|k| k.starts_with(prefix))
                .cloned()
                .collect(),
            Env::None => Vec::new(),
        }
    }
}

/// The variable that names the configuration file.
pub const CONFIG_ENV: &str = "SHUTDOWN_CONFIG";

impl Config {
    /// Applies the configuration file (if `file` or `SHUTDOWN_CONFIG` names one) and then the
    /// environment on top of `self`, validates the result, and loads every feature section of
    /// the enabled features (`[admin]`, `[http]`, …) from the same file and the same `env`.
    ///
    /// Every problem of every section is reported at once; nothing is applied partially.
    pub fn load(mut self, file: Option<PathBuf>, env: &Env) -> Result<Config, ConfigError> {
        let mut issues = Vec::new();
        let path = env.get(CONFIG_ENV).map(PathBuf::from).or(file);
        if let Some(path) = path {
            match std::fs::read_to_string(&path) {
                Ok(text) => file::apply(&mut self, &text, &path, &mut issues),
                Err(e) => issues.push(ConfigIssue {
                    key: "config".into(),
                    source: Source::File(path.clone()),
                    message: format!("cannot read the configuration file: {e}"),
                }),
            }
        }
        self.apply_env(env, &mut issues);
        self.env = env.clone();
        self.validate(&mut issues);
        self.loaded = Some(Loaded::load(&self, env, &mut issues));
        if issues.is_empty() {
            Ok(self)
        } else {
            Err(ConfigError { issues })
        }
    }

    /// Validates the configuration as it is and loads the feature sections, unless
    /// [`load`](Config::load) already did: what an engine is built from.
    pub(crate) fn validated(mut self) -> Result<Config, ConfigError> {
        let mut issues = Vec::new();
        self.validate(&mut issues);
        if self.loaded.is_none() {
            self.loaded = Some(Loaded::load(&self, &self.env, &mut issues));
        }
        if issues.is_empty() {
            Ok(self)
        } else {
            Err(ConfigError { issues })
        }
    }

    /// The loaded value of a feature section: what [`load`](Config::load) read, or, for a
    /// configuration that was never loaded, the section read now from the file's table and
    /// the environment the configuration was read with (none by default).
    #[cfg_attr(
        not(any(
            feature = "admin",
            feature = "hyper",
            feature = "systemd",
            feature = "state",
            feature = "upgrade"
        )),
        allow(dead_code, reason = "read by the feature sections only")
    )]
    pub(crate) fn section<C>(&self, keys: &Section<C>) -> Result<C, ConfigError>
    where
        C: Default + Clone + 'static,
    {
        match self.loaded.as_ref().and_then(Loaded::get::<C>) {
            Some(c) => Ok(c.clone()),
            None => keys.load(C::default(), self, &self.env),
        }
    }

    /// Every loaded feature section as `(name, JSON)`, as `GET /config` shows them.
    #[cfg(feature = "serde")]
    #[cfg_attr(
        not(feature = "admin"),
        allow(dead_code, reason = "only the admin API's `/config` shows it")
    )]
    pub(crate) fn sections_json(&self) -> Vec<(&'static str, serde_json::Value)> {
        self.loaded.as_ref().map(Loaded::json).unwrap_or_default()
    }

    /// Parses a TOML text as if it were the configuration file at `path` (for tests and
    /// for programs that embed their configuration).
    pub fn apply_toml(
        mut self,
        text: &str,
        path: impl Into<PathBuf>,
    ) -> Result<Config, ConfigError> {
        let mut issues = Vec::new();
        file::apply(&mut self, text, &path.into(), &mut issues);
        // New tables: the sections are loaded again when the engine is built.
        self.loaded = None;
        self.validate(&mut issues);
        if issues.is_empty() {
            Ok(self)
        } else {
            Err(ConfigError { issues })
        }
    }

    /// Applies `(key, value)` pairs with [`Source::Macro`]: the arguments of
    /// `#[graceful::main]`, named by their configuration keys and typed by the macro, which
    /// checked them against the same key table ([`shutdown_grammar::keys`]).
    pub fn apply_args(mut self, args: &[(&str, ArgValue)]) -> Result<Config, ConfigError> {
        Config::KEYS.read_args(&mut self, args)?;
        Ok(self)
    }

    /// Reads feature section `section` of the file (if present) into `target` with the
    /// section's key table; every bad key is added to `issues`, naming the file and the line.
    pub(crate) fn read_section<C>(
        &self,
        section: &Section<C>,
        target: &mut C,
        issues: &mut Vec<ConfigIssue>,
    ) {
        let Some((table, path)) = self.sections.get(section.name) else {
            return;
        };
        let file = match &self.file {
            Some(f) if f.path == *path => f.clone(),
            _ => FileText {
                path: path.clone(),
                text: "".into(),
            },
        };
        section.read_file(target, table, &file, issues);
    }

    fn apply_env(&mut self, env: &Env, issues: &mut Vec<ConfigIssue>) {
        Config::KEYS.read_env(self, env, issues);
        let mut known = Config::KEYS.env_vars();
        known.push(CONFIG_ENV);
        for key in env.keys_with_prefix("SHUTDOWN_") {
            if !known.contains(&key.as_str()) {
                let hint = shutdown_grammar::hint(&key, &known);
                self.unknown_env.push(format!(
                    "environment variable `{key}` is not a graceful setting and is ignored{hint}"
                ));
            }
        }
    }

    fn validate(&self, issues: &mut Vec<ConfigIssue>) {
        // The state directory holds the report file (JSON, written by serde) and the `state`
        // feature's snapshots (which turn `serde` on): without it nothing would be written there.
        #[cfg(not(feature = "serde"))]
        if self.state_dir.value.is_some() {
            issues.push(ConfigIssue {
                key: "state_dir".into(),
                source: self.state_dir.source.clone(),
                message: "the shutdown report written to the state directory is JSON, which needs \
                          the `serde` feature of graceful: add `features = [\"serde\"]` to the \
                          `gracefully` dependency, or remove `state_dir`"
                    .into(),
            });
        }
        #[cfg(not(feature = "timeline"))]
        if self.report_svg.value {
            issues.push(ConfigIssue {
                key: "report_svg".into(),
                source: self.report_svg.source.clone(),
                message: "the picture of the shutdown is drawn by the `timeline` feature of \
                          graceful: add `features = [\"timeline\"]` to the `gracefully` \
                          dependency, or remove `report_svg`"
                    .into(),
            });
        }
        if self.report_svg.value && self.state_dir.value.is_none() {
            issues.push(ConfigIssue {
                key: "report_svg".into(),
                source: self.report_svg.source.clone(),
                message: "the picture is written beside the shutdown report, in the state \
                          directory: set `state_dir` (`SHUTDOWN_STATE_DIR`) too, or remove \
                          `report_svg`"
                    .into(),
            });
        }
        let deadlines = Deadlines {
            timeout: self.timeout.value,
            drain_timeout: self.drain_timeout.value,
            readiness_delay: self.readiness_delay.value,
            resource_close_timeout: self.resource_close_timeout.value,
        };
        for broken in deadlines.check() {
            issues.push(self.broken(broken));
        }
        // The default adapts to a short timeout (see `forced_save_timeout`); a chosen value
        // that cannot fit is a mistake.
        if self.forced_save_timeout.value >= self.timeout.value
            && self.forced_save_timeout.source != Source::Default
        {
            issues.push(ConfigIssue {
                key: "forced_save_timeout".into(),
                source: self.forced_save_timeout.source.clone(),
                message: format!(
                    "{} is not shorter than timeout ({}); the save of a forced shutdown is kept \
                     out of the overall timeout: lower it (0 disables it)",
                    fmt_d(self.forced_save_timeout.value),
                    fmt_d(self.timeout.value)
                ),
            });
        }
    }

    /// A broken rule between the deadlines, worded with each value's source.
    fn broken(&self, broken: Broken) -> ConfigIssue {
        match broken {
            Broken::DrainPastTimeout { sum } => ConfigIssue {
                key: "drain_timeout".into(),
                source: self.drain_timeout.source.clone(),
                message: format!(
                    "readiness_delay ({}, {}) + drain_timeout ({}, {}) = {} is longer than timeout ({}, {}); \
                     the overall timeout bounds every phase: raise timeout or lower the others",
                    fmt_d(self.readiness_delay.value),
                    self.readiness_delay.source,
                    fmt_d(self.drain_timeout.value),
                    self.drain_timeout.source,
                    fmt_d(sum),
                    fmt_d(self.timeout.value),
                    self.timeout.source
                ),
            },
            Broken::ClosePastTimeout => ConfigIssue {
                key: "resource_close_timeout".into(),
                source: self.resource_close_timeout.source.clone(),
                message: format!(
                    "{} is longer than timeout ({}); one close may not outlast the whole shutdown",
                    fmt_d(self.resource_close_timeout.value),
                    fmt_d(self.timeout.value)
                ),
            },
            // `Broken::ZeroTimeout`, and any rule added to the table later.
            _ => ConfigIssue {
                key: "timeout".into(),
                source: self.timeout.source.clone(),
                message: "the overall timeout must be greater than zero".into(),
            },
        }
    }

    /// Things that are allowed but probably wrong; `#[graceful::main]` prints them at start-up.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = self.unknown_env.clone();
        if self.signals.value.is_empty() && self.signals.source != Source::Builder {
            out.push("no shutdown signals are configured: only trigger() and main returning stop the service".into());
        }
        if let Some(grace) = self.grace_period.value
            && self.timeout.value > grace
        {
            out.push(format!(
                "timeout ({}) is longer than grace_period ({}, {}): the orchestrator will SIGKILL the process before the \
                 shutdown can finish; lower timeout or raise the grace period",
                fmt_d(self.timeout.value),
                fmt_d(grace),
                self.grace_period.source
            ));
        }
        if let Some(grace) = self.grace_period.value {
            // Closing takes at most one resource_close_timeout per class, or the declared class
            // budgets; count the larger of one timeout and the budgets' sum.
            let budgets: Duration = self.class_budgets.values().map(|b| b.value).sum();
            let close = self.resource_close_timeout.value.max(budgets);
            let needed =
                self.readiness_delay.value + self.drain_timeout.value + close + GRACE_MARGIN;
            if needed > grace {
                out.push(format!(
                    "readiness_delay ({}) + drain_timeout ({}) + close ({}) + margin ({}) = {} is longer than \
                     grace_period ({}, {}): the orchestrator may SIGKILL the process mid-shutdown; raise the grace \
                     period (terminationGracePeriodSeconds, TimeoutStopSec) or lower the budgets",
                    fmt_d(self.readiness_delay.value),
                    fmt_d(self.drain_timeout.value),
                    fmt_d(close),
                    fmt_d(GRACE_MARGIN),
                    fmt_d(needed),
                    fmt_d(grace),
                    self.grace_period.source
                ));
            }
        }
        out.extend(crate::platform::inactive());
        out
    }
}

pub(crate) fn fmt_d(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<24} {:<28} source", "key", "value")?;
        let sections = self.loaded.as_ref().map(Loaded::rows).unwrap_or_default();
        for row in Config::KEYS.rows(self).into_iter().chain(sections) {
            let source = row
                .source
                .map_or_else(|| "-".to_string(), |s| s.to_string());
            writeln!(f, "{:<24} {:<28} {source}", row.key, row.value)?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests;
