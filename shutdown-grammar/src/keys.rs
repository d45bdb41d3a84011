//! The core keys of the configuration, in one table both the engine and `#[graceful::main]`
//! read: each key's name in the file, its environment variable, the argument of
//! `#[graceful::main]` that sets it (if any) and the other names users write for it, what it
//! holds, its default and its doc line.
//!
//! The engine binds each row to a field of its `Config` and a parser; the macro accepts the
//! rows that have an argument, checks the value with this crate's grammar at compile time and
//! hands the engine an [`ArgValue`], already typed. Adding a core key is one row here plus its
//! field in the engine.

use std::time::Duration;

use crate::defaults;

/// What a key holds, and so how it is written and parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// A duration: `"30s"`, `30`, `1.5`.
    Duration,
    /// An optional duration: unset unless given.
    OptionalDuration,
    /// `true` or `false`.
    Bool,
    /// A list of signals: `["SIGTERM", "15"]`.
    Signals,
    /// A path.
    Path,
    /// A table of durations by priority (`[class_budgets]`).
    DurationTable,
}

/// A value given in code: a default of the table, or an argument of `#[graceful::main]`
/// after the macro checked it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArgValue {
    /// A duration.
    Duration(Duration),
    /// A boolean.
    Bool(bool),
    /// Signals by their canonical names (`"SIGTERM"`), as [`parse_signal`](crate::parse_signal)
    /// returns them.
    Signals(&'static [&'static str]),
}

/// The default of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DefaultValue {
    /// A value.
    Value(ArgValue),
    /// Unset (an optional key).
    Unset,
    /// Depends on the platform (the signals: SIGTERM, SIGINT, SIGHUP on Unix; the console
    /// events on Windows).
    Platform,
}

/// One core key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    /// The key at the top level of the file.
    pub name: &'static str,
    /// The environment variable that sets it, if any.
    pub env: Option<&'static str>,
    /// The argument of `#[graceful::main]` that sets it, if any.
    pub argument: Option<&'static str>,
    /// Other names users write for the argument (the key's name in the file when the argument
    /// is shorter, another crate's name for it); the macro answers them with "did you mean".
    pub aliases: &'static [&'static str],
    /// What it holds.
    pub kind: Kind,
    /// Its default.
    pub default: DefaultValue,
    /// One line for the docs table.
    pub doc: &'static str,
}

const fn duration(d: Duration) -> DefaultValue {
    DefaultValue::Value(ArgValue::Duration(d))
}

const fn boolean(b: bool) -> DefaultValue {
    DefaultValue::Value(ArgValue::Bool(b))
}

/// `timeout`.
pub const TIMEOUT: KeySpec = KeySpec {
    name: "timeout",
    env: Some("SHUTDOWN_TIMEOUT"),
    argument: Some("timeout"),
    aliases: &["shutdown_timeout"],
    kind: Kind::Duration,
    default: duration(defaults::TIMEOUT),
    doc: "bounds the whole shutdown, from the trigger to the last flush",
};

/// `drain_timeout`.
pub const DRAIN_TIMEOUT: KeySpec = KeySpec {
    name: "drain_timeout",
    env: Some("SHUTDOWN_DRAIN_TIMEOUT"),
    argument: Some("drain"),
    aliases: &["drain_timeout"],
    kind: Kind::Duration,
    default: duration(defaults::DRAIN_TIMEOUT),
    doc: "bounds the wait for in-flight work (`drain` in `#[graceful::main]`)",
};

/// `resource_close_timeout`.
pub const RESOURCE_CLOSE_TIMEOUT: KeySpec = KeySpec {
    name: "resource_close_timeout",
    env: Some("SHUTDOWN_RESOURCE_CLOSE_TIMEOUT"),
    argument: Some("close_timeout"),
    aliases: &["resource_close_timeout"],
    kind: Kind::Duration,
    default: duration(defaults::RESOURCE_CLOSE_TIMEOUT),
    doc: "bounds each resource's close (`close_timeout` in `#[graceful::main]`)",
};

/// `readiness_delay`.
pub const READINESS_DELAY: KeySpec = KeySpec {
    name: "readiness_delay",
    env: Some("SHUTDOWN_READINESS_DELAY"),
    argument: Some("readiness_delay"),
    aliases: &[],
    kind: Kind::Duration,
    default: duration(defaults::READINESS_DELAY),
    doc: "how long listeners keep accepting after readiness turns false",
};

/// `force_after_timeout`.
pub const FORCE_AFTER_TIMEOUT: KeySpec = KeySpec {
    name: "force_after_timeout",
    env: Some("SHUTDOWN_FORCE_AFTER_TIMEOUT"),
    argument: None,
    aliases: &[],
    kind: Kind::Bool,
    default: boolean(true),
    doc: "exit at `timeout` even if work is stuck; `false` records the deadline and waits",
};

/// `wait_for_connections`.
pub const WAIT_FOR_CONNECTIONS: KeySpec = KeySpec {
    name: "wait_for_connections",
    env: Some("SHUTDOWN_WAIT_FOR_CONNECTIONS"),
    argument: Some("wait_for_connections"),
    aliases: &[],
    kind: Kind::Bool,
    default: boolean(true),
    doc: "wait for in-flight work while draining; `false` goes straight on to closing",
};

