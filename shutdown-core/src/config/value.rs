//! The parsers of configuration values (the "parser" column of every key table) and how each
//! type of value is shown.
//!
//! A parser reads one [`Input`]: a TOML value from the file, or the text of an environment
//! variable or a `#[graceful::main]` argument. Text is read by the grammar of
//! [`shutdown_grammar`], the same one the macros and `gracefulctl` use.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use shutdown_grammar::ArgValue;

use super::{Setting, Source, toml};
use crate::reason::Signal;

/// One line of `Display`: a key, its value and where the value came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// The key (`timeout`, `class_budgets.90`).
    pub key: String,
    /// The value on one line.
    pub value: String,
    /// Where it came from, when the key is one setting.
    pub source: Option<Source>,
}

/// One value as it arrives: from the TOML file, as text (an environment variable), or typed
/// (an argument of `#[graceful::main]`, which the macro already checked).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Input<'a> {
    /// A value of the configuration file.
    File(&'a toml::Value),
    /// The text of an environment variable.
    Text(&'a str),
    /// A typed value given in code.
    Arg(&'a ArgValue),
}

impl<'a> Input<'a> {
    /// The text, for text input and TOML strings.
    pub(crate) fn text(&self) -> Option<&'a str> {
        match self {
            Input::Text(s) => Some(s),
            Input::File(toml::Value::String(s)) => Some(s.as_str()),
            Input::File(_) | Input::Arg(_) => None,
        }
    }

    /// The value as quoted in an error: `` `abc` `` or `` boolean `true` ``.
    pub(crate) fn describe(&self) -> String {
        match self {
            Input::Text(s) => format!("`{s}`"),
            Input::File(toml::Value::String(s)) => format!("`{s}`"),
            Input::File(toml::Value::Integer(n)) => format!("integer `{n}`"),
            Input::File(toml::Value::Float(x)) => format!("float `{x}`"),
            Input::File(toml::Value::Boolean(b)) => format!("boolean `{b}`"),
            Input::File(v) => format!("a{} {}", if v.is_array() { "n" } else { "" }, v.type_str()),
            Input::Arg(ArgValue::Duration(d)) => format!("duration `{}`", super::fmt_d(*d)),
            Input::Arg(ArgValue::Bool(b)) => format!("boolean `{b}`"),
            Input::Arg(ArgValue::Signals(s)) => format!("signals `{}`", s.join(",")),
            Input::Arg(other) => format!("`{other:?}`"),
        }
    }
}

/// A value as `Display`, `GET /config` and the docs show it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub(crate) enum Shown {
    /// No value (an optional setting left unset).
    Unset,
    /// A boolean.
    Bool(bool),
    /// A whole number.
    Number(u64),
    /// A number with a fraction (a percentage).
    Float(f64),
    /// Text (durations are shown as text: `1m 30s`).
    Text(String),
    /// A list.
    List(Vec<Shown>),
    /// Named entries (`class_budgets`, `routes`).
    Map(Vec<(String, Shown)>),
    /// A value together with where it came from.
    Set(Box<Shown>, Source),
}

impl Shown {
    /// A setting's value and source.
    pub(crate) fn setting<T: Show>(s: &Setting<T>) -> Shown {
        Shown::Set(Box::new(s.value.show()), s.source.clone())
    }

