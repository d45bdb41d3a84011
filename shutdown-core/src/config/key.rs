//! One declarative table per configuration section, and the one reader every section shares.
//!
//! A [`Section`] lists its [`Key`]s: the name in the file, the environment variable, the
//! parser and a doc line. From that table alone come
//!
//! - the file reader ([`Section::read_file`]): every key of the section's TOML table is parsed,
//!   and an unknown key gets the same error in every section, with the file, the line and a
//!   "did you mean";
//! - the environment reader ([`Section::read_env`]);
//! - the `#[graceful::main]` argument reader ([`Section::read_args`]);
//! - `Display` ([`Section::rows`]), the admin API's `GET /config` ([`Section::json`]) and the
//!   tables in README.md and docs/ ([`Section::markdown`], checked by a test).
//!
//! Adding a key is one row (usually through the crate's `key!` macro) plus its field.

use std::path::PathBuf;
use std::sync::Arc;

use shutdown_grammar::ArgValue;

use super::value::{Input, Row, Shown};
use super::{Config, ConfigError, ConfigIssue, Env, Source, toml};

/// One key of a section: its name in the file, its environment variable, its parser (which
/// also stores the value) and its doc line.
pub(crate) struct Key<C: 'static> {
    /// The key in the file (`drain_timeout`; inside its section for `[admin]` …).
    pub name: &'static str,
    /// The environment variable that sets it, if any.
    pub env: Option<&'static str>,
    /// One line for the docs table.
    #[cfg_attr(
        not(test),
        allow(
            dead_code,
            reason = "read by the tests that keep the docs tables in step"
        )
    )]
    pub doc: &'static str,
    /// Parses one value and stores it with its source.
    pub read: fn(&mut C, Input<'_>, Source) -> Result<(), String>,
    /// The current value, for `Display`, `/config` and the docs.
    pub show: fn(&C) -> Shown,
    /// Takes the value of a lower layer (a builder's) where no file or variable set it: the
    /// first argument is the loaded section, the second the lower layer.
    pub fill: fn(&mut C, &C),
}

impl<C> std::fmt::Debug for Key<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("name", &self.name)
            .field("env", &self.env)
            .finish_non_exhaustive()
    }
}

/// A row of a key table for a [`Setting`] field: `key!("name", Some("ENV"), field,
/// parser, "doc")`, where `parser` is a `fn(Input) -> Result<T, String>` from
/// [`value`](super::value).
///
/// `key!(plain "name", …)` is the same for a field that is the value itself, not a `Setting`.
macro_rules! key {
    (plain $name:literal, $env:expr, $field:ident, $parse:path, $doc:literal) => {
        $crate::config::Key {
            name: $name,
            env: $env,
            doc: $doc,
            read: |c, input, _source| {
                c.$field = $parse(input)?;
                Ok(())
            },
            show: |c| $crate::config::value::Show::show(&c.$field),
            // A plain value has no source: the lower layer cannot tell it was set.
            fill: |_, _| {},
        }
    };
    // A core key: its name, variable and doc line are the row `$spec` of the table the macros
    // share (`shutdown_grammar::keys`).
    (spec $spec:path, $field:ident, $parse:path) => {
        $crate::config::key!(@setting $spec.name, $spec.env, $field, $parse, $spec.doc)
    };
    ($name:literal, $env:expr, $field:ident, $parse:path, $doc:literal) => {
        $crate::config::key!(@setting $name, $env, $field, $parse, $doc)
    };
    // A key whose field is a `Setting` (it keeps where its value came from).
    (@setting $name:expr, $env:expr, $field:ident, $parse:path, $doc:expr) => {
        $crate::config::Key {
            name: $name,
            env: $env,
            doc: $doc,
            read: |c, input, source| {
                let v = $parse(input)?;
                c.$field.set(v, source);
                Ok(())
            },
            show: |c| $crate::config::Shown::setting(&c.$field),
            fill: |c, lower| {
                if c.$field.source == $crate::config::Source::Default {
                    c.$field = lower.$field.clone();
                }
            },
        }
    };
}
pub(crate) use key;

/// A section of the configuration: the top level of the file (`name` empty) or a table such as
/// `[admin]`, with its key table and the rules between its keys.
pub(crate) struct Section<C: 'static> {
    /// The table's name in the file; empty for the top level.
    pub name: &'static str,
    /// The keys, in the order the docs list them.
    pub keys: &'static [Key<C>],
    /// The rules between keys (and against the core's settings), checked once every key of
    /// the section is read; also reads what is not one key (the admin API's key variables).
    pub check: fn(&mut C, &Config, &Env, &mut Vec<ConfigIssue>),
}

/// A section without rules between its keys.
pub(crate) fn no_rules<C>(_: &mut C, _: &Config, _: &Env, _: &mut Vec<ConfigIssue>) {}

