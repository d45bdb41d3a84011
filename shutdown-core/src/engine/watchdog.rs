//! The last line of defence: a plain OS thread that ends the process at the overall deadline,
//! even if every runtime worker is blocked.

use std::time::{Duration, Instant};

use crate::exit;
use crate::shutdown::Shutdown;

/// Arms the watchdog for a shutdown that started at `start`.
pub(crate) fn arm(shutdown: Shutdown, start: Instant) {
    let timeout = shutdown.timeout();
    let force = shutdown.config().force_after_timeout.value;
    // Fire a little before the deadline so the process is gone *before* it.
    let margin = (timeout / 50).min(Duration::from_millis(50));
    let at = start + timeout.saturating_sub(margin);
    let spawned = std::thread::Builder::new()
        .name("graceful-watchdog".into())
        .spawn(move || {
            loop {
                let now = Instant::now();
                if now >= at {
                    break;
                }
                std::thread::sleep((at - now).min(Duration::from_millis(200)));
                if shutdown.current_phase().is_finished() {
                    return;
                }
            }
            if shutdown.current_phase().is_finished() {
                return;
            }
            let pending = shutdown.progress().summary();
            if force {
                eprintln!(
                    "graceful: overall shutdown timeout ({timeout:?}) expired; exiting with {}. Still pending: {pending}",
                    exit::FORCED
                );
                std::process::exit(i32::from(exit::FORCED));
            }
            eprintln!("graceful: overall shutdown timeout ({timeout:?}) expired (force_after_timeout = false). Still pending: {pending}");
        });
    if let Err(e) = spawned {
        tracing::error!(target: "graceful::watchdog", "cannot start the watchdog thread: {e}");
    }
}
