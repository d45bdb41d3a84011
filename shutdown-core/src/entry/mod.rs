//! The composition root: what a service's `main` does around the engine.
//! Its one public item is [`Entry`], at the crate root.

mod admin;
mod args;

use std::future::Future;
use std::process::ExitCode;
use std::sync::RwLock;
use std::time::{Duration, Instant};

pub use args::{ArgValue, Flavor, MainArgs};

use crate::config::{ConfigError, Env};
use crate::engine::{
    Graceful, GracefulBuilder, MainExit, MainOutput, RunOutcome, watchdog_deadline,
};
use crate::error::GetError;
use crate::exit;
use crate::report::MainOutcome;
use crate::resource::{BoxFuture, Res};
use crate::shutdown::Shutdown;
use crate::sync::{read, write};
use crate::took::Took;

/// Runs a program under the engine as the process's `main`.
///
/// [`Entry::run`] builds the tokio runtime, builds the engine (which installs the signal
/// handlers and arms the watchdog), starts the admin API if asked, runs `main` under the
/// engine, prints what went wrong to stderr, bounds the runtime's own shutdown by the overall
/// deadline, and returns the exit code the report decides ([`exit`]).
/// `#[graceful::main]` expands to a call of it, as `#[tokio::main]` expands to
/// `tokio::runtime::Builder` calls; a program configured with [`Graceful::builder`] calls it
/// too, so both doors give the same guarantees:
///
/// - the process exits by the overall deadline, even when a close blocks its thread or a
///   `spawn_blocking` task never returns (the runtime is shut down with a bound, and the
///   watchdog ends a process that is stuck anyway, naming what held it);
/// - the exit code follows one policy (see [`exit`]);
/// - `main`'s error is printed as `Error: …`, like Rust's own `fn main() -> Result`, and a
///   failed start-up, a forced shutdown or failed closes are printed too, on stderr, once,
///   whether or not a `tracing` subscriber is installed.
///
/// ```no_run
/// use std::process::ExitCode;
/// use std::time::Duration;
/// use graceful::{Entry, Graceful, Resource, Shutdown};
///
/// struct Db;
///
/// fn main() -> ExitCode {
///     let engine = Graceful::builder()
///         .timeout(Duration::from_secs(30))
///         .resource(Resource::from_value("db", 100, Db))
///         .load_file_and_env(None, graceful::Env::Process); // SHUTDOWN_* and the file
///     Entry::new(engine).run(|shutdown: Shutdown| async move {
///         shutdown.requested().await;
///     })
/// }
/// ```
///
/// A program that must own its runtime can still call [`Graceful::run`] itself; with
/// [`process_owner(true)`](crate::GracefulBuilder::process_owner) the watchdog still ends the
/// process by the deadline, and [`RunOutcome::exit_code`](crate::RunOutcome::exit_code) gives
/// the same code. What it gives up is the bounded runtime shutdown and the stderr lines.
#[must_use = "an Entry does nothing until `run`"]
pub struct Entry {
    builder: Result<GracefulBuilder, ConfigError>,
    flavor: Flavor,
    worker_threads: Option<usize>,
    admin: Option<String>,
    /// Runs first, before anything else: [`Entry::init`].
    init: Option<Box<dyn FnOnce()>>,
    /// Apply every `#[graceful::state]` (the macro's door).
    #[cfg_attr(
        not(feature = "state"),
        allow(dead_code, reason = "only the state feature registers states")
    )]
    registered_states: bool,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("builder", &self.builder)
            .field("flavor", &self.flavor)
            .field("worker_threads", &self.worker_threads)
            .field("admin", &self.admin)
            .field("init", &self.init.is_some())
            .finish()
    }
}

impl Entry {
    /// The entry for an engine configured in code. The engine owns the process
    /// ([`process_owner(true)`](GracefulBuilder::process_owner) is set). The builder's
    /// settings are used as they are: add
    /// [`load_file_and_env`](GracefulBuilder::load_file_and_env) to read the file and the
    /// environment, and [`registered_resources`](GracefulBuilder::registered_resources) to
    /// add the `#[graceful::resource]` constructors.
    pub fn new(builder: GracefulBuilder) -> Entry {
        Entry {
            builder: Ok(builder),
            flavor: Flavor::MultiThread,
            worker_threads: None,
            admin: None,
            init: None,
            registered_states: false,
        }
    }