impl<C> std::fmt::Debug for Section<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Section")
            .field("name", &self.name)
            .field("keys", &self.names())
            .finish()
    }
}

/// The configuration file's text and path, kept so that every section's errors can name a
/// line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileText {
    pub(crate) path: PathBuf,
    pub(crate) text: Arc<str>,
}

impl<C> Section<C> {
    /// A feature section's value: `target` (its defaults, or a builder's values), then the
    /// section of `config`'s file, then the environment `env` (which wins), then the section's
    /// rules. Every bad value and every broken rule is reported at once, naming its source.
    ///
    /// # Errors
    /// A [`ConfigError`] listing every issue.
    pub(crate) fn load(&self, mut target: C, config: &Config, env: &Env) -> Result<C, ConfigError> {
        let mut issues = Vec::new();
        config.read_section(self, &mut target, &mut issues);
        self.read_env(&mut target, env, &mut issues);
        (self.check)(&mut target, config, env, &mut issues);
        if issues.is_empty() {
            Ok(target)
        } else {
            Err(ConfigError { issues })
        }
    }

    /// `lower`'s value of every key that `loaded` took from its default: a builder's values
    /// under what the file and the environment set.
    #[cfg_attr(
        not(feature = "admin"),
        allow(
            dead_code,
            reason = "only the admin API has builder values under its section"
        )
    )]
    pub(crate) fn fill(&self, loaded: &mut C, lower: &C) {
        for key in self.keys {
            (key.fill)(loaded, lower);
        }
    }

    /// The key named `name`.
    pub(crate) fn key(&self, name: &str) -> Option<&Key<C>> {
        self.keys.iter().find(|k| k.name == name)
    }

    /// Every key name, in table order.
    pub(crate) fn names(&self) -> Vec<&'static str> {
        self.keys.iter().map(|k| k.name).collect()
    }

    /// Every environment variable the section reads.
    pub(crate) fn env_vars(&self) -> Vec<&'static str> {
        self.keys.iter().filter_map(|k| k.env).collect()
    }

    /// How an issue names a key: `drain_timeout`, `admin.addr`.
    pub(crate) fn qualified(&self, key: &str) -> String {
        if self.name.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.name)
        }
    }

    /// Where the section is, for messages: "`[admin]`" or "the top level of the file".
    fn place(&self) -> String {
        if self.name.is_empty() {
            "the top level of the file".into()
        } else {
            format!("`[{}]`", self.name)
        }
    }

    /// Reads one `key = value` of the section's table. `also` are further names the section
    /// accepts (the core's feature tables), listed in the unknown-key error.
    pub(crate) fn read_one(
        &self,
        target: &mut C,
        key: &str,
        value: &toml::Value,
        file: &FileText,
        also: &[&str],
        issues: &mut Vec<ConfigIssue>,
    ) {
        let line = line_of(&file.text, self.name, key);
        let message = match self.key(key) {
            Some(k) => {
                match (k.read)(target, Input::File(value), Source::File(file.path.clone())) {
                    Ok(()) => return,
                    Err(m) => m,
                }
            }
            None => {
                let mut names = self.names();
                names.extend_from_slice(also);
                format!(
                    "unknown key `{key}` in {}{}; accepted keys: {}",
                    self.place(),
                    shutdown_grammar::hint(key, &names),
                    names.join(", ")
                )
            }
        };
        issues.push(ConfigIssue {
            key: self.qualified(key),
            source: Source::File(file.path.clone()),
            message: format!("line {line}: {message}"),
        });
    }

    /// Reads every key of the section's table.
    pub(crate) fn read_file(
        &self,
        target: &mut C,
        table: &toml::Table,
        file: &FileText,
        issues: &mut Vec<ConfigIssue>,
    ) {
        for (key, value) in table {
            self.read_one(target, key, value, file, &[], issues);
        }
    }

    /// Reads the section's environment variables that are set into `target`; every bad value
    /// is added to `issues`, naming the variable.
    pub(crate) fn read_env(&self, target: &mut C, env: &Env, issues: &mut Vec<ConfigIssue>) {
        for key in self.keys {
            let Some(var) = key.env else { continue };
            let Some(raw) = env.get(var) else { continue };
            let source = Source::Env(var.to_string());
            if let Err(message) = (key.read)(target, Input::Text(&raw), source.clone()) {
                issues.push(ConfigIssue {
                    key: var.to_string(),
                    source,
                    message,
                });
            }
        }
    }

    /// Applies `(key, value)` pairs written as arguments of `#[graceful::main]`, typed by the
    /// macro.
    pub(crate) fn read_args(
        &self,
        target: &mut C,
        args: &[(&str, ArgValue)],
    ) -> Result<(), ConfigError> {
        let mut issues = Vec::new();
        for (name, value) in args {
            let message = match self.key(name) {
                Some(k) => match (k.read)(target, Input::Arg(value), Source::Macro) {
                    Ok(()) => continue,
                    Err(m) => m,
                },
                None => format!("unknown key; accepted keys: {}", self.names().join(", ")),
            };
            issues.push(ConfigIssue {
                key: self.qualified(name),
                source: Source::Macro,
                message,
            });
        }
        if issues.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { issues })
        }
    }

    /// Every key's value and source, as `Display` prints them.
    pub(crate) fn rows(&self, target: &C) -> Vec<Row> {
        let mut out = Vec::new();
        for key in self.keys {
            (key.show)(target).rows(key.name, &mut out);
        }
        out
    }

    /// Every key as `{"key": {"value", "source"}}`, as `GET /config` shows them.
    #[cfg(feature = "serde")]
    #[cfg_attr(
        not(feature = "admin"),
        allow(dead_code, reason = "only the admin API's `/config` shows it")
    )]
    pub(crate) fn json(&self, target: &C) -> serde_json::Value {
        serde_json::Value::Object(
            self.keys
                .iter()
                .map(|k| (k.name.to_string(), (k.show)(target).to_json()))
                .collect(),
        )
    }

    /// The Markdown table of the section (key, environment variable, default, meaning), as
    /// README.md and docs/ show it; tests compare it with the tables there.
    #[cfg(test)]
    pub(crate) fn markdown(&self) -> String
    where
        C: Default,
    {
        let defaults = C::default();
        let mut out =
            String::from("| key | environment variable | default | meaning |\n|---|---|---|---|\n");
        for key in self.keys {
            let default = match (key.show)(&defaults) {
                Shown::Set(v, _) => *v,
                other => other,
            };
            let default = match default {
                Shown::Unset => "unset".to_string(),
                Shown::Map(m) if m.is_empty() => "none".to_string(),
                Shown::List(l) if l.is_empty() => "none".to_string(),
                Shown::Text(t) if t.is_empty() => "empty".to_string(),
                Shown::Map(m) => m
                    .iter()
                    .map(|(k, v)| format!("`{k}` = `{}`", v.text()))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => format!("`{}`", other.text()),
            };
            let env = key.env.map_or("—".to_string(), |v| format!("`{v}`"));
            out.push_str(&format!(
                "| `{}` | {env} | {default} | {} |\n",
                key.name, key.doc
            ));
        }
        out
    }
}

