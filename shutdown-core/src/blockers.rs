//! Shutdown blockers: named guards that hold the drain for batch work that is not a request.
//! The public items are re-exported at the crate root; their docs say how they work.

use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use crate::ids::IdList;
use crate::shutdown::Extension;
use crate::shutdown::Shutdown;
use crate::sync::lock;
use crate::tracker::TrackGuard;

/// The blockers of one engine.
#[derive(Default)]
pub(crate) struct Registry {
    held: Mutex<IdList<(String, Instant)>>,
}

impl Registry {
    fn lines(&self) -> Vec<String> {
        let held = lock(&self.held);
        held.values()
            .map(|(name, since)| format!("blocker `{name}` (held {:.1?})", since.elapsed()))
            .collect()
    }
}

/// Held blockers are work in progress, and abandoned work if the drain deadline expires.
impl Extension for Registry {
    fn progress(&self) -> Vec<String> {
        self.lines()
    }

    fn abandoned(&self) -> Vec<String> {
        self.lines()
    }
}

/// Holds the drain until dropped; see [`Shutdown::block`].
///
/// A request is tracked by the HTTP layer; a nightly export, a migration step or a file upload
/// that must not be cut in half is not. [`Shutdown::block`] returns a [`Blocker`]: while it is
/// alive the drain waits (up to `drain_timeout`, like any tracked work), its name is listed in
/// [`Progress::tasks`](crate::report::Progress::tasks), and if the drain deadline expires while it is
/// still held it is named in the report's `abandoned` list.
///
/// ```
/// use graceful::Graceful;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let graceful = Graceful::builder().signals([]).build().expect("valid configuration");
/// let outcome = graceful
///     .run(|shutdown| async move {
///         let blocker = shutdown.block("nightly export");
///         assert!(shutdown.progress().tasks.iter().any(|t| t.contains("nightly export")));
///         shutdown.trigger("done");
///         // ... finish the export; the drain waits for `blocker` to drop ...
///         drop(blocker);
///     })
///     .await;
/// assert!(outcome.report.abandoned.is_empty());
/// # }
/// ```
#[must_use = "the drain is held only while the Blocker is alive"]
pub struct Blocker {
    _guard: TrackGuard,
    registry: Weak<Registry>,
    id: u64,
    name: String,
}

impl Blocker {
    /// The name given to [`Shutdown::block`].
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Debug for Blocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blocker")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Drop for Blocker {
    fn drop(&mut self) {
        if let Some(registry) = self.registry.upgrade() {
            lock(&registry.held).remove(self.id);
        }
    }
}

impl Shutdown {
    /// Holds the drain while the returned [`Blocker`] is alive: for batch work that is not a
    /// request (`shutdown.block("nightly export")`). The blocker counts as in-flight work, so
    /// the drain waits for it up to `drain_timeout`; its name appears in
    /// [`Progress::tasks`](crate::report::Progress::tasks) and, if the drain deadline expires first,
    /// in the report's `abandoned` list.
    ///
    /// Taking a blocker after the shutdown started is allowed (the drain then waits for it
    /// too); check [`is_shutting_down`](Shutdown::is_shutting_down) first if new batch work
    /// should rather not start.
    pub fn block(&self, name: impl Into<String>) -> Blocker {
        let registry = self.extension::<Registry>();
        let name = name.into();
        let id = lock(&registry.held).insert((name.clone(), Instant::now()));
        tracing::debug!(target: "graceful::blocker", blocker = %name, "shutdown blocker taken");
        Blocker {
            _guard: self.track(),
            registry: Arc::downgrade(&registry),
            id,
            name,
        }
    }

    /// Names of the blockers held now.
    pub(crate) fn blockers(&self) -> Vec<String> {
        let registry = self.extension::<Registry>();
        let held = lock(&registry.held);
        held.values().map(|(n, _)| n.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use crate::Graceful;

    #[tokio::test]
    async fn drain_waits_for_a_blocker() {
        // What the untracked task saw just before dropping the blocker; empty if the engine
        // finished without waiting for it (an assertion inside the task could not fail the test).
        let held_during_drain = Arc::new(Mutex::new(Vec::new()));
        let seen = held_during_drain.clone();
        let graceful = Graceful::builder().signals([]).build().expect("config");
        let outcome = graceful
            .run(|shutdown| async move {
                let blocker = shutdown.block("export");
                let s = shutdown.clone();
                tokio::spawn(async move {
                    s.requested().await;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    *seen.lock().expect("lock") = s.blockers();
                    drop(blocker);
                });
            })
            .await;
        assert_eq!(
            *held_during_drain.lock().expect("lock"),
            ["export"],
            "the drain ended before the blocker was dropped"
        );
        assert!(!outcome.report.is_forced(), "{}", outcome.report);
        assert!(outcome.report.abandoned.is_empty());
    }

    #[tokio::test]
    async fn an_abandoned_blocker_is_named_in_the_report() {
        let graceful = Graceful::builder()
            .signals([])
            .drain_timeout(Duration::from_millis(100))
            .build()
            .expect("config");
        let outcome = graceful
            .run(|shutdown| async move {
                let blocker = shutdown.block("nightly export");
                assert!(
                    shutdown
                        .progress()
                        .tasks
                        .iter()
                        .any(|t| t.contains("nightly export"))
                );
                std::mem::forget(blocker);
            })
            .await;
        assert!(
            outcome
                .report
                .abandoned
                .iter()
                .any(|a| a.contains("nightly export")),
            "{:?}",
            outcome.report.abandoned
        );
    }
}
