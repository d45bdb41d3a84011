//! Where a configuration value came from.

use std::fmt;
use std::path::PathBuf;

/// The origin of one configuration value. Later sources override earlier ones:
/// `Default < Builder < Macro < File < Env`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(
    feature = "serde",
    serde(tag = "kind", content = "at", rename_all = "snake_case")
)]
pub enum Source {
    /// The built-in default.
    Default,
    /// Set in code through [`GracefulBuilder`](crate::GracefulBuilder).
    Builder,
    /// An argument of `#[graceful::main(...)]`.
    Macro,
    /// A key of the TOML configuration file.
    File(PathBuf),
    /// An environment variable.
    Env(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::Builder => f.write_str("builder"),
            Source::Macro => f.write_str("#[graceful::main]"),
            Source::File(p) => write!(f, "file {}", p.display()),
            Source::Env(v) => write!(f, "env {v}"),
        }
    }
}

/// A configuration value together with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Setting<T> {
    /// The effective value.
    pub value: T,
    /// Which source set it.
    pub source: Source,
}

impl<T> Setting<T> {
    /// A built-in default.
    pub fn default_value(value: T) -> Self {
        Setting {
            value,
            source: Source::Default,
        }
    }

    /// Replaces the value, recording the new source.
    pub fn set(&mut self, value: T, source: Source) {
        self.value = value;
        self.source = source;
    }
}
