//! Faults in the service's own tracked tasks ([`Shutdown::spawn`], [`Shutdown::task`]), by
//! name: the one place the engine calls into the kit, at a task's spawn and at its end.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use super::fault::Fault;
use super::timeline::{Entry, Log};
use crate::shutdown::{Extension, Shutdown};
use crate::sync::lock;

/// The faults a test injects into tasks the service spawns, and the names it spawned.
#[derive(Default)]
pub(crate) struct TaskFaults {
    faults: Mutex<HashMap<String, Fault>>,
    spawned: Mutex<BTreeSet<String>>,
    log: Mutex<Option<Log>>,
}

impl Extension for TaskFaults {}

impl TaskFaults {
    /// Arms `fault` for the task called `name`.
    pub(crate) fn arm(&self, name: String, fault: Fault, log: &Log) {
        lock(&self.faults).insert(name, fault);
        *lock(&self.log) = Some(log.clone());
    }

    /// The names armed whose task was never spawned, with the names that were.
    pub(crate) fn unused(&self) -> Option<(Vec<String>, Vec<String>)> {
        let spawned = lock(&self.spawned);
        let unused: Vec<String> = lock(&self.faults)
            .keys()
            .filter(|n| !spawned.contains(*n))
            .cloned()
            .collect();
        (!unused.is_empty()).then(|| (unused, spawned.iter().cloned().collect()))
    }
}

/// `future`, the body of a tracked task called `name`, with the fault a test injected at its
/// end; also the error to record for an injected [`Fault::Error`].
pub(crate) fn wrap_task<F: Future>(
    shutdown: &Shutdown,
    name: &str,
    future: F,
) -> impl Future<Output = (F::Output, Option<String>)> + use<F> {
    lock(&shutdown.extension::<TaskFaults>().spawned).insert(name.to_string());
    let engine = shutdown.clone();
    let name = name.to_string();
    async move {
        let output = future.await;
        let injected = at_end(&engine, &name).await;
        (output, injected)
    }
}

/// A tracked task called `name` has returned: runs its injected fault, if any, in place of its
/// end (slow: later; hang: never; panic: panics). Returns the error to record as the task's
/// failure for an injected [`Fault::Error`].
async fn at_end(shutdown: &Shutdown, name: &str) -> Option<String> {
    let (fault, log) = {
        let faults = shutdown.extension::<TaskFaults>();
        let fault = lock(&faults.faults).get(name).cloned();
        let log = lock(&faults.log).clone();
        (fault, log)
    };
    let fault = fault?;
    if let Some(log) = log {
        log.push(Entry::Fault(format!("{fault} in task `{name}`")));
    }
    fault
        .around(async { Ok(()) })
        .await
        .err()
        .map(|e| e.to_string())
}
