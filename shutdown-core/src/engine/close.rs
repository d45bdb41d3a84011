//! `ClosingResources`: ascending priority, equal priorities concurrently, each close bounded.

use std::collections::HashMap;
// The tokio clock, so that a test on a paused clock sees its deadlines land exactly.
use tokio::time::Instant;

use tokio::task::JoinHandle;

use super::ledger::RunState;
use super::recorder::{Busy, Recorder};
use super::startup::Built;
use crate::describe::{error_chain, panic_message};
use crate::error::BoxError;
use crate::report::{CloseOutcome, ResourceRecord};
use crate::shutdown::{Event, Shutdown};
use crate::took::Took;

/// Awaits a spawned close (or hook) until it ends, `limit` passes, or the shutdown is
/// forced; in the last two cases the task is aborted (a blocking one is abandoned).
pub(crate) async fn bounded(
    task: JoinHandle<Result<(), BoxError>>,
    limit: Instant,
    shutdown: &Shutdown,
) -> CloseOutcome {
    bounded_until(task, limit, shutdown.control().forced()).await
}

/// [`bounded`], cut short by `cut` instead of by the shutdown being forced.
pub(crate) async fn bounded_until(
    mut task: JoinHandle<Result<(), BoxError>>,
    limit: Instant,
    cut: impl std::future::Future<Output = ()>,
) -> CloseOutcome {
    tokio::select! {
        r = &mut task => match r {
            Ok(Ok(())) => CloseOutcome::Closed,
            Ok(Err(e)) => CloseOutcome::Failed(error_chain(&*e)),
            Err(j) => CloseOutcome::Panicked(panic_message(j)),
        },
        _ = tokio::time::sleep_until(limit) => { task.abort(); CloseOutcome::TimedOut }
        _ = cut => { task.abort(); CloseOutcome::TimedOut }
    }
}

/// Closes every built resource; the records go to `rec`, in the order closes started.
///
/// Cost: a class whose resources have nothing to await (no close handler, no `Drop` code) is
/// released in one step ([`release`]): no task, timer, join or event per resource, and one lock
/// each of the resource map, the progress counts and the record for the whole class. Only
/// resources with something to await get a task, bounded by their deadlines.
pub(crate) async fn close_all(
    shutdown: &Shutdown,
    run: &RunState,
    mut built: Vec<Built>,
    rec: &mut Recorder,
) {
    let config = shutdown.config();
    // Highest priority first, so that each class, closed lowest first, is drained from the end
    // of the list; within a class the resources to await come before those released in place.
    // Already in descending priority (the build order) unless resources close in place and
    // others not: an unstable sort detects a sorted list without allocating.
    built.sort_unstable_by_key(|b| (std::cmp::Reverse(b.priority), in_place(b)));
    while let Some(priority) = built.last().map(|b| b.priority) {
        let start = built.partition_point(|b| b.priority > priority);
        let split = start + built[start..].partition_point(|b| !in_place(b));
        let budget = config.class_budgets.get(&priority).map(|s| s.value);
        let class_deadline =
            budget.map_or(rec.deadline, |b| (Instant::now() + b).min(rec.deadline));
        let close_timeout = config.resource_close_timeout.value;
        let limit_used = budget.map_or(close_timeout, |b| b.min(close_timeout));
        if split < built.len() {
            release(shutdown, run, rec, &mut built, split);
        }
        if start == built.len() {
            continue;
        }
        let class_began = Instant::now();
        let mut class_met = true;
        if shutdown.control().has_listeners() {
            let left = class_deadline.saturating_duration_since(class_began);
            shutdown.control().emit(Event::CloseClass {
                priority,
                resources: built.len() - start,
                seconds: close_timeout.min(left).as_secs_f64(),
                elapsed: rec.offset(class_began).as_secs_f64(),
            });
        }
        let mut set = tokio::task::JoinSet::new();
        // What each task closes, so that a task that dies still leaves its record.
        let mut closing = HashMap::new();
        for b in built.drain(start..) {
            let shutdown = shutdown.clone();
            let rec = rec.clone();
            let record = ResourceRecord {
                name: b.name.clone(),
                type_name: b.type_name,
                priority: b.priority,
                location: b.location,
                close: b.close_kind.clone(),
                outcome: CloseOutcome::Closed,
                started: rec.start.elapsed(),
                finished: std::time::Duration::ZERO,
            };
            let handle = set.spawn({
                let mut record = record.clone();
                async move {
                    let _busy = rec.busy(Busy::Resource(record.clone()));
                    record.outcome = close_one(b, &shutdown, close_timeout, class_deadline).await;
                    record.finished = rec.start.elapsed();
                    record
                }
            });
            closing.insert(handle.id(), record);
        }
        while let Some(joined) = set.join_next_with_id().await {
            let record = match joined {
                Ok((id, record)) => {
                    closing.remove(&id);
                    record
                }
                Err(join) => {
                    let Some(mut record) = closing.remove(&join.id()) else {
                        continue;
                    };
                    record.outcome = CloseOutcome::Panicked(panic_message(join));
                    record.finished = rec.start.elapsed();
                    record
                }
            };
            class_met &= record.outcome != CloseOutcome::TimedOut;
            finished(shutdown, run, rec, record, limit_used);
        }
        rec.limit(
            format!("close priority {priority}"),
            class_began,
            limit_used,
            class_met,
        );
    }
}

