//! The state save of a forced shutdown.
//!
//! A forced shutdown (`DELETE /shutdown`, `force: true`, [`Shutdown::force`], an expired
//! deadline) stops waiting for work and skips every close, but what the
//! [`SavingState`](crate::Phase::SavingState) hooks write (queues, timers, offsets) is the
//! state a restart needs. So they still run, for at most `forced_save_timeout`, and the phases
//! before them end early enough to leave that much of the overall timeout: the process still
//! exits by its deadline.

use std::time::Duration;

use tokio::time::Instant;

use tokio::task::JoinHandle;

use super::close;
use super::ledger::RunState;
use crate::error::BoxError;
use crate::phase::Phase;
use crate::report::CloseOutcome;
use crate::shutdown::Shutdown;

/// How much of the overall timeout the phases before `SavingState` leave for a forced save:
/// `forced_save_timeout` (at most half the timeout) when a save hook is registered, else 0.
pub(crate) fn reserve(shutdown: &Shutdown, run: &RunState) -> Duration {
    let budget = shutdown.config().forced_save_timeout.value;
    if run.has_hooks(Phase::SavingState) {
        budget.min(shutdown.timeout() / 2)
    } else {
        Duration::ZERO
    }
}

/// `deadline`, moved earlier by `reserve` (never before now's clock origin).
pub(crate) fn before(deadline: Instant, reserve: Duration) -> Instant {
    deadline.checked_sub(reserve).unwrap_or(deadline)
}

/// Awaits a save hook until it ends or `deadline` passes; once the shutdown is forced, for at
/// most `forced_save_timeout` more (`0`: the save is cut at once, as any hook would be).
pub(crate) async fn bounded(
    task: JoinHandle<Result<(), BoxError>>,
    deadline: Instant,
    shutdown: &Shutdown,
) -> CloseOutcome {
    let budget = shutdown.config().forced_save_timeout.value;
    let forced = shutdown.control().forced();
    let cut = async move {
        forced.await;
        tokio::time::sleep(budget).await;
    };
    close::bounded_until(task, deadline, cut).await
}
