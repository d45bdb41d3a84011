//! The TOML configuration file.

use std::path::Path;

use super::{
    ConfigIssue, SECTIONS, Source, did_you_mean, duration_value, parse_bool, parse_signals,
};
use crate::Config;

/// The keys the file accepts at top level (besides [`SECTIONS`]).
pub(crate) const FILE_KEYS: &[&str] = &[
    "timeout",
    "drain_timeout",
    "resource_close_timeout",
    "readiness_delay",
    "force_after_timeout",
    "signals",
    "signal_repeat_window",
    "forced_save_timeout",
    "state_dir",
    "grace_period",
    "class_budgets",
];

pub(super) fn apply(config: &mut Config, text: &str, path: &Path, issues: &mut Vec<ConfigIssue>) {
    let source = Source::File(path.to_path_buf());
    let table: toml::Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            issues.push(ConfigIssue {
                key: "config".into(),
                source,
                message: format!("not valid TOML: {}", e.to_string().trim_end()),
            });
            return;
        }
    };
    for (key, value) in table {
        let line = line_of_key(text, &key);
        let name = key.as_str();
        let mut fail = |message: String| {
            issues.push(ConfigIssue {
                key: name.to_string(),
                source: source.clone(),
                message: format!("line {line}: {message}"),
            })
        };
        match name {
            "timeout"
            | "drain_timeout"
            | "resource_close_timeout"
            | "readiness_delay"
            | "signal_repeat_window"
            | "forced_save_timeout"
            | "grace_period" => match duration_value(&value) {
                Ok(d) => match name {
                    "timeout" => config.timeout.set(d, source.clone()),
                    "drain_timeout" => config.drain_timeout.set(d, source.clone()),
                    "resource_close_timeout" => {
                        config.resource_close_timeout.set(d, source.clone())
                    }
                    "readiness_delay" => config.readiness_delay.set(d, source.clone()),
                    "signal_repeat_window" => config.signal_repeat_window.set(d, source.clone()),
                    "forced_save_timeout" => config.forced_save_timeout.set(d, source.clone()),
                    _ => config.grace_period.set(Some(d), source.clone()),
                },
                Err(e) => fail(e),
            },
            "force_after_timeout" => match &value {
                toml::Value::Boolean(b) => config.force_after_timeout.set(*b, source.clone()),
                toml::Value::String(s) => match parse_bool(s) {
                    Ok(b) => config.force_after_timeout.set(b, source.clone()),
                    Err(e) => fail(e),
                },
                other => fail(format!("expected a boolean, found {}", other.type_str())),
            },
            "signals" => match value {
                toml::Value::Array(items) => {
                    let mut names = Vec::new();
                    for item in items {
                        match item {
                            toml::Value::String(s) => names.push(s),
                            toml::Value::Integer(n) => names.push(n.to_string()),
                            other => names.push(format!("<{}>", other.type_str())),
                        }
                    }
                    match parse_signals(names.into_iter()) {
                        Ok(s) => config.signals.set(s, source.clone()),
                        Err(e) => fail(e),
                    }
                }
                other => fail(format!(
                    "expected an array of signal names like [\"SIGTERM\", \"SIGINT\"], found {}",
                    other.type_str()
                )),
            },
            "state_dir" => match value {
                toml::Value::String(s) => config.state_dir.set(Some(s.into()), source.clone()),
                other => fail(format!(
                    "expected a path string, found {}",
                    other.type_str()
                )),
            },
            "class_budgets" => match value {
                toml::Value::Table(t) => {
                    for (prio, budget) in t {
                        let Ok(p) = prio.trim().parse::<i32>() else {
                            fail(format!(
                                "class_budgets key `{prio}` is not an integer priority"
                            ));
                            continue;
                        };
                        match duration_value(&budget) {
                            Ok(d) => {
                                config.class_budgets.insert(
                                    p,
                                    super::Setting {
                                        value: d,
                                        source: source.clone(),
                                    },
                                );
                            }
                            Err(e) => fail(format!("class_budgets.{prio}: {e}")),
                        }
                    }
                }
                other => fail(format!(
                    "expected a table like `[class_budgets]\\n\"90\" = \"2s\"`, found {}",
                    other.type_str()
                )),
            },
            section if SECTIONS.contains(&section) => match value {
                toml::Value::Table(t) => {
                    config
                        .sections
                        .insert(section.to_string(), (t, path.to_path_buf()));
                }
                other => fail(format!(
                    "`[{section}]` must be a table, found {}",
                    other.type_str()
                )),
            },
            unknown => {
                let mut all: Vec<&str> = FILE_KEYS.to_vec();
                all.extend_from_slice(SECTIONS);
                fail(format!(
                    "unknown key `{unknown}`{}; accepted keys: {}",
                    did_you_mean(unknown, &all),
                    all.join(", ")
                ))
            }
        }
    }
}

/// The line where a top-level `key` is first written: `key = …`, `"key" = …`, `[key]`,
/// `[key.sub]`, `[[key]]` or `key.sub = …`. Line 1 when it cannot be found.
fn line_of_key(text: &str, key: &str) -> usize {
    let quoted = format!("\"{key}\"");
    let starts_key = |rest: &str| {
        [key, quoted.as_str()].iter().any(|k| {
            rest.strip_prefix(k)
                .is_some_and(|after| after.trim_start().starts_with(['=', '.', ']']))
        })
    };
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            let header = l.trim_start_matches('[').trim_start();
            (l.starts_with('[') && starts_key(header)) || starts_key(l)
        })
        .map_or(1, |i| i + 1)
}
