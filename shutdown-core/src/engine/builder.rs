//! [`Graceful::builder`]: configure an engine in code, with no macros and no globals.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{Config, ConfigError, Env, Source};
use crate::error::BoxError;
use crate::phase::Phase;
use crate::reason::Signal;
use crate::resource::{Resource, ResourceSpec, Resources};
use crate::shutdown::{Hook, Shutdown};

use super::ledger::RunState;

/// An engine, ready to [`run`](Graceful::run) a program.
///
/// ```
/// use std::time::Duration;
/// use graceful::{Graceful, Resource};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let graceful = Graceful::builder()
///     .timeout(Duration::from_secs(5))
///     .drain_timeout(Duration::from_secs(2))  // must fit in the timeout
///     .signals([])                      // tests: no signal handlers
///     .resource(Resource::from_value("greeting", 10, String::from("hello")))
///     .build()
///     .expect("valid configuration");
/// let outcome = graceful
///     .run(|shutdown| async move {
///         let greeting = shutdown.resources().get::<String>().expect("registered");
///         assert_eq!(greeting.as_str(), "hello");
///     })
///     .await;
/// assert!(!outcome.report.is_forced());
/// # }
/// ```
pub struct Graceful {
    pub(crate) shutdown: Shutdown,
    pub(crate) run: Arc<RunState>,
    pub(crate) specs: Vec<ResourceSpec>,
    pub(crate) process_owner: bool,
    pub(crate) expect_resources: usize,
}

impl Graceful {
    /// Starts configuring an engine.
    pub fn builder() -> GracefulBuilder {
        GracefulBuilder::default()
    }

    /// A handle to this engine (the same one `run` passes to `main`).
    pub fn shutdown(&self) -> Shutdown {
        self.shutdown.clone()
    }
}

impl std::fmt::Debug for Graceful {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graceful")
            .field("shutdown", &self.shutdown)
            .field("resources", &self.specs)
            .finish()
    }
}

/// Configures a [`Graceful`] engine. Values set here have [`Source::Builder`] and are
/// overridden by the configuration file and the environment only when
/// [`load_file_and_env`](GracefulBuilder::load_file_and_env) is used.
#[derive(Default)]
pub struct GracefulBuilder {
    config: Config,
    specs: Vec<ResourceSpec>,
    hooks: Vec<Hook>,
    load: Option<(Option<PathBuf>, Env)>,
    process_owner: bool,
    expect_resources: usize,
}

impl std::fmt::Debug for GracefulBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GracefulBuilder")
            .field("config", &self.config)
            .field("resources", &self.specs)
            .finish_non_exhaustive()
    }
}

