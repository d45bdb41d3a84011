//! The arguments of `#[graceful::main]`, as values.

use std::path::PathBuf;

use crate::config::{Config, ConfigError, Env};

pub use shutdown_grammar::ArgValue;

/// Which tokio runtime the [`Entry`](super::Entry) builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// `tokio::runtime::Builder::new_multi_thread` (the default).
    #[default]
    MultiThread,
    /// `tokio::runtime::Builder::new_current_thread`.
    CurrentThread,
}

/// The arguments of `#[graceful::main]`, already checked at compile time; what
/// [`Entry::from_args`](super::Entry::from_args) takes. The configuration arguments are kept
/// under their configuration keys as typed values (a duration stays a [`Duration`]); what is
/// not given is left to the file, the environment and the defaults.
///
/// [`Duration`]: std::time::Duration
///
/// ```
/// use std::time::Duration;
/// use graceful::{ArgValue, MainArgs};
///
/// // `#[graceful::main(timeout = "20s", drain = "5s")]`
/// let args = MainArgs {
///     settings: vec![
///         ("timeout", ArgValue::Duration(Duration::from_secs(20))),
///         ("drain_timeout", ArgValue::Duration(Duration::from_secs(5))),
///     ],
///     ..MainArgs::default()
/// };
/// let config = args.config(&graceful::Env::None).expect("valid");
/// assert_eq!(config.timeout.value, Duration::from_secs(20));
/// assert_eq!(config.timeout.source, graceful::Source::Macro);
/// ```
#[derive(Debug, Clone, Default)]
pub struct MainArgs {
    /// The configuration arguments (`timeout`, `drain`, `signals`, …) as `(configuration key,
    /// value)`, applied with [`Source::Macro`](crate::Source):
    /// `vec![("timeout", ArgValue::Duration(Duration::from_secs(30))), ("signals",
    /// ArgValue::Signals(&["SIGTERM", "SIGINT"]))]`.
    pub settings: Vec<(&'static str, ArgValue)>,
    /// `config = "path"`: the configuration file.
    pub config: Option<&'static str>,
    /// `flavor = "…"`: the runtime's flavor.
    pub flavor: Flavor,
    /// `worker_threads = N`: the runtime's worker threads.
    pub worker_threads: Option<usize>,
    /// `expect_resources = N`: fail start-up when fewer resources are registered.
    pub expect_resources: usize,
    /// `admin = "127.0.0.1:9090"`: start the admin API (feature `admin`) on this address.
    pub admin: Option<&'static str>,
    /// `init = path::to::function`: runs first, before the engine, the runtime and any
    /// resource exist; the place to install a `tracing` subscriber so that the resources'
    /// constructor logs and the `graceful::startup` lines are seen. See
    /// [`Entry::init`](super::Entry::init).
    pub init: Option<fn()>,
}

impl MainArgs {
    /// The configuration: defaults < these arguments (with [`Source::Macro`](crate::Source))
    /// < the file (`config`, else `SHUTDOWN_CONFIG`) < the environment `env`.
    pub fn config(&self, env: &Env) -> Result<Config, ConfigError> {
        Config::default()
            .apply_args(&self.settings)?
            .load(self.config.map(PathBuf::from), env)
    }
}
