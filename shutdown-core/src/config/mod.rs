//! Configuration: defaults < builder < `#[graceful::main]` arguments < TOML file < environment.
//!
//! Every value remembers its [`Source`], so `println!("{config}")` shows operators the
//! effective values and where each came from.
//!
//! | key | environment variable | default |
//! |---|---|---|
//! | `timeout` | `SHUTDOWN_TIMEOUT` | `30s` |
//! | `drain_timeout` | `SHUTDOWN_DRAIN_TIMEOUT` | `10s` |
//! | `resource_close_timeout` | `SHUTDOWN_RESOURCE_CLOSE_TIMEOUT` | `5s` |
//! | `readiness_delay` | `SHUTDOWN_READINESS_DELAY` | `0s` |
//! | `force_after_timeout` | `SHUTDOWN_FORCE_AFTER_TIMEOUT` | `true` |
//! | `signals` | `SHUTDOWN_SIGNALS` (comma-separated) | `["SIGTERM", "SIGINT", "SIGHUP"]` |
//! | `signal_repeat_window` | `SHUTDOWN_SIGNAL_REPEAT_WINDOW` | `300ms` |
//! | `forced_save_timeout` | `SHUTDOWN_FORCED_SAVE_TIMEOUT` | `2s` |
//! | `state_dir` | `SHUTDOWN_STATE_DIR` | unset |
//! | `grace_period` | `SHUTDOWN_GRACE_PERIOD` | unset |
//! | `[class_budgets]` `"<priority>" = "2s"` | — | unset |
//!
//! The file's path comes from `#[graceful::main(config = "…")]` or `SHUTDOWN_CONFIG` (the
//! environment wins). Tables named in [`SECTIONS`] are kept raw for feature modules (for
//! example `[admin]`); any other unknown key is an error.

mod duration;
mod file;
mod source;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub(crate) use duration::duration_value;
pub use duration::{ACCEPTED_FORMS, parse_duration};
pub use source::{Setting, Source};

use crate::reason::Signal;

/// What [`Config::warnings`] adds to `readiness_delay + drain_timeout + close` for the process
/// to flush and exit before the orchestrator's grace period ends.
pub const GRACE_MARGIN: Duration = Duration::from_secs(2);

/// Top-level tables of the configuration file that belong to feature modules.
pub const SECTIONS: &[&str] = &["admin", "http", "state", "systemd", "kubernetes", "metrics"];

/// The effective configuration of an engine.
#[derive(Debug, Clone, serde::Serialize)]
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
    /// The orchestrator's grace period (Kubernetes `terminationGracePeriodSeconds`, systemd
    /// `TimeoutStopSec`); a warning is emitted when the budgets add up to more.
    pub grace_period: Setting<Option<Duration>>,
    /// Raw feature sections of the file (see [`SECTIONS`]), with the file they came from.
    #[serde(skip)]
    pub sections: BTreeMap<String, (toml::Table, PathBuf)>,
    /// Environment variables that look like settings but are not (see [`Config::warnings`]).
    #[serde(skip)]
    unknown_env: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timeout: Setting::default_value(Duration::from_secs(30)),
            drain_timeout: Setting::default_value(Duration::from_secs(10)),
            resource_close_timeout: Setting::default_value(Duration::from_secs(5)),
            readiness_delay: Setting::default_value(Duration::ZERO),
            force_after_timeout: Setting::default_value(true),
            signals: Setting::default_value(Signal::defaults()),
            signal_repeat_window: Setting::default_value(Duration::from_millis(300)),
            forced_save_timeout: Setting::default_value(Duration::from_secs(2)),
            class_budgets: BTreeMap::new(),
            state_dir: Setting::default_value(None),
            grace_period: Setting::default_value(None),
            sections: BTreeMap::new(),
            unknown_env: Vec::new(),
        }
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
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// Every problem, in the order found.
    pub issues: Vec<ConfigIssue>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid shutdown configuration")?;
        for issue in &self.issues {
            write!(f, "\n  - {issue}")?;
        }
        Ok(())
    }
}

