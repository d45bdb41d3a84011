//! [`Fault`]: what the kit does instead of (or before) a piece of the service's own code.

use std::time::Duration;

use crate::error::BoxError;

/// A fault to inject into a constructor, a close, a hook, a tracked task or a drain guard.
///
/// The kit controls every wait it injects: [`Fault::Slow`] is a `tokio::time::sleep` (exact
/// under a paused clock), [`Fault::Hang`] a future that never completes. Neither waits on
/// real I/O, so neither is moved by tokio's auto-advance of a paused clock.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Takes this much longer, then does what it would have done.
    Slow(Duration),
    /// Never finishes (the engine's deadlines must cut it).
    Hang,
    /// Returns this error instead of running.
    Error(String),
    /// Panics with this message instead of running.
    Panic(String),
}

impl Fault {
    /// [`Fault::Slow`].
    pub fn slow(by: Duration) -> Fault {
        Fault::Slow(by)
    }

    /// [`Fault::Error`].
    pub fn error(message: impl Into<String>) -> Fault {
        Fault::Error(message.into())
    }

    /// [`Fault::Panic`].
    pub fn panic(message: impl Into<String>) -> Fault {
        Fault::Panic(message.into())
    }

    /// Runs the fault, then `then` when the fault lets it run: `Slow` sleeps and runs it,
    /// `Hang` never returns, `Error` returns the error, `Panic` panics.
    pub(crate) async fn around<T, F>(self, then: F) -> Result<T, BoxError>
    where
        F: Future<Output = Result<T, BoxError>>,
    {
        match self {
            Fault::Slow(by) => {
                tokio::time::sleep(by).await;
                then.await
            }
            Fault::Hang => std::future::pending().await,
            Fault::Error(message) => Err(message.into()),
            Fault::Panic(message) => {
                quiet_injected_panics();
                std::panic::panic_any(message)
            }
        }
    }
}

/// Keeps the panics the kit injects off stderr (they are expected, and reported by the
/// engine): a panic hook, installed once, that passes every other panic to the hook that was
/// there before.
fn quiet_injected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let injected = info.location().is_some_and(|l| l.file() == file!());
            if !injected {
                previous(info);
            }
        }));
    });
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Slow(by) => write!(f, "slow by {by:?}"),
            Fault::Hang => f.write_str("hang"),
            Fault::Error(m) => write!(f, "error {m:?}"),
            Fault::Panic(m) => write!(f, "panic {m:?}"),
        }
    }
}

/// Where a fault is injected, by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Point {
    /// The constructor of the resource with this name.
    Constructor(String),
    /// The close of the resource with this name (a resource closed by dropping it is dropped
    /// after the fault).
    Close(String),
    /// The phase hook with this name (given to
    /// [`GracefulBuilder::on_phase`](crate::GracefulBuilder::on_phase) or
    /// [`Harness::hook`](super::Harness::hook)).
    Hook(String),
    /// The tracked task with this name: one the service spawns ([`Shutdown::spawn`],
    /// [`Shutdown::task`]), whose fault runs when its body returns (slow: it ends later; hang:
    /// it never ends; error: it fails; panic: it panics), or one added with
    /// [`Harness::task`](super::Harness::task), whose fault replaces its normal end (stopping
    /// when the shutdown is requested).
    ///
    /// [`Shutdown::spawn`]: crate::Shutdown::spawn
    /// [`Shutdown::task`]: crate::Shutdown::task
    Task(String),
    /// The drain guard with this name, added with [`Harness::guard`](super::Harness::guard):
    /// the fault replaces its normal end (released when the drain starts).
    Guard(String),
}

impl Point {
    /// [`Point::Constructor`].
    pub fn constructor(name: impl Into<String>) -> Point {
        Point::Constructor(name.into())
    }

    /// [`Point::Close`].
    pub fn close(name: impl Into<String>) -> Point {
        Point::Close(name.into())
    }

    /// [`Point::Hook`].
    pub fn hook(name: impl Into<String>) -> Point {
        Point::Hook(name.into())
    }

    /// [`Point::Task`].
    pub fn task(name: impl Into<String>) -> Point {
        Point::Task(name.into())
    }

    /// [`Point::Guard`].
    pub fn guard(name: impl Into<String>) -> Point {
        Point::Guard(name.into())
    }

    /// The name the fault is injected into.
    pub fn name(&self) -> &str {
        match self {
            Point::Constructor(n)
            | Point::Close(n)
            | Point::Hook(n)
            | Point::Task(n)
            | Point::Guard(n) => n,
        }
    }

    /// What kind of thing it names, in words ("resource", "hook", …).
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Point::Constructor(_) => "constructor",
            Point::Close(_) => "close",
            Point::Hook(_) => "hook",
            Point::Task(_) => "task",
            Point::Guard(_) => "guard",
        }
    }
}

impl std::fmt::Display for Point {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} `{}`", self.kind(), self.name())
    }
}
