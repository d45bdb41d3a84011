//! The table of tracked tasks: what [`Shutdown::spawn`](crate::Shutdown::spawn) adds to, what
//! progress and the watchdog name, and what the engine aborts at the drain deadline.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::task::{AbortHandle, JoinHandle};

use super::Shutdown;
use crate::sync::lock;

/// The tracked tasks still running, by spawn order: their names (for progress and the
/// watchdog) and abort handles (for the drain deadline).
#[derive(Default)]
pub(crate) struct TaskTable {
    next: AtomicU64,
    running: Mutex<BTreeMap<u64, (String, AbortHandle)>>,
}

impl TaskTable {
    /// Names of the tasks still running.
    pub(crate) fn names(&self) -> Vec<String> {
        lock(&self.running)
            .values()
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Aborts every task still running and returns their names.
    pub(crate) fn abort_all(&self) -> Vec<String> {
        let taken = std::mem::take(&mut *lock(&self.running));
        taken
            .into_values()
            .map(|(name, handle)| {
                handle.abort();
                name
            })
            .collect()
    }
}

/// Removes a finished task from the table (also on abort and panic, as it runs on drop).
struct TaskEntry {
    shutdown: Shutdown,
    id: u64,
}

impl Drop for TaskEntry {
    fn drop(&mut self) {
        lock(&self.shutdown.tasks().running).remove(&self.id);
    }
}

/// Spawns `future` as a named entry of the task table, holding an in-flight guard.
pub(crate) fn spawn_tracked<F>(
    shutdown: &Shutdown,
    name: String,
    future: F,
) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let guard = shutdown.track();
    let table = shutdown.tasks();
    let id = table.next.fetch_add(1, Ordering::Relaxed);
    let entry = TaskEntry {
        shutdown: shutdown.clone(),
        id,
    };
    // Hold the table while spawning: the task's own removal (on finish) waits for the
    // insertion, so a fast task never leaves a stale entry behind.
    let mut running = lock(&table.running);
    let handle = tokio::spawn(async move {
        let _guard = guard;
        let _entry = entry;
        future.await
    });
    running.insert(id, (name, handle.abort_handle()));
    handle
}