    /// What `#[graceful::main(…)]` writes: the attribute's arguments over the defaults, the
    /// configuration file and the environment over them, every registered
    /// `#[graceful::resource]` (and, with the `state` feature, every `#[graceful::state]`),
    /// and the runtime and admin API the arguments ask for.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use graceful::{ArgValue, Entry, MainArgs};
    ///
    /// // What `#[graceful::main(timeout = "20s")] async fn main(shutdown: Shutdown)` writes:
    /// fn main() -> std::process::ExitCode {
    ///     async fn user_main(shutdown: graceful::Shutdown) {
    ///         shutdown.requested().await
    ///     }
    ///     let args = MainArgs {
    ///         settings: vec![("timeout", ArgValue::Duration(Duration::from_secs(20)))],
    ///         ..MainArgs::default()
    ///     };
    ///     Entry::from_args(args).run(user_main)
    /// }
    /// ```
    pub fn from_args(args: MainArgs) -> Entry {
        let builder = args.config(&Env::Process).map(|config| {
            Graceful::builder()
                .config(config)
                .registered_resources()
                .expect_resources(args.expect_resources)
        });
        Entry {
            builder,
            flavor: args.flavor,
            worker_threads: args.worker_threads,
            admin: args.admin.map(str::to_string),
            init: args.init.map(|f| Box::new(f) as Box<dyn FnOnce()>),
            registered_states: true,
        }
    }

    /// Changes the engine's configuration before it is built: adds resources or hooks next
    /// to the registered ones, for example.
    pub fn configure(mut self, f: impl FnOnce(GracefulBuilder) -> GracefulBuilder) -> Entry {
        self.builder = self.builder.map(f);
        self
    }

    /// Which runtime to build (default [`Flavor::MultiThread`]).
    pub fn flavor(mut self, flavor: Flavor) -> Entry {
        self.flavor = flavor;
        self
    }

    /// The number of worker threads of a multi-thread runtime (default: tokio's, one per
    /// core).
    pub fn worker_threads(mut self, n: usize) -> Entry {
        self.worker_threads = Some(n);
        self
    }

    /// Starts the admin API (feature `admin`) on `addr` before resources are built;
    /// `[admin]` in the configuration file and `GRACEFUL_ADMIN_*` still apply on top. A
    /// configured `linger` keeps it answering after the shutdown, up to the overall deadline
    /// at the latest. Without the feature, `run` fails with [`exit::CONFIG_ERROR`] and says how
    /// to enable it.
    pub fn admin(mut self, addr: impl Into<String>) -> Entry {
        self.admin = Some(addr.into());
        self
    }

    /// Runs `init` first, before anything else: before the engine is built, before the
    /// runtime, the signal handlers, the admin API and the first resource constructor. This
    /// is where a `tracing` subscriber goes, so that what the constructors log and the
    /// engine's `graceful::startup` lines are printed: a subscriber installed in `main` comes
    /// too late, since `main` runs once every resource is built. `#[graceful::main(init =
    /// path)]` sets it.
    ///
    /// ```no_run
    /// use graceful::{Entry, Graceful, Shutdown};
    ///
    /// fn logging() {
    ///     // e.g. tracing_subscriber::fmt().init();
    /// }
    ///
    /// fn main() -> std::process::ExitCode {
    ///     let engine = Graceful::builder().registered_resources();
    ///     Entry::new(engine)
    ///         .init(logging)
    ///         .run(|shutdown: Shutdown| async move { shutdown.requested().await })
    /// }
    /// ```
    pub fn init(mut self, f: impl FnOnce() + 'static) -> Entry {
        self.init = Some(Box::new(f));
        self
    }

    /// Runs `main` under the engine and returns the process's exit code; see [`Entry`] for
    /// everything this does, and [`exit`] for the codes.
    pub fn run<F, Fut>(self, main: F) -> ExitCode
    where
        F: FnOnce(Shutdown) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: MainOutput,
    {
        // Only this line is compiled in the program; everything else once, in this crate.
        self.run_main(Box::new(move |shutdown| {
            let fut = main(shutdown);
            Box::pin(async move { fut.await.into_main_exit() })
        }))
    }