/// The line where `key` of `section` is first written (1 when it cannot be found): for the
/// top level, `key = …`, `"key" = …`, `[key]`, `[key.sub]`, `[[key]]` or `key.sub = …`; in a
/// section, the same after the section's header (or `section.key = …` at the top).
pub(crate) fn line_of(text: &str, section: &str, key: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let find = |from: usize, until: usize, key: &str| -> Option<usize> {
        lines[from..until]
            .iter()
            .position(|l| starts_key(l, key))
            .map(|i| from + i)
    };
    let found = if section.is_empty() {
        find(0, lines.len(), key)
    } else {
        let dotted = format!("{section}.{key}");
        let header = lines.iter().position(|l| is_header(l, section, None));
        let sub = lines.iter().position(|l| is_header(l, section, Some(key)));
        sub.or_else(|| {
            header.and_then(|h| {
                let end = lines[h + 1..]
                    .iter()
                    .position(|l| l.trim_start().starts_with('['))
                    .map_or(lines.len(), |i| h + 1 + i);
                find(h + 1, end, key)
            })
        })
        .or_else(|| find(0, lines.len(), &dotted))
        .or(header)
    };
    found.map_or(1, |i| i + 1)
}

/// `key = …`, `"key" = …`, `key.sub = …`, `[key]`, `[key.sub]` or `[[key]]`.
fn starts_key(line: &str, key: &str) -> bool {
    let l = line.trim_start();
    let header = l.trim_start_matches('[').trim_start();
    let quoted = format!("\"{key}\"");
    let at = |rest: &str| {
        [key, quoted.as_str()].iter().any(|k| {
            rest.strip_prefix(k)
                .is_some_and(|after| after.trim_start().starts_with(['=', '.', ']']))
        })
    };
    (l.starts_with('[') && at(header)) || at(l)
}

/// `[section]`, `[[section]]`, or with `sub`, `[section.sub]` / `[[section.sub]]`.
fn is_header(line: &str, section: &str, sub: Option<&str>) -> bool {
    let l = line.trim();
    if !l.starts_with('[') {
        return false;
    }
    let inner = l.trim_start_matches('[').trim_end_matches(']').trim();
    match sub {
        None => inner == section,
        Some(s) => inner == format!("{section}.{s}"),
    }
}
