//! The timeline of one test run: what the kit did and what the engine said, on the run's clock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::shutdown::Event;
use crate::sync::lock;

/// One line of a [`Timeline`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Entry {
    /// The kit delivered a trigger (a signal, the admin stop, `fail()`, …).
    Delivered(String),
    /// A constructor started.
    Building(String),
    /// A constructor returned its value.
    Built(String),
    /// A constructor failed (returned an error or panicked).
    BuildFailed(String),
    /// A close handler started.
    Closing(String),
    /// A close handler returned (successfully or not).
    Closed(String),
    /// An injected fault began.
    Fault(String),
    /// Something the engine broadcast ([`Shutdown::events`](crate::Shutdown::events)).
    Engine(Event),
}

impl std::fmt::Display for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Entry::Delivered(what) => write!(f, "deliver   {what}"),
            Entry::Building(name) => write!(f, "build     `{name}`"),
            Entry::Built(name) => write!(f, "built     `{name}`"),
            Entry::BuildFailed(name) => write!(f, "not built `{name}`"),
            Entry::Closing(name) => write!(f, "close     `{name}`"),
            Entry::Closed(name) => write!(f, "closed    `{name}` (handler returned)"),
            Entry::Fault(what) => write!(f, "fault     {what}"),
            Entry::Engine(Event::Phase { phase }) => write!(f, "phase     {phase}"),
            Entry::Engine(Event::ResourceClosed { name, outcome, .. }) => {
                write!(f, "resource  `{name}`: {outcome:?}")
            }
            Entry::Engine(Event::Deadline { what }) => write!(f, "deadline  {what}"),
            Entry::Engine(other) => write!(f, "event     {other:?}"),
        }
    }
}

/// What happened during a test run, in order, each line with its time from the run's start
/// (on tokio's clock: virtual time under a paused clock).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    entries: Vec<(Duration, Entry)>,
}

impl Timeline {
    /// Every line, in order.
    pub fn entries(&self) -> &[(Duration, Entry)] {
        &self.entries
    }

    /// The lines for which `f` returns something, mapped.
    pub(crate) fn names<'a>(&'a self, f: impl Fn(&'a Entry) -> Option<&'a str>) -> Vec<&'a str> {
        self.entries.iter().filter_map(|(_, e)| f(e)).collect()
    }
}

impl std::fmt::Display for Timeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (at, entry) in &self.entries {
            writeln!(f, "  {:>9.3}s  {entry}", at.as_secs_f64())?;
        }
        Ok(())
    }
}

/// The shared log the kit's wrappers write to while the engine runs. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Log {
    start: Instant,
    entries: Arc<Mutex<Vec<(Duration, Entry)>>>,
}

impl Log {
    pub(crate) fn new() -> Log {
        Log {
            start: Instant::now(),
            entries: Arc::default(),
        }
    }

    /// Adds `entry` now.
    pub(crate) fn push(&self, entry: Entry) {
        let at = self.start.elapsed();
        lock(&self.entries).push((at, entry));
    }

    /// The run's start.
    pub(crate) fn start(&self) -> Instant {
        self.start
    }

    /// The lines so far.
    pub(crate) fn timeline(&self) -> Timeline {
        let mut entries = lock(&self.entries).clone();
        // Pushed from several tasks: keep them in time order (stable, so equal times keep
        // the order they were pushed in).
        entries.sort_by_key(|(at, _)| *at);
        Timeline { entries }
    }
}