/// `true` for a resource with nothing to await and no `Drop` code: releasing the engine's
/// handle is its whole close.
fn in_place(b: &Built) -> bool {
    b.close.is_none() && !b.needs_drop
}

/// Closes `built[from..]`, resources [closed in place](in_place): releasing the engine's
/// handles is the whole close, done here in one step, without a task, a timer or a
/// `spawn_blocking`.
fn release(
    shutdown: &Shutdown,
    run: &RunState,
    rec: &Recorder,
    built: &mut Vec<Built>,
    from: usize,
) {
    let started = rec.start.elapsed();
    // No longer handed out from here on; their memory is returned with the engine's.
    run.retire(
        shutdown
            .resources()
            .take_all(built[from..].iter().map(|b| b.type_id)),
    );
    let outcome = if shutdown.is_forced() {
        CloseOutcome::Skipped
    } else {
        CloseOutcome::Closed
    };
    let done = rec.start.elapsed();
    let took = done.saturating_sub(started);
    let listened = shutdown.control().has_listeners();
    let mut errors = Vec::new();
    for b in &built[from..] {
        note(shutdown, &b.name, b.priority, &outcome, took, listened);
        if !outcome.is_ok() {
            errors.push(format!("{}: {outcome:?}", b.name));
        }
    }
    if outcome == CloseOutcome::Skipped {
        rec.set_forced();
    }
    run.resources_closed(built.len() - from, errors);
    // Straight into the record: no list per class in between.
    rec.resources(built.drain(from..).map(|b| ResourceRecord {
        name: b.name,
        type_name: b.type_name,
        priority: b.priority,
        location: b.location,
        close: b.close_kind,
        outcome: outcome.clone(),
        started,
        finished: done,
    }));
}

/// Runs one resource's close, bounded by its own limit and its class's deadline.
async fn close_one(
    b: Built,
    shutdown: &Shutdown,
    close_timeout: std::time::Duration,
    class_deadline: Instant,
) -> CloseOutcome {
    let value = shutdown.resources().take(b.type_id);
    let limit = (Instant::now() + close_timeout).min(class_deadline);
    if shutdown.is_forced() {
        return CloseOutcome::Skipped;
    }
    match (b.close, value) {
        (Some(close), Some(value)) => {
            // The close sees this engine's resources, so that a derived close leaves the
            // shared handles it holds to the engine (`resource::shared`).
            let close = crate::resource::closing(shutdown.resources().clone(), close(value));
            bounded(tokio::spawn(close), limit, shutdown).await
        }
        (None, Some(value)) => {
            // No handler: dropping the engine's handle is the close. `Drop` may block (a
            // synchronous client flushing), so it runs off the workers, bounded like any
            // close; a panicking `Drop` is reported as such.
            let task = tokio::task::spawn_blocking(move || {
                drop(value);
                Ok(())
            });
            bounded(task, limit, shutdown).await
        }
        (_, None) => CloseOutcome::Closed,
    }
}

/// Logs, counts and records one finished close.
fn finished(
    shutdown: &Shutdown,
    run: &RunState,
    rec: &Recorder,
    record: ResourceRecord,
    limit: std::time::Duration,
) {
    let took = record.finished.saturating_sub(record.started);
    let listened = shutdown.control().has_listeners();
    note(
        shutdown,
        &record.name,
        record.priority,
        &record.outcome,
        took,
        listened,
    );
    match &record.outcome {
        CloseOutcome::Skipped => rec.set_forced(),
        CloseOutcome::TimedOut => {
            rec.missed(record.name.clone(), limit, shutdown);
            tracing::error!(target: "graceful::resource", resource = %record.name, "resource did not close within {}; moving on", Took(limit))
        }
        _ => {}
    }
    let errors = if record.outcome.is_ok() {
        Vec::new()
    } else {
        vec![format!("{}: {:?}", record.name, record.outcome)]
    };
    run.resources_closed(1, errors);
    rec.resources([record]);
}

/// Logs one finished close and, if someone listens, sends its [`Event::ResourceClosed`].
fn note(
    shutdown: &Shutdown,
    name: &str,
    priority: i32,
    outcome: &CloseOutcome,
    took: std::time::Duration,
    listened: bool,
) {
    match outcome {
        CloseOutcome::Closed => {
            tracing::info!(target: "graceful::resource", resource = %name, priority, took = %Took(took), "resource closed")
        }
        CloseOutcome::Skipped => {
            tracing::warn!(target: "graceful::resource", resource = %name, "resource close skipped: shutdown forced")
        }
        // Logged by the caller, which knows the limit.
        CloseOutcome::TimedOut => {}
        CloseOutcome::Failed(e) | CloseOutcome::Panicked(e) => {
            tracing::error!(target: "graceful::resource", resource = %name, error = %e, "resource failed to close")
        }
    }
    if listened {
        shutdown.control().emit(Event::ResourceClosed {
            name: name.to_string(),
            priority,
            outcome: outcome.clone(),
            seconds: took.as_secs_f64(),
        });
    }
}
