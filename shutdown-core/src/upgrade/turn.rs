//! Which of the two processes of an upgrade answers on a listener that both hold and that each
//! serves until the end of its run (the admin listener): the old one until its successor is
//! ready, the successor from then on.
//!
//! A probe that lands on either process during the overlap therefore meets a ready service:
//! the successor accepts nothing before it is ready (its predecessor still answers, ready),
//! and the old process stops accepting as soon as its successor said it is ready (its shutdown
//! starts with reason `upgrade → pid N` at that moment). The accept queue belongs to the shared
//! socket, so nothing queued is lost when one process stops accepting. What the old process
//! already accepted it answers as the successor would (ready), with `Connection: close`.

use crate::reason::ShutdownReason;
use crate::shutdown::Shutdown;

/// Waits until this process should accept on a shared listener: at once, unless a predecessor
/// started it, then once it is ready (what it tells the predecessor). `false` when its shutdown
/// starts first (the predecessor keeps serving; this process never accepts there).
pub(crate) async fn ours(shutdown: &Shutdown) -> bool {
    if !super::successor::started_by_predecessor() {
        return true;
    }
    super::ready(shutdown).await
}

/// The successor this process handed over to, once it has (its shutdown's reason is the
/// upgrade).
pub(crate) fn successor(shutdown: &Shutdown) -> Option<u32> {
    match shutdown.reason() {
        Some(ShutdownReason::Upgrade { successor }) => Some(successor),
        _ => None,
    }
}

/// Resolves once this process handed over to a ready successor; never otherwise.
pub(crate) async fn handed_over(shutdown: &Shutdown) {
    shutdown.requested().await;
    if successor(shutdown).is_none() {
        std::future::pending::<()>().await;
    }
}
