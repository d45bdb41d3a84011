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
    /// Tasks that ended on their own after the trigger: name and when, from the trigger (the
    /// report's drain draws them).
    ended: Mutex<Vec<(String, std::time::Duration)>>,
}

impl TaskTable {
    /// Names of the tasks still running.
    pub(crate) fn names(&self) -> Vec<String> {
        lock(&self.running)
            .values()
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// The tasks that ended on their own since the trigger, with when (taken once).
    pub(crate) fn take_ended(&self) -> Vec<(String, std::time::Duration)> {
        std::mem::take(&mut *lock(&self.ended))
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
        let table = self.shutdown.control().tasks();
        let removed = lock(&table.running).remove(&self.id);
        // Dropped before the task's in-flight guard, so the drain that waits for the guard
        // finds the end recorded. An aborted task was already taken out of the table.
        if let (Some((name, _)), Some(at)) = (removed, self.shutdown.elapsed()) {
            lock(&table.ended).push((name, at));
        }
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
    let table = shutdown.control().tasks();
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