impl ConfigError {
    pub(crate) fn single(
        key: impl Into<String>,
        source: Source,
        message: impl Into<String>,
    ) -> Self {
        ConfigError {
            issues: vec![ConfigIssue {
                key: key.into(),
                source,
                message: message.into(),
            }],
        }
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

/// Environment variables read by the core, with the key each sets.
pub const ENV_KEYS: &[(&str, &str)] = &[
    ("SHUTDOWN_TIMEOUT", "timeout"),
    ("SHUTDOWN_DRAIN_TIMEOUT", "drain_timeout"),
    ("SHUTDOWN_RESOURCE_CLOSE_TIMEOUT", "resource_close_timeout"),
    ("SHUTDOWN_READINESS_DELAY", "readiness_delay"),
    ("SHUTDOWN_FORCE_AFTER_TIMEOUT", "force_after_timeout"),
    ("SHUTDOWN_SIGNALS", "signals"),
    ("SHUTDOWN_SIGNAL_REPEAT_WINDOW", "signal_repeat_window"),
    ("SHUTDOWN_FORCED_SAVE_TIMEOUT", "forced_save_timeout"),
    ("SHUTDOWN_STATE_DIR", "state_dir"),
    ("SHUTDOWN_GRACE_PERIOD", "grace_period"),
    ("SHUTDOWN_CONFIG", "(path of the configuration file)"),
];

impl Config {
    /// Applies the configuration file (if `file` or `SHUTDOWN_CONFIG` names one) and then the
    /// environment on top of `self`, and validates the result.
    ///
    /// Every problem is reported at once; nothing is applied partially.
    pub fn load(mut self, file: Option<PathBuf>, env: &Env) -> Result<Config, ConfigError> {
        let mut issues = Vec::new();
        let path = env.get("SHUTDOWN_CONFIG").map(PathBuf::from).or(file);
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
        self.validate(&mut issues);
        if issues.is_empty() {
            Ok(self)
        } else {
            Err(ConfigError { issues })
        }
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
        self.validate(&mut issues);
        if issues.is_empty() {
            Ok(self)
        } else {
            Err(ConfigError { issues })
        }
    }

    fn apply_env(&mut self, env: &Env, issues: &mut Vec<ConfigIssue>) {
        for (var, _) in ENV_KEYS {
            let Some(raw) = env.get(var) else { continue };
            let source = Source::Env((*var).to_string());
            let mut fail = |message: String| {
                issues.push(ConfigIssue {
                    key: (*var).to_string(),
                    source: source.clone(),
                    message,
                })
            };
            match *var {
                "SHUTDOWN_TIMEOUT" => {
                    set_duration(&mut self.timeout, &raw, source.clone(), &mut fail)
                }
                "SHUTDOWN_DRAIN_TIMEOUT" => {
                    set_duration(&mut self.drain_timeout, &raw, source.clone(), &mut fail)
                }
                "SHUTDOWN_RESOURCE_CLOSE_TIMEOUT" => set_duration(
                    &mut self.resource_close_timeout,
                    &raw,
                    source.clone(),
                    &mut fail,
                ),
                "SHUTDOWN_READINESS_DELAY" => {
                    set_duration(&mut self.readiness_delay, &raw, source.clone(), &mut fail)
                }
                "SHUTDOWN_SIGNAL_REPEAT_WINDOW" => set_duration(
                    &mut self.signal_repeat_window,
                    &raw,
                    source.clone(),
                    &mut fail,
                ),
                "SHUTDOWN_FORCED_SAVE_TIMEOUT" => set_duration(
                    &mut self.forced_save_timeout,
                    &raw,
                    source.clone(),
                    &mut fail,
                ),
                "SHUTDOWN_GRACE_PERIOD" => match parse_duration(&raw) {
                    Ok(d) => self.grace_period.set(Some(d), source.clone()),
                    Err(e) => fail(e),
                },
                "SHUTDOWN_FORCE_AFTER_TIMEOUT" => match parse_bool(&raw) {
                    Ok(b) => self.force_after_timeout.set(b, source.clone()),
                    Err(e) => fail(e),
                },
                "SHUTDOWN_SIGNALS" => match parse_signals(raw.split(',').map(str::to_string)) {
                    Ok(s) => self.signals.set(s, source.clone()),
                    Err(e) => fail(e),
                },
                "SHUTDOWN_STATE_DIR" => {
                    self.state_dir.set(Some(PathBuf::from(raw)), source.clone())
                }
                _ => {}
            }
        }
        for key in env.keys_with_prefix("SHUTDOWN_") {
            if !ENV_KEYS.iter().any(|(k, _)| *k == key) {
                let known: Vec<&str> = ENV_KEYS.iter().map(|(k, _)| *k).collect();
                let hint = did_you_mean(&key, &known);
                self.unknown_env.push(format!(
                    "environment variable `{key}` is not a graceful setting and is ignored{hint}"
                ));
            }
        }
    }

    fn validate(&self, issues: &mut Vec<ConfigIssue>) {
        if self.timeout.value.is_zero() {
            issues.push(ConfigIssue {
                key: "timeout".into(),
                source: self.timeout.source.clone(),
                message: "the overall timeout must be greater than zero".into(),
            });
        }
        let budget = self.readiness_delay.value + self.drain_timeout.value;
        if budget > self.timeout.value {
            issues.push(ConfigIssue {
                key: "drain_timeout".into(),
                source: self.drain_timeout.source.clone(),
                message: format!(
                    "readiness_delay ({}, {}) + drain_timeout ({}, {}) = {} is longer than timeout ({}, {}); \
                     the overall timeout bounds every phase: raise timeout or lower the others",
                    fmt_d(self.readiness_delay.value),
                    self.readiness_delay.source,
                    fmt_d(self.drain_timeout.value),
                    self.drain_timeout.source,
                    fmt_d(budget),
                    fmt_d(self.timeout.value),
                    self.timeout.source
                ),
            });
        }
        if self.resource_close_timeout.value > self.timeout.value {
            issues.push(ConfigIssue {
                key: "resource_close_timeout".into(),
                source: self.resource_close_timeout.source.clone(),
                message: format!(
                    "{} is longer than timeout ({}); one close may not outlast the whole shutdown",
                    fmt_d(self.resource_close_timeout.value),
                    fmt_d(self.timeout.value)
                ),
            });
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
        out
    }

    /// The raw table of a feature section (`[admin]`, …) and the file it came from.
    pub fn section(&self, name: &str) -> Option<&(toml::Table, PathBuf)> {
        self.sections.get(name)
    }
}

pub(crate) fn set_duration(
    setting: &mut Setting<Duration>,
    raw: &str,
    source: Source,
    fail: &mut impl FnMut(String),
) {
    match parse_duration(raw) {
        Ok(d) => setting.set(d, source),
        Err(e) => fail(e),
    }
}

pub(crate) fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(format!(
            "`{other}` is not a boolean; expected true/false, yes/no, on/off or 1/0"
        )),
    }
}

pub(crate) fn parse_signals(items: impl Iterator<Item = String>) -> Result<Vec<Signal>, String> {
    let mut out = Vec::new();
    for item in items {
        let item = item.trim().to_string();
        if item.is_empty() {
            continue;
        }
        match Signal::parse(&item) {
            Some(s) if !out.contains(&s) => out.push(s),
            Some(_) => {}
            None => {
                let names: Vec<&str> = Signal::ALL.iter().map(|s| s.name()).collect();
                return Err(format!(
                    "`{item}` is not a supported signal; expected one of {}",
                    names.join(", ")
                ));
            }
        }
    }
    Ok(out)
}

/// ` (did you mean `x`?)` when a candidate is close to `word`, else empty.
pub(crate) fn did_you_mean(word: &str, candidates: &[&str]) -> String {
    let best = candidates
        .iter()
        .map(|c| {
            (
                edit_distance(&word.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                c,
            )
        })
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, c)) if d <= 3 => format!(" (did you mean `{c}`?)"),
        _ => String::new(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

pub(crate) fn fmt_d(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let row = |f: &mut fmt::Formatter<'_>, k: &str, v: String, s: &Source| {
            writeln!(f, "{k:<24} {v:<28} {s}")
        };
        writeln!(f, "{:<24} {:<28} source", "key", "value")?;
        row(
            f,
            "timeout",
            fmt_d(self.timeout.value),
            &self.timeout.source,
        )?;
        row(
            f,
            "drain_timeout",
            fmt_d(self.drain_timeout.value),
            &self.drain_timeout.source,
        )?;
        row(
            f,
            "resource_close_timeout",
            fmt_d(self.resource_close_timeout.value),
            &self.resource_close_timeout.source,
        )?;
        row(
            f,
            "readiness_delay",
            fmt_d(self.readiness_delay.value),
            &self.readiness_delay.source,
        )?;
        row(
            f,
            "force_after_timeout",
            self.force_after_timeout.value.to_string(),
            &self.force_after_timeout.source,
        )?;
        let signals: Vec<&str> = self.signals.value.iter().map(|s| s.name()).collect();
        row(f, "signals", signals.join(","), &self.signals.source)?;
        row(
            f,
            "signal_repeat_window",
            fmt_d(self.signal_repeat_window.value),
            &self.signal_repeat_window.source,
        )?;
        row(
            f,
            "forced_save_timeout",
            fmt_d(self.forced_save_timeout.value),
            &self.forced_save_timeout.source,
        )?;
        let dir = self
            .state_dir
            .value
            .as_ref()
            .map_or("-".to_string(), |p| p.display().to_string());
        row(f, "state_dir", dir, &self.state_dir.source)?;
        let grace = self.grace_period.value.map_or("-".to_string(), fmt_d);
        row(f, "grace_period", grace, &self.grace_period.source)?;
        for (prio, budget) in &self.class_budgets {
            row(
                f,
                &format!("class_budgets.{prio}"),
                fmt_d(budget.value),
                &budget.source,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
