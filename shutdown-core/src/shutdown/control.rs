//! [`Control`]: what the engine drives through a handle, kept off the handle itself.
//!
//! A [`Shutdown`] is what a program holds; its methods are the program's. The engine (and the
//! few features that publish events) also has to publish the phase and events, wait for the
//! tracked work, watch the force switch, and reach the run state. Those controls live here,
//! reached with `shutdown.control()` inside the crate only, so that the handle a program holds
//! offers nothing that would let it drive the engine by accident.

use std::future::Future;
use std::time::Instant;

use super::{Event, Extensions, RunView, Shutdown, TaskTable};
use crate::phase::Phase;

/// The engine's controls over one handle's shared state. Borrowed from a [`Shutdown`], cheap.
pub(crate) struct Control<'a>(&'a Shutdown);

impl Shutdown {
    /// The engine's controls over this handle (crate-private).
    pub(crate) fn control(&self) -> Control<'_> {
        Control(self)
    }
}

impl<'a> Control<'a> {
    /// The engine's run state, as the handle sees it.
    pub(crate) fn run_view(&self) -> &'a dyn RunView {
        &*self.0.inner.run
    }

    /// The tracked tasks.
    pub(crate) fn tasks(&self) -> &'a TaskTable {
        self.0.inner.run.tasks()
    }

    /// The feature extensions.
    pub(crate) fn extensions(&self) -> &'a Extensions {
        self.0.inner.run.extensions()
    }

    /// When the shutdown was triggered (now, if it has not been).
    pub(crate) fn shutdown_start(&self) -> Instant {
        self.0
            .inner
            .trigger
            .get()
            .map_or_else(tokio::time::Instant::now, |t| t.at)
            .into_std()
    }

    /// Resolves once the shutdown is forced.
    pub(crate) fn forced(&self) -> impl Future<Output = ()> + Send + 'static {
        self.0.inner.force.clone().cancelled_owned()
    }

    /// Resolves once no tracked work is in flight.
    pub(crate) fn wait_idle(&self) -> impl Future<Output = ()> + 'a {
        self.0.inner.tracker.wait_idle()
    }

    /// Publishes a new phase (and its [`Event::Phase`]).
    pub(crate) fn set_phase(&self, phase: Phase) {
        self.0.inner.phase.send_replace(phase);
        tracing::info!(target: "graceful::phase", phase = phase.as_str(), "shutdown phase");
        self.emit(Event::Phase { phase });
    }

    /// Broadcasts `event` to the [`events`](Shutdown::events) receivers.
    pub(crate) fn emit(&self, event: Event) {
        let _ = self.0.inner.events.send(event);
    }

    /// `true` if someone listens to [`events`](Shutdown::events): events that cost something
    /// to build are built only then.
    pub(crate) fn has_listeners(&self) -> bool {
        self.0.inner.events.receiver_count() > 0
    }
}