    /// The value as JSON: a setting is `{"value", "source"}`.
    #[cfg(feature = "serde")]
    #[cfg_attr(
        not(feature = "admin"),
        allow(dead_code, reason = "only the admin API's `/config` shows it")
    )]
    pub(crate) fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Shown::Unset => Value::Null,
            Shown::Bool(b) => Value::Bool(*b),
            Shown::Number(n) => Value::from(*n),
            Shown::Float(x) => Value::from(*x),
            Shown::Text(t) => Value::String(t.clone()),
            Shown::List(items) => Value::Array(items.iter().map(Shown::to_json).collect()),
            Shown::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
            Shown::Set(value, source) => {
                serde_json::json!({ "value": value.to_json(), "source": source.to_string() })
            }
        }
    }

    /// The value on one line: `-` when unset, lists joined by `,`.
    pub(crate) fn text(&self) -> String {
        match self {
            Shown::Unset => "-".into(),
            Shown::Bool(b) => b.to_string(),
            Shown::Number(n) => n.to_string(),
            Shown::Float(x) => x.to_string(),
            Shown::Text(t) => t.clone(),
            Shown::List(items) => items.iter().map(Shown::text).collect::<Vec<_>>().join(","),
            Shown::Map(entries) => entries
                .iter()
                .map(|(k, v)| format!("{k}={}", v.text()))
                .collect::<Vec<_>>()
                .join(","),
            Shown::Set(value, _) => value.text(),
        }
    }

    /// `(key, value, source)` rows: one per setting, maps flattened to `key.entry`.
    pub(crate) fn rows(&self, key: &str, out: &mut Vec<Row>) {
        match self {
            Shown::Set(value, source) => out.push(Row {
                key: key.to_string(),
                value: value.text(),
                source: Some(source.clone()),
            }),
            Shown::Map(entries) => {
                for (k, v) in entries {
                    v.rows(&format!("{key}.{k}"), out);
                }
            }
            other => out.push(Row {
                key: key.to_string(),
                value: other.text(),
                source: None,
            }),
        }
    }
}

/// A type of value a key can hold, and how `Display`, `/config` and the docs show it.
pub(crate) trait Show {
    /// The value as shown.
    fn show(&self) -> Shown;
}

impl Show for Duration {
    fn show(&self) -> Shown {
        Shown::Text(super::fmt_d(*self))
    }
}

impl Show for bool {
    fn show(&self) -> Shown {
        Shown::Bool(*self)
    }
}

impl Show for usize {
    fn show(&self) -> Shown {
        Shown::Number(u64::try_from(*self).unwrap_or(u64::MAX))
    }
}

impl Show for u64 {
    fn show(&self) -> Shown {
        Shown::Number(*self)
    }
}

impl Show for f64 {
    fn show(&self) -> Shown {
        Shown::Float(*self)
    }
}

impl Show for String {
    fn show(&self) -> Shown {
        Shown::Text(self.clone())
    }
}

impl Show for PathBuf {
    fn show(&self) -> Shown {
        Shown::Text(self.display().to_string())
    }
}

impl Show for SocketAddr {
    fn show(&self) -> Shown {
        Shown::Text(self.to_string())
    }
}

impl Show for Vec<Signal> {
    fn show(&self) -> Shown {
        Shown::List(self.iter().map(|s| Shown::Text(s.name().into())).collect())
    }
}

impl<T: Show> Show for Option<T> {
    fn show(&self) -> Shown {
        self.as_ref().map_or(Shown::Unset, Show::show)
    }
}

/// A duration: a string in any form of [`ACCEPTED_FORMS`](super::ACCEPTED_FORMS), or a
/// number of seconds (TOML integer or float).
pub(crate) fn duration(input: Input<'_>) -> Result<Duration, String> {
    let result = match input {
        Input::Text(s) => super::parse_duration(s),
        Input::File(toml::Value::String(s)) => super::parse_duration(s),
        Input::File(toml::Value::Integer(n)) => super::parse_duration(&n.to_string()),
        Input::File(toml::Value::Float(x)) => shutdown_grammar::duration::from_seconds_f64(*x),
        Input::Arg(ArgValue::Duration(d)) => Ok(*d),
        Input::Arg(_) => return Err(format!("expected a duration, found {}", input.describe())),
        Input::File(other) => {
            return Err(format!(
                "expected {}, found {}",
                super::ACCEPTED_FORMS,
                other.type_str()
            ));
        }
    };
    result.map_err(|e| e.to_string())
}

/// An optional duration: set when given.
pub(crate) fn some_duration(input: Input<'_>) -> Result<Option<Duration>, String> {
    duration(input).map(Some)
}