    /// [`run`](Self::run) with `main`'s type erased.
    fn run_main(mut self, main: MainFn<'_>) -> ExitCode {
        if let Some(init) = self.init.take() {
            init();
        }
        let graceful = match self.builder.and_then(|b| b.process_owner(true).build()) {
            Ok(g) => g,
            Err(e) => {
                eprintln!("graceful: {e}");
                return ExitCode::from(exit::CONFIG_ERROR);
            }
        };
        // Every `#[graceful::state]` of the program: restored with the resources, saved in
        // SavingState.
        #[cfg(feature = "state")]
        let graceful = if self.registered_states {
            graceful.registered_states()
        } else {
            graceful
        };
        let shutdown = graceful.shutdown();
        for w in shutdown.config().warnings() {
            eprintln!("graceful: warning: {w}");
        }
        let mut builder = match self.flavor {
            Flavor::MultiThread => tokio::runtime::Builder::new_multi_thread(),
            Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread(),
        };
        if let Some(n) = self.worker_threads {
            builder.worker_threads(n);
        }
        let runtime = match builder.enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("graceful: cannot start the tokio runtime: {e}");
                return ExitCode::from(exit::STARTUP_FAILED);
            }
        };
        // Kept alive until the process exits; the listener stops with the runtime.
        let admin = match admin::start(&runtime, &shutdown, self.admin.as_deref()) {
            Ok(admin) => admin,
            Err(e) => {
                eprintln!("graceful: {e}");
                return ExitCode::from(exit::CONFIG_ERROR);
            }
        };
        set_current(Some(shutdown.clone()));
        let outcome = runtime.block_on(graceful.run_boxed(main));
        tell(&outcome);
        let at = watchdog_deadline(shutdown.control().shutdown_start(), shutdown.timeout());
        admin::linger(&runtime, &admin, at);
        // Bound the runtime's own shutdown (a stuck `spawn_blocking`, a close blocking a
        // worker) so that the process ends before the watchdog would have to end it.
        let left = at.saturating_duration_since(Instant::now());
        runtime.shutdown_timeout(left.max(Duration::from_millis(10)));
        set_current(None);
        outcome.exit_code()
    }
}

/// Prints to stderr, once, what an operator must see whatever the logging set-up: a failed
/// start-up, `main`'s error (as Rust's own `main` prints it), and why the exit code is not 0.
fn tell(outcome: &RunOutcome) {
    let report = &outcome.report;
    if let Some(e) = &report.startup_error {
        eprintln!("graceful: start-up failed: {e}");
    }
    if let MainOutcome::Error(e) = &report.main {
        eprintln!("Error: {e}");
    }
    let code = outcome.code();
    let reason = report
        .reason
        .as_ref()
        .map_or_else(String::new, |r| format!(" ({r})"));
    // The words of the exit-code table: 69 *failed*, 74 *completed with errors*.
    let headline = if report.is_forced() {
        format!(
            "graceful: shutdown forced after {}{reason}",
            Took(report.total)
        )
    } else if code == Some(exit::FAILED) {
        format!(
            "graceful: shutdown failed in {}{reason}",
            Took(report.total)
        )
    } else if code == Some(exit::COMPLETED_WITH_ERRORS) {
        format!(
            "graceful: shutdown completed with errors in {}{reason}",
            Took(report.total)
        )
    } else {
        return;
    };
    match code {
        Some(c) => eprintln!("{headline}; exiting with {c}"),
        None => eprintln!("{headline}"),
    }
    // The start-up and `main` lines were printed above.
    let errors = report.errors();
    let skip = usize::from(report.startup_error.is_some())
        + usize::from(matches!(
            report.main,
            MainOutcome::Error(_) | MainOutcome::Panicked(_)
        ));
    for e in errors.iter().skip(skip) {
        eprintln!("graceful:   {e}");
    }
    for a in &report.abandoned {
        eprintln!("graceful:   abandoned: {a}");
    }
}

/// `main` with its type erased: what [`Entry::run`] hands the engine.
type MainFn<'a> = Box<dyn FnOnce(Shutdown) -> BoxFuture<MainExit> + 'a>;

static CURRENT: RwLock<Option<Shutdown>> = RwLock::new(None);

fn set_current(shutdown: Option<Shutdown>) {
    *write(&CURRENT) = shutdown;
}

/// The engine an [`Entry`] runs, if any.
pub(crate) fn current() -> Option<Shutdown> {
    read(&CURRENT).clone()
}

/// `graceful::get::<T>()`.
pub(crate) fn get<T: Send + Sync + 'static>() -> Result<Res<T>, GetError> {
    match current() {
        Some(s) => s.resources().get::<T>(),
        None => Err(GetError::NoEngine {
            type_name: std::any::type_name::<T>(),
        }),
    }
}
