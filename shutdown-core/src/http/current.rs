//! Which engine's [`serve`](crate::http::serve) the request being worked on in this thread
//! came through, so that the `Shutdown` extractor and [`TrackLayer`](crate::http::TrackLayer)
//! find it without anything put into each request's extensions (that would be an allocation
//! per request).
//!
//! `serve` writes its engine's identity (the address of the engine's state, compared and
//! looked up, never dereferenced) into a thread-local around the application's `call` and
//! each poll of its future, where layers and extractors run, and restores the previous value
//! afterwards, also when unwinding: two stores of an integer. Running `serve`s keep their
//! engine in a short list that only the extractor reads.

use std::cell::Cell;
use std::sync::{Arc, Mutex};

use crate::shutdown::Shutdown;

/// An engine's identity; `0` is none.
pub(crate) type Engine = usize;

thread_local! {
    static SERVING: Cell<Engine> = const { Cell::new(0) };
}

/// Engines with a running `serve` (a handful per process; one entry per `serve`).
static SERVERS: Mutex<Vec<Shutdown>> = Mutex::new(Vec::new());

fn engine_of(shutdown: &Shutdown) -> Engine {
    Arc::as_ptr(&shutdown.inner) as usize
}

/// Lists a `serve` of `shutdown`'s engine until dropped.
pub(crate) struct Listed(Engine);

impl Listed {
    pub(crate) fn new(shutdown: &Shutdown) -> Listed {
        crate::sync::lock(&SERVERS).push(shutdown.clone());
        Listed(engine_of(shutdown))
    }

    pub(crate) fn engine(&self) -> Engine {
        self.0
    }
}

impl Drop for Listed {
    fn drop(&mut self) {
        let mut servers = crate::sync::lock(&SERVERS);
        if let Some(i) = servers.iter().position(|s| engine_of(s) == self.0) {
            servers.swap_remove(i);
        }
    }
}

/// Marks this thread as working on a request served for `engine` until the returned value
/// drops.
#[inline]
pub(crate) fn enter(engine: Engine) -> Entered {
    Entered(SERVING.replace(engine))
}

/// Restores the thread-local when dropped (also when unwinding).
pub(crate) struct Entered(Engine);

impl Drop for Entered {
    #[inline]
    fn drop(&mut self) {
        SERVING.set(self.0);
    }
}

/// The engine of the `serve` whose request is being worked on, if any.
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
pub(crate) fn shutdown() -> Option<Shutdown> {
    let engine = SERVING.get();
    if engine == 0 {
        return None;
    }
    shutdown_of(engine)
}

/// The engine of a running `serve`, by its identity.
pub(crate) fn shutdown_of(engine: Engine) -> Option<Shutdown> {
    let servers = crate::sync::lock(&SERVERS);
    servers.iter().find(|s| engine_of(s) == engine).cloned()
}

/// Whether the request being worked on came through a `serve` of `shutdown`'s engine, which
/// tracks it already.
#[inline]
pub(crate) fn served_by(shutdown: &Shutdown) -> bool {
    SERVING.get() == engine_of(shutdown)
}