impl GracefulBuilder {
    /// Replaces the whole configuration (for example one built by the macro's layers).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The overall deadline (default 30 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.config.timeout.set(d, Source::Builder);
        self
    }

    /// The drain deadline (default 10 s).
    pub fn drain_timeout(mut self, d: Duration) -> Self {
        self.config.drain_timeout.set(d, Source::Builder);
        self
    }

    /// The deadline of each resource's close (default 5 s).
    pub fn resource_close_timeout(mut self, d: Duration) -> Self {
        self.config.resource_close_timeout.set(d, Source::Builder);
        self
    }

    /// How long listeners keep accepting after readiness turns false (default 0).
    pub fn readiness_delay(mut self, d: Duration) -> Self {
        self.config.readiness_delay.set(d, Source::Builder);
        self
    }

    /// A budget for the whole priority class `priority` while closing.
    pub fn class_budget(mut self, priority: i32, d: Duration) -> Self {
        self.config.class_budgets.insert(
            priority,
            crate::config::Setting {
                value: d,
                source: Source::Builder,
            },
        );
        self
    }

    /// Which signals start a shutdown (default SIGTERM, SIGINT, SIGHUP). Pass `[]` in tests
    /// that build many engines in one process.
    pub fn signals(mut self, signals: impl IntoIterator<Item = Signal>) -> Self {
        self.config
            .signals
            .set(signals.into_iter().collect(), Source::Builder);
        self
    }

    /// How close together two deliveries of the same signal must arrive to count as one
    /// (default 300 ms): a process-group `kill` plus a wrapper that forwards it delivers two
    /// within a millisecond. The same signal after the window, or another signal, is a second
    /// signal and forces the exit. `Duration::ZERO` counts every delivery.
    pub fn signal_repeat_window(mut self, d: Duration) -> Self {
        self.config.signal_repeat_window.set(d, Source::Builder);
        self
    }

    /// How long the [`SavingState`](Phase::SavingState) hooks may still run when the shutdown
    /// is forced (default 2 s, at most half the overall timeout); `Duration::ZERO` skips the
    /// save on a forced shutdown. See [`Config::forced_save_timeout`].
    pub fn forced_save_timeout(mut self, d: Duration) -> Self {
        self.config.forced_save_timeout.set(d, Source::Builder);
        self
    }

    /// Where state snapshots and the last report are written.
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.state_dir.set(Some(dir.into()), Source::Builder);
        self
    }

    /// Also draw the last shutdown as a picture, `last-shutdown.svg`, beside the report in the
    /// [state directory](GracefulBuilder::state_dir) (default `false`; the `report_svg` key).
    #[cfg(feature = "timeline")]
    #[cfg_attr(docsrs, doc(cfg(feature = "timeline")))]
    pub fn report_svg(mut self, on: bool) -> Self {
        self.config.report_svg.set(on, Source::Builder);
        self
    }

    /// Whether to exit the process at the overall deadline even if work is stuck (default
    /// `true`; only acts when the engine owns the process, see
    /// [`process_owner`](GracefulBuilder::process_owner)).
    pub fn force_after_timeout(mut self, force: bool) -> Self {
        self.config.force_after_timeout.set(force, Source::Builder);
        self
    }

    /// Whether the drain waits for tracked in-flight work (default `true`); `false` goes on
    /// to saving state and closing resources at once, abandoning what is still in flight.
    pub fn wait_for_connections(mut self, wait: bool) -> Self {
        self.config.wait_for_connections.set(wait, Source::Builder);
        self
    }

    /// Reads the configuration file (`path`, or `SHUTDOWN_CONFIG`) and the environment on
    /// top of what the builder set, at [`build`](GracefulBuilder::build).
    pub fn load_file_and_env(mut self, path: Option<PathBuf>, env: Env) -> Self {
        self.load = Some((path, env));
        self
    }

    /// Adds a resource.
    pub fn resource<T: Send + Sync + 'static>(mut self, resource: Resource<T>) -> Self {
        self.specs.push(resource.into_spec());
        self
    }

    /// Adds a type-erased resource (what the macros register).
    pub fn resource_spec(mut self, spec: ResourceSpec) -> Self {
        self.specs.push(spec);
        self
    }

    /// Adds every resource registered with `#[graceful::resource]` in the linked crates.
    pub fn registered_resources(mut self) -> Self {
        self.specs.extend(crate::resource::registered());
        self
    }

    /// Adds a hook that runs during `phase`; see [`Shutdown::on_phase`].
    pub fn on_phase<F, Fut>(mut self, phase: Phase, name: impl Into<String>, hook: F) -> Self
    where
        F: FnOnce(Shutdown) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        self.hooks.push(Hook::new(phase, name.into(), hook));
        self
    }

    /// Declares that the program expects at least `n` resources. Start-up fails with an
    /// error that explains the `inventory` linking rule when fewer are registered — the
    /// silent failure mode of registrations in crates the binary never references.
    pub fn expect_resources(mut self, n: usize) -> Self {
        self.expect_resources = n;
        self
    }

    /// Declares that the engine owns the process: at the overall deadline a watchdog thread
    /// ends the process even if the runtime is stuck — with [`FORCED`](crate::exit::FORCED),
    /// naming what held it and writing the report, or, when the shutdown finished but blocking
    /// work keeps the runtime from stopping, with the code the report decides — and a second
    /// signal exits at once with `128 + signal`. [`Entry`](crate::Entry) (and so
    /// `#[graceful::main]`) sets this; leave it off in tests that run engines inside a test
    /// binary.
    pub fn process_owner(mut self, owner: bool) -> Self {
        self.process_owner = owner;
        self
    }

    /// Validates the configuration and returns the engine. Resources are built by
    /// [`Graceful::run`].
    pub fn build(self) -> Result<Graceful, ConfigError> {
        let config = match self.load {
            Some((path, env)) => self.config.load(path, &env)?,
            None => self.config.validated()?,
        };
        for w in config.warnings() {
            tracing::warn!(target: "graceful::config", "{w}");
        }
        let run = Arc::new(RunState::default());
        run.add_hooks(self.hooks);
        let shutdown = Shutdown::new(Arc::new(config), Resources::default(), run.clone());
        Ok(Graceful {
            shutdown,
            run,
            specs: self.specs,
            process_owner: self.process_owner,
            expect_resources: self.expect_resources,
        })
    }
}
