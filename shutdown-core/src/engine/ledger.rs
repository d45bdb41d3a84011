//! The engine's run state: what the engine records while it runs, apart from the [`Shutdown`]
//! handle that programs hold.
//!
//! The handle carries the trigger, the phase, the events, the in-flight tracker and the
//! resources; what the engine keeps about *its run* lives here: whether start-up finished, the
//! close counts and errors behind [`Progress`](crate::report::Progress), the phase hooks still to run,
//! the table of tracked tasks (aborted at the drain deadline), the feature extensions (with the
//! progress and abandon reporters and the finish futures), the handles of resources released
//! in place, and the final report. The
//! engine holds the `RunState` (in [`Graceful`](crate::Graceful)) and writes it through the
//! methods below; the handle holds it only as a [`RunView`], the narrow interface it may read
//! and add to. Each method takes its lock once (see [`crate::sync`]) and runs no user code
//! while holding it.

use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::watch;

use crate::phase::Phase;
use crate::report::ShutdownReport;
use crate::resource::AnyArc;
use crate::shutdown::{Extensions, Hook, RunView, TaskTable};
use crate::sync::lock;

/// The counts behind [`Progress`](crate::report::Progress).
#[derive(Default)]
struct Counts {
    resources_total: usize,
    resources_closed: usize,
    errors: Vec<String>,
}

/// What the engine records about its run. One per engine, created with the handle.
#[derive(Default)]
pub(crate) struct RunState {
    started: watch::Sender<bool>,
    counts: Mutex<Counts>,
    hooks: Mutex<Vec<Hook>>,
    retired: Mutex<Vec<AnyArc>>,
    tasks: TaskTable,
    extensions: Extensions,
    report: OnceLock<Arc<ShutdownReport>>,
    /// `main` runs (it holds one in-flight guard of its own while it does).
    main_running: std::sync::atomic::AtomicBool,
}

impl RunState {
    // ---- start-up ----------------------------------------------------------------------

    /// Records that every resource is built and `main` is about to run.
    pub(crate) fn mark_started(&self) {
        self.started.send_replace(true);
    }

    /// Records whether `main` runs (it holds one in-flight guard of its own while it does).
    pub(crate) fn set_main_running(&self, running: bool) {
        self.main_running
            .store(running, std::sync::atomic::Ordering::Relaxed);
    }

    // ---- progress ----------------------------------------------------------------------

    /// Sets how many resources the close phase will close.
    pub(crate) fn set_resources_total(&self, total: usize) {
        lock(&self.counts).resources_total = total;
    }

    /// Counts `closed` more resources as closed, with the errors of those that failed.
    pub(crate) fn resources_closed(&self, closed: usize, errors: Vec<String>) {
        let mut c = lock(&self.counts);
        c.resources_closed += closed;
        c.errors.extend(errors);
    }

    // ---- hooks -------------------------------------------------------------------------

    /// Adds a hook; it runs if its phase has not started yet.
    pub(crate) fn add_hooks(&self, hooks: impl IntoIterator<Item = Hook>) {
        lock(&self.hooks).extend(hooks);
    }

    /// Takes the hooks of `phase` (those registered later do not run).
    pub(crate) fn take_hooks(&self, phase: Phase) -> Vec<Hook> {
        let mut hooks = lock(&self.hooks);
        let (mine, rest) = std::mem::take(&mut *hooks)
            .into_iter()
            .partition(|h| h.phase == phase);
        *hooks = rest;
        mine
    }

    /// `true` if a hook waits for `phase`.
    pub(crate) fn has_hooks(&self, phase: Phase) -> bool {
        lock(&self.hooks).iter().any(|h| h.phase == phase)
    }

    // ---- report -----------------------------------------------------------------------

    /// Keeps the handles of resources released in place until the engine is dropped. Their
    /// types have no `Drop` code, so dropping them only returns memory: that can wait until the
    /// shutdown is over instead of costing a deallocation per resource on its path.
    pub(crate) fn retire(&self, handles: Vec<AnyArc>) {
        let mut retired = lock(&self.retired);
        if retired.is_empty() {
            *retired = handles;
        } else {
            retired.extend(handles);
        }
    }

    /// Keeps the final report (the first one set wins).
    pub(crate) fn set_report(&self, report: Arc<ShutdownReport>) {
        let _ = self.report.set(report);
    }
}

/// What the handle may read and add; everything else is the engine's.
impl RunView for RunState {
    fn started(&self) -> watch::Receiver<bool> {
        self.started.subscribe()
    }

    fn counts(&self) -> (usize, usize, Vec<String>) {
        let c = lock(&self.counts);
        (c.resources_closed, c.resources_total, c.errors.clone())
    }

    fn error(&self, line: String) {
        lock(&self.counts).errors.push(line);
    }

    fn add_hook(&self, hook: Hook) {
        lock(&self.hooks).push(hook);
    }

    fn report(&self) -> Option<&ShutdownReport> {
        self.report.get().map(|r| &**r)
    }

    fn tasks(&self) -> &TaskTable {
        &self.tasks
    }

    fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    fn main_running(&self) -> bool {
        self.main_running.load(std::sync::atomic::Ordering::Relaxed)
    }
}