/// `signals`.
pub const SIGNALS: KeySpec = KeySpec {
    name: "signals",
    env: Some("SHUTDOWN_SIGNALS"),
    argument: Some("signals"),
    aliases: &[],
    kind: Kind::Signals,
    default: DefaultValue::Platform,
    doc: "signals that start a shutdown: names or numbers, a list in the file, comma-separated in the environment",
};

/// `signal_repeat_window`.
pub const SIGNAL_REPEAT_WINDOW: KeySpec = KeySpec {
    name: "signal_repeat_window",
    env: Some("SHUTDOWN_SIGNAL_REPEAT_WINDOW"),
    argument: None,
    aliases: &[],
    kind: Kind::Duration,
    default: duration(defaults::SIGNAL_REPEAT_WINDOW),
    doc: "the same signal again within it is one request; a second signal after it forces the exit (`0` counts every copy)",
};

/// `forced_save_timeout`.
pub const FORCED_SAVE_TIMEOUT: KeySpec = KeySpec {
    name: "forced_save_timeout",
    env: Some("SHUTDOWN_FORCED_SAVE_TIMEOUT"),
    argument: None,
    aliases: &[],
    kind: Kind::Duration,
    default: duration(defaults::FORCED_SAVE_TIMEOUT),
    doc: "how long the save hooks still run when the shutdown is forced (at most half of `timeout`; `0` skips them)",
};

/// `state_dir`.
pub const STATE_DIR: KeySpec = KeySpec {
    name: "state_dir",
    env: Some("SHUTDOWN_STATE_DIR"),
    argument: None,
    aliases: &[],
    kind: Kind::Path,
    default: DefaultValue::Unset,
    doc: "where state snapshots and the last shutdown report (JSON: feature `serde`) are written",
};

/// `report_svg`.
pub const REPORT_SVG: KeySpec = KeySpec {
    name: "report_svg",
    env: Some("SHUTDOWN_REPORT_SVG"),
    argument: None,
    aliases: &[],
    kind: Kind::Bool,
    default: boolean(false),
    doc: "also draw the last shutdown as `last-shutdown.svg` beside the report in `state_dir` (feature `timeline`)",
};

/// `grace_period`.
pub const GRACE_PERIOD: KeySpec = KeySpec {
    name: "grace_period",
    env: Some("SHUTDOWN_GRACE_PERIOD"),
    argument: None,
    aliases: &[],
    kind: Kind::OptionalDuration,
    default: DefaultValue::Unset,
    doc: "the orchestrator's grace period; a warning when the budgets add up to more",
};

/// `class_budgets`.
pub const CLASS_BUDGETS: KeySpec = KeySpec {
    name: "class_budgets",
    env: None,
    argument: None,
    aliases: &[],
    kind: Kind::DurationTable,
    default: DefaultValue::Unset,
    doc: "a budget for a whole priority class while closing: `[class_budgets]` `\"90\" = \"2s\"`",
};

/// Every core key, in the order the docs list them.
pub const CORE: &[KeySpec] = &[
    TIMEOUT,
    DRAIN_TIMEOUT,
    RESOURCE_CLOSE_TIMEOUT,
    READINESS_DELAY,
    FORCE_AFTER_TIMEOUT,
    WAIT_FOR_CONNECTIONS,
    SIGNALS,
    SIGNAL_REPEAT_WINDOW,
    FORCED_SAVE_TIMEOUT,
    STATE_DIR,
    REPORT_SVG,
    GRACE_PERIOD,
    CLASS_BUDGETS,
];

/// The core key `name`.
pub fn core(name: &str) -> Option<&'static KeySpec> {
    CORE.iter().find(|k| k.name == name)
}

/// The core key set by argument `argument` of `#[graceful::main]`.
pub fn by_argument(argument: &str) -> Option<&'static KeySpec> {
    CORE.iter().find(|k| k.argument == Some(argument))
}

/// Every argument of `#[graceful::main]` that sets a core key, in table order.
pub fn arguments() -> impl Iterator<Item = &'static str> {
    CORE.iter().filter_map(|k| k.argument)
}

/// The names users write for an argument that are not its name: `(written, argument)`, from
/// the rows' `aliases` (`drain_timeout` → `drain`).
pub fn argument_aliases() -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    for key in CORE {
        let Some(argument) = key.argument else {
            continue;
        };
        out.extend(key.aliases.iter().map(|a| (*a, argument)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_arguments_and_variables_are_unique() {
        for (i, a) in CORE.iter().enumerate() {
            for b in &CORE[i + 1..] {
                assert_ne!(a.name, b.name);
                assert!(a.env.is_none() || a.env != b.env, "{}", a.name);
                assert!(
                    a.argument.is_none() || a.argument != b.argument,
                    "{}",
                    a.name
                );
            }
        }
    }

    #[test]
    fn the_file_name_of_a_shortened_argument_points_at_it() {
        assert!(argument_aliases().contains(&("drain_timeout", "drain")));
        assert!(argument_aliases().contains(&("shutdown_timeout", "timeout")));
        assert_eq!(by_argument("close_timeout"), Some(&RESOURCE_CLOSE_TIMEOUT));
        assert_eq!(core("report_svg"), Some(&REPORT_SVG));
    }
}