/// A boolean: TOML `true`/`false`, or text in any form `shutdown_grammar::boolean` accepts.
pub(crate) fn boolean(input: Input<'_>) -> Result<bool, String> {
    match input {
        Input::File(toml::Value::Boolean(b)) | Input::Arg(ArgValue::Bool(b)) => Ok(*b),
        _ => match input.text() {
            Some(s) => shutdown_grammar::parse_bool(s).map_err(|e| e.to_string()),
            None => Err(format!("expected a boolean, found {}", input.describe())),
        },
    }
}

/// Signals: a TOML array of names or numbers, or comma-separated text (`SIGTERM,SIGINT`).
/// Duplicates are dropped.
pub(crate) fn signals(input: Input<'_>) -> Result<Vec<Signal>, String> {
    let items: Vec<String> = match input {
        Input::Text(s) => s.split(',').map(str::to_string).collect(),
        Input::Arg(ArgValue::Signals(names)) => names.iter().map(|n| n.to_string()).collect(),
        Input::Arg(_) => {
            return Err(format!("expected signal names, found {}", input.describe()));
        }
        Input::File(toml::Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(n) => n.to_string(),
                other => format!("<{}>", other.type_str()),
            })
            .collect(),
        Input::File(other) => {
            return Err(format!(
                "expected an array of signal names like [\"SIGTERM\", \"SIGINT\"], found {}",
                other.type_str()
            ));
        }
    };
    let mut out = Vec::new();
    for item in items.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
        let name = shutdown_grammar::parse_signal(item).map_err(|e| e.to_string())?;
        let signal = Signal::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| format!("`{item}` is not a signal this platform can listen to"))?;
        if !out.contains(&signal) {
            out.push(signal);
        }
    }
    Ok(out)
}

/// Text: a TOML string or the variable's text.
#[cfg_attr(
    not(feature = "admin"),
    allow(dead_code, reason = "read by the feature sections only")
)]
pub(crate) fn text(input: Input<'_>) -> Result<String, String> {
    input
        .text()
        .map(str::to_string)
        .ok_or_else(|| format!("expected a string, found {}", input.describe()))
}

/// A path (`state_dir`): set when given.
pub(crate) fn some_path(input: Input<'_>) -> Result<Option<PathBuf>, String> {
    match input.text() {
        Some(s) if !s.trim().is_empty() => Ok(Some(PathBuf::from(s))),
        Some(_) => Err("the path is empty; name a directory such as \"/var/lib/app\"".into()),
        None => Err(format!(
            "expected a path string, found {}",
            input.describe()
        )),
    }
}

/// A whole number greater than zero: a TOML integer, or text.
#[cfg_attr(
    not(feature = "admin"),
    allow(dead_code, reason = "read by the feature sections only")
)]
pub(crate) fn positive_count(input: Input<'_>) -> Result<usize, String> {
    let n = match input {
        Input::File(toml::Value::Integer(n)) => Some(*n),
        _ => input.text().and_then(|s| s.trim().parse::<i64>().ok()),
    };
    match n {
        Some(n) if n > 0 => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
        _ => Err(format!(
            "expected a whole number greater than zero, found {}",
            input.describe()
        )),
    }
}

/// One of a fixed set of words (`"serve"` or `"refuse"`), mapped to its value.
#[cfg_attr(
    not(any(feature = "hyper", feature = "state")),
    allow(dead_code, reason = "read by the feature sections only")
)]
pub(crate) fn one_of<T: Copy>(input: Input<'_>, words: &[(&str, T)]) -> Result<T, String> {
    let given = input.text().map(str::trim);
    let names: Vec<&str> = words.iter().map(|(w, _)| *w).collect();
    let quoted: Vec<String> = names.iter().map(|w| format!("\"{w}\"")).collect();
    match given.and_then(|g| words.iter().find(|(w, _)| *w == g)) {
        Some((_, v)) => Ok(*v),
        None => Err(format!(
            "`{}` is not accepted{}; expected {}",
            input.describe(),
            given.map_or_else(String::new, |g| shutdown_grammar::hint(g, &names)),
            quoted.join(" or ")
        )),
    }
}
