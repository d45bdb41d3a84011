//! The listener registry: named listeners, inherited when the environment passes them, bound
//! otherwise, remembered so that an upgrade can hand them to the successor.

use std::fmt;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::sync::lock;

use crate::shutdown::Shutdown;
use crate::systemd::{ActivationError, Sockets};

/// Why a listener could not be opened through the registry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListenerError {
    /// The name cannot travel in `LISTEN_FDNAMES`.
    #[error(
        "listener name {name:?} is not accepted: {why}; use 1 to 255 ASCII letters, digits, \
         `-`, `_` or `.` (it travels in LISTEN_FDNAMES, as systemd's FileDescriptorName= does)"
    )]
    Name {
        /// The name given.
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// Another listener already has this name.
    #[error("a listener named `{name}` is already registered; give each listener its own name")]
    Duplicate {
        /// The name given.
        name: String,
    },
    /// Taking the inherited socket, or binding a new one, failed.
    #[error(transparent)]
    Activation(#[from] ActivationError),
    /// The descriptor could not be kept for a successor.
    #[error("listener `{name}`: cannot keep a copy of its descriptor for a successor: {source}")]
    Keep {
        /// The listener's name.
        name: String,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
}

impl From<ListenerError> for std::io::Error {
    fn from(e: ListenerError) -> Self {
        match e {
            ListenerError::Activation(a) => a.into(),
            ListenerError::Keep { source, .. } => source,
            other => std::io::Error::new(std::io::ErrorKind::InvalidInput, other),
        }
    }
}

/// The registry of one engine.
#[derive(Default)]
pub(crate) struct Registry {
    /// A copy of every registered listener's descriptor, by name, in registration order.
    held: Mutex<Vec<(String, OwnedFd)>>,
}

impl crate::shutdown::Extension for Registry {}

impl Registry {
    /// Copies of the registered descriptors, for a successor.
    pub(crate) fn copies(&self) -> std::io::Result<Vec<(String, OwnedFd)>> {
        lock(&self.held)
            .iter()
            .map(|(n, fd)| Ok((n.clone(), fd.try_clone()?)))
            .collect()
    }

    /// Forgets every descriptor: the process's own listeners are then the only copies, so
    /// dropping them closes the sockets (unless a successor or systemd holds them).
    pub(crate) fn release(&self) -> Vec<(String, OwnedFd)> {
        std::mem::take(&mut *lock(&self.held))
    }

    /// The names of the registered listeners.
    pub(crate) fn names(&self) -> Vec<String> {
        lock(&self.held).iter().map(|(n, _)| n.clone()).collect()
    }

    fn check(&self, name: &str) -> Result<(), ListenerError> {
        let why = if name.is_empty() {
            Some("it is empty")
        } else if name.len() > 255 {
            Some("it is longer than 255 bytes")
        } else if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            Some("it contains a character other than letters, digits, `-`, `_` and `.`")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(ListenerError::Name {
                name: name.into(),
                why,
            });
        }
        if lock(&self.held).iter().any(|(n, _)| n == name) {
            return Err(ListenerError::Duplicate { name: name.into() });
        }
        Ok(())
    }

    fn keep(&self, name: &str, fd: std::os::fd::BorrowedFd<'_>) -> Result<(), ListenerError> {
        let copy = fd
            .try_clone_to_owned()
            .map_err(|source| ListenerError::Keep {
                name: name.into(),
                source,
            })?;
        lock(&self.held).push((name.to_string(), copy));
        Ok(())
    }
}

/// The listeners of a service, by name: taken from the environment when it passes them
/// (`LISTEN_FDS`/`LISTEN_FDNAMES`, as systemd's socket activation, `systemfd` and a
/// predecessor during an upgrade do), bound otherwise, and handed to the successor when the
/// service upgrades in place.
///
/// ```no_run
/// # async fn demo(shutdown: graceful::Shutdown) -> Result<(), Box<dyn std::error::Error>> {
/// let listeners = graceful::upgrade::Listeners::of(&shutdown);
/// let http = listeners.tcp("http", "127.0.0.1:8080").await?;
/// graceful::http::serve(http, axum::Router::new(), &shutdown).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Listeners {
    registry: Arc<Registry>,
}

impl fmt::Debug for Listeners {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listeners")
            .field("names", &self.registry.names())
            .finish()
    }
}

impl Listeners {
    /// The registry of the engine behind `shutdown`.
    pub fn of(shutdown: &Shutdown) -> Listeners {
        Listeners {
            registry: shutdown.extension::<Registry>(),
        }
    }

    /// The TCP listener named `name`: the passed socket of that name, else a new one bound at
    /// `addr`. Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// [`ListenerError::Name`] or [`ListenerError::Duplicate`] for a name that cannot be used,
    /// [`ListenerError::Activation`] when the passed socket is not a TCP listener or the address
    /// cannot be bound.
    pub async fn tcp(
        &self,
        name: &str,
        addr: impl tokio::net::ToSocketAddrs + fmt::Debug,
    ) -> Result<tokio::net::TcpListener, ListenerError> {
        self.registry.check(name)?;
        let passed = crate::systemd::with_passed(|s| s.contains(name).then(|| s.tcp(name)))?;
        let listener = match passed {
            Some(taken) => taken?,
            None => Sockets::empty().tcp_or_bind(name, addr).await?,
        };
        self.registry.keep(name, listener.as_fd())?;
        Ok(listener)
    }

    /// The Unix stream listener named `name`: the passed socket of that name, else a new one
    /// bound at `path` (which must not exist). Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// As [`tcp`](Listeners::tcp).
    pub fn unix(
        &self,
        name: &str,
        path: impl AsRef<Path>,
    ) -> Result<tokio::net::UnixListener, ListenerError> {
        self.registry.check(name)?;
        let listener = crate::systemd::with_passed(|s| s.unix_or_bind(name, path))??;
        self.registry.keep(name, listener.as_fd())?;
        Ok(listener)
    }

    /// The names registered so far, in order.
    pub fn names(&self) -> Vec<String> {
        self.registry.names()
    }
}
