//! Socket activation by name: the listeners a service manager passed in `LISTEN_FDS`, named by
//! `LISTEN_FDNAMES` (systemd's `FileDescriptorName=`, `systemd-socket-activate --fdname=`,
//! systemfd), taken as TCP or Unix stream listeners.

use std::fmt;
use std::io;
#[cfg(unix)]
use std::path::Path;

/// The name libsystemd gives every descriptor when `LISTEN_FDNAMES` is unset.
pub const UNNAMED: &str = "unknown";

/// The first descriptor a service manager passes (`SD_LISTEN_FDS_START`).
const FIRST_FD: usize = 3;

/// Why a socket-activated listener could not be taken. Every message says what to do.
///
/// `Debug` prints the same message as `Display`: the error usually ends in `main`'s `Result`,
/// which Rust and the engine's report print with `Debug`.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum ActivationError {
    /// A `LISTEN_*` variable is not what the protocol allows.
    #[error(
        "socket activation: {var}={value:?} is malformed: expected {expected} \
         (set by systemd or `systemd-socket-activate`; unset it to run without socket activation)"
    )]
    Malformed {
        /// The variable (`LISTEN_PID`, `LISTEN_FDS` or `LISTEN_FDNAMES`).
        var: &'static str,
        /// Its value.
        value: String,
        /// What is accepted.
        expected: String,
    },
    /// No passed socket has this name.
    #[error(
        "socket activation: no socket named `{name}` was passed (passed: {}); add \
         `FileDescriptorName={name}` to the `.socket` unit (or `--fdname={name}` to \
         systemd-socket-activate), or give an address to bind when it is absent",
        Names(.passed)
    )]
    NotPassed {
        /// The name asked for.
        name: String,
        /// The names that were passed, in order (empty when not socket-activated).
        passed: Vec<String>,
    },
    /// Every socket of this name was already taken.
    #[error(
        "socket activation: every socket named `{name}` was already taken; \
         pass one more `{name}` socket or take it once"
    )]
    Taken {
        /// The name asked for.
        name: String,
    },
    /// The socket of this name is not the kind asked for.
    #[error(
        "socket activation: the socket named `{name}` (fd {fd}) is not a {expected}: {source}; \
         use `ListenStream=` with {hint} for it in the `.socket` unit"
    )]
    WrongType {
        /// The name asked for.
        name: String,
        /// Its descriptor.
        fd: usize,
        /// The kind asked for (`TCP listener`, `Unix stream listener`).
        expected: &'static str,
        /// What the unit needs (an address and port, or a path).
        hint: &'static str,
        /// What the check found.
        #[source]
        source: io::Error,
    },
    /// The socket could not be made a tokio listener, or the fallback address not bound.
    #[error("socket activation: `{name}` on {at}: {source}")]
    Io {
        /// The name asked for.
        name: String,
        /// The descriptor or the address bound in its place.
        at: String,
        /// What failed.
        #[source]
        source: io::Error,
    },
}

impl fmt::Debug for ActivationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<ActivationError> for io::Error {
    fn from(e: ActivationError) -> Self {
        let kind = match &e {
            ActivationError::Io { source, .. } => source.kind(),
            ActivationError::NotPassed { .. } | ActivationError::Taken { .. } => {
                io::ErrorKind::NotFound
            }
            _ => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, e)
    }
}

/// A list of names for an error message.
struct Names<'a>(&'a [String]);

impl fmt::Display for Names<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none: the process was not socket-activated");
        }
        for (i, n) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "`{n}`")?;
        }
        Ok(())
    }
}

/// What `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES` say, checked as `sd_listen_fds(3)`
/// checks them: the names of the passed descriptors, in order, or none when the variables are
/// absent or meant for another process.
#[cfg_attr(not(unix), allow(dead_code))] // no socket activation elsewhere; kept for its tests
pub(crate) fn parse(
    pid: Option<&str>,
    fds: Option<&str>,
    names: Option<&str>,
    own_pid: u32,
) -> Result<Vec<String>, ActivationError> {
    let (Some(pid), Some(fds)) = (pid, fds) else {
        return Ok(Vec::new());
    };
    let malformed = |var, value: &str, expected: String| ActivationError::Malformed {
        var,
        value: value.to_string(),
        expected,
    };
    let pid: u32 = pid
        .trim()
        .parse()
        .map_err(|_| malformed("LISTEN_PID", pid, "a process id".into()))?;
    if pid != own_pid {
        // Inherited from a parent that was activated: the sockets are not ours.
        return Ok(Vec::new());
    }
    let count: usize = fds
        .trim()
        .parse()
        .map_err(|_| malformed("LISTEN_FDS", fds, "a number of descriptors".into()))?;
    if count > i32::MAX as usize - FIRST_FD {
        return Err(malformed(
            "LISTEN_FDS",
            fds,
            "a number of descriptors".into(),
        ));
    }
    match names {
        None => Ok(vec![UNNAMED.to_string(); count]),
        Some(names) => {
            let list: Vec<String> = if count == 0 && names.is_empty() {
                Vec::new()
            } else {
                names.split(':').map(str::to_string).collect()
            };
            if list.len() == count {
                Ok(list)
            } else {
                Err(malformed(
                    "LISTEN_FDNAMES",
                    names,
                    format!("{count} colon-separated names, one per descriptor of LISTEN_FDS"),
                ))
            }
        }
    }
}

/// The sockets a service manager passed, by name; see [`sockets`].
///
/// Each `tcp`/`unix` call takes the first not yet taken socket of that name, so a name given to
/// several sockets (a `.socket` unit with two `ListenStream=` lines) is taken by calling again.
pub struct Sockets {
    names: Vec<String>,
    taken: Vec<bool>,
    fds: listenfd::ListenFd,
}

impl fmt::Debug for Sockets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sockets")
            .field("names", &self.names)
            .field("taken", &self.taken)
            .finish()
    }
}

/// Takes the sockets passed by socket activation (`LISTEN_PID`, `LISTEN_FDS`,
/// `LISTEN_FDNAMES`, the protocol of `sd_listen_fds_with_names(3)`), to be taken by name with
/// [`Sockets::tcp`] and [`Sockets::unix`] or their `_or_bind` forms.
///
/// Call it once, early in `main`. The variables are removed from the environment (so child
/// processes do not inherit them) and the descriptors are marked close-on-exec. When the
/// variables are absent, or `LISTEN_PID` names another process, the set is empty and every
/// `_or_bind` call binds its address. Without `LISTEN_FDNAMES` every socket is named
/// [`UNNAMED`] (`unknown`), as libsystemd names them.
///
/// ```no_run
/// # async fn demo() -> Result<(), graceful::systemd::ActivationError> {
/// let mut sockets = graceful::systemd::sockets()?;
/// // `FileDescriptorName=http` in the .socket unit, or 127.0.0.1:8080 when run by hand.
/// let http = sockets.tcp_or_bind("http", "127.0.0.1:8080").await?;
/// // `FileDescriptorName=admin` on a `ListenStream=/run/my-service/admin.sock`.
/// let admin = sockets.unix_or_bind("admin", "/run/my-service/admin.sock")?;
/// # let _ = (http, admin); Ok(()) }
/// ```
///
/// The variables are read once per process: a second call returns what the first left
/// (nothing). With feature `upgrade`, [`Listeners`](crate::upgrade::Listeners) takes its sockets
/// from the same set, so a socket taken there is not here, and the other way round.
///
/// # Errors
/// [`ActivationError::Malformed`] when `LISTEN_PID` or `LISTEN_FDS` is not a number, or
/// `LISTEN_FDNAMES` does not have one name per descriptor.
pub fn sockets() -> Result<Sockets, ActivationError> {
    with_passed(|passed| std::mem::replace(passed, Sockets::empty()))
}

/// What the environment passed, read once per process.
static PASSED: std::sync::Mutex<Option<Sockets>> = std::sync::Mutex::new(None);

/// Runs `f` on the sockets the environment passed and nobody took yet (read from the
/// environment on first use).
pub(crate) fn with_passed<R>(f: impl FnOnce(&mut Sockets) -> R) -> Result<R, ActivationError> {
    let mut passed = crate::sync::lock(&PASSED);
    if passed.is_none() {
        // A malformed environment is reported once; the set is then empty.
        *passed = Some(Sockets::empty());
        *passed = Some(from_env()?);
    }
    Ok(match passed.as_mut() {
        Some(s) => f(s),
        None => f(&mut Sockets::empty()),
    })
}

/// Where there is no socket activation: nothing was passed.
#[cfg(not(unix))]
fn from_env() -> Result<Sockets, ActivationError> {
    Ok(Sockets::empty())
}

/// Reads and removes the variables, taking ownership of the passed descriptors.
#[cfg(unix)]
fn from_env() -> Result<Sockets, ActivationError> {
    let var = |name| std::env::var(name).ok();
    let (pid, fds, names) = (var("LISTEN_PID"), var("LISTEN_FDS"), var("LISTEN_FDNAMES"));
    let parsed = parse(
        pid.as_deref(),
        fds.as_deref(),
        names.as_deref(),
        std::process::id(),
    );
    if parsed.as_ref().is_ok_and(|n| !n.is_empty()) {
        // Every passed descriptor becomes close-on-exec now, taken or not, as
        // `sd_listen_fds(3)` does (the variables stay for the next step).
        if let Err(e) = sd_notify::listen_fds_with_names(false) {
            tracing::warn!(
                target: "graceful::systemd",
                "cannot mark the socket-activation descriptors close-on-exec: {e}; \
                 each one is marked when it is taken"
            );
        }
    }
    // The variables are removed whatever they said, as `sd_listen_fds(1)` does. This crate
    // forbids `unsafe`, which removing a variable needs since edition 2024: `listenfd` removes
    // `LISTEN_PID` and `LISTEN_FDS` (and takes ownership of the descriptors, checks their kind
    // and marks them close-on-exec when they are taken); `sd-notify`, asked to unset them once
    // `LISTEN_PID` is gone, removes `LISTEN_FDNAMES` without looking at any descriptor.
    let fds = match &parsed {
        Ok(names) if !names.is_empty() => listenfd::ListenFd::from_env(),
        _ => {
            drop(listenfd::ListenFd::from_env());
            listenfd::ListenFd::empty()
        }
    };
    // Twice: when `LISTEN_FDS` is malformed, the first call stops before `LISTEN_FDNAMES`.
    let _ = sd_notify::listen_fds_with_names(true);
    let _ = sd_notify::listen_fds_with_names(true);
    let names = parsed?;
    Ok(Sockets {
        taken: vec![false; names.len()],
        names,
        fds,
    })
}

impl Sockets {
    /// A set with no sockets: every `_or_bind` call binds (for tests and for running a
    /// socket-activated program by hand).
    pub fn empty() -> Sockets {
        Sockets {
            names: Vec::new(),
            taken: Vec::new(),
            fds: listenfd::ListenFd::empty(),
        }
    }

    /// The names of the passed sockets, in descriptor order (taken ones included).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// How many sockets were passed.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no socket was passed (the process was not socket-activated).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Whether a socket of this name was passed and is not taken yet.
    pub fn contains(&self, name: &str) -> bool {
        self.next(name).is_some()
    }

    /// The names passed but not taken: a service may log them, as a unit that passes a socket
    /// nobody serves is usually a mistake.
    pub fn untaken(&self) -> impl Iterator<Item = &str> {
        self.names
            .iter()
            .zip(&self.taken)
            .filter(|(_, t)| !**t)
            .map(|(n, _)| n.as_str())
    }

    fn next(&self, name: &str) -> Option<usize> {
        (0..self.names.len()).find(|&i| !self.taken[i] && self.names[i] == name)
    }

    fn slot(&self, name: &str) -> Result<usize, ActivationError> {
        if let Some(i) = self.next(name) {
            return Ok(i);
        }
        Err(if self.names.iter().any(|n| n == name) {
            ActivationError::Taken { name: name.into() }
        } else {
            ActivationError::NotPassed {
                name: name.into(),
                passed: self.names.clone(),
            }
        })
    }

    fn take<T>(
        &mut self,
        name: &str,
        expected: &'static str,
        hint: &'static str,
        take: impl FnOnce(&mut listenfd::ListenFd, usize) -> io::Result<Option<T>>,
    ) -> Result<T, ActivationError> {
        let i = self.slot(name)?;
        let wrong = |source| ActivationError::WrongType {
            name: name.into(),
            fd: FIRST_FD + i,
            expected,
            hint,
            source,
        };
        match take(&mut self.fds, i) {
            Ok(Some(socket)) => {
                self.taken[i] = true;
                Ok(socket)
            }
            Ok(None) => Err(wrong(io::Error::other("the descriptor is gone"))),
            Err(e) => Err(wrong(e)),
        }
    }

    /// The socket named `name` as a standard TCP listener (blocking, close-on-exec).
    ///
    /// # Errors
    /// [`ActivationError::NotPassed`], [`ActivationError::Taken`], or
    /// [`ActivationError::WrongType`] when it is not a TCP stream socket (it stays in the set).
    pub fn std_tcp(&mut self, name: &str) -> Result<std::net::TcpListener, ActivationError> {
        self.take(
            name,
            "TCP listener",
            "an address and port",
            listenfd::ListenFd::take_tcp_listener,
        )
    }

    /// The socket named `name` as a standard Unix stream listener (blocking, close-on-exec).
    ///
    /// # Errors
    /// As [`std_tcp`](Sockets::std_tcp), for a Unix stream socket.
    #[cfg(unix)]
    pub fn std_unix(
        &mut self,
        name: &str,
    ) -> Result<std::os::unix::net::UnixListener, ActivationError> {
        self.take(
            name,
            "Unix stream listener",
            "a path",
            listenfd::ListenFd::take_unix_listener,
        )
    }

    /// The socket named `name` as a tokio TCP listener, ready for `graceful::http::serve` or
    /// `axum::serve`. Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// As [`std_tcp`](Sockets::std_tcp), and [`ActivationError::Io`] when it cannot be made
    /// non-blocking or registered with tokio.
    pub fn tcp(&mut self, name: &str) -> Result<tokio::net::TcpListener, ActivationError> {
        let l = self.std_tcp(name)?;
        l.set_nonblocking(true)
            .and_then(|()| tokio::net::TcpListener::from_std(l))
            .map_err(|source| self.io(name, source))
    }

    /// The socket named `name` as a tokio Unix listener, ready for `graceful::http::serve` or
    /// `axum::serve`. Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// As [`tcp`](Sockets::tcp), for a Unix stream socket.
    #[cfg(unix)]
    pub fn unix(&mut self, name: &str) -> Result<tokio::net::UnixListener, ActivationError> {
        let l = self.std_unix(name)?;
        l.set_nonblocking(true)
            .and_then(|()| tokio::net::UnixListener::from_std(l))
            .map_err(|source| self.io(name, source))
    }

    /// The socket named `name` when it was passed, else a new listener bound to `addr`:
    /// inherited when present, bound otherwise.
    ///
    /// # Errors
    /// [`ActivationError::WrongType`] when a socket of this name was passed but is not TCP
    /// (it is not silently replaced), [`ActivationError::Io`] when `addr` cannot be bound.
    pub async fn tcp_or_bind(
        &mut self,
        name: &str,
        addr: impl tokio::net::ToSocketAddrs + fmt::Debug,
    ) -> Result<tokio::net::TcpListener, ActivationError> {
        if self.contains(name) {
            return self.tcp(name);
        }
        let at = format!("{addr:?}");
        tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ActivationError::Io {
                name: name.into(),
                at: format!("bind {at}"),
                source,
            })
    }

    /// The socket named `name` when it was passed, else a new Unix listener bound at `path`
    /// (which must not exist yet). Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// As [`tcp_or_bind`](Sockets::tcp_or_bind), for a Unix stream socket.
    #[cfg(unix)]
    pub fn unix_or_bind(
        &mut self,
        name: &str,
        path: impl AsRef<Path>,
    ) -> Result<tokio::net::UnixListener, ActivationError> {
        if self.contains(name) {
            return self.unix(name);
        }
        let path = path.as_ref();
        tokio::net::UnixListener::bind(path).map_err(|source| ActivationError::Io {
            name: name.into(),
            at: format!("bind {}", path.display()),
            source,
        })
    }

    /// Every socket not yet taken, in order, as standard TCP listeners (the by-index form).
    pub(crate) fn all_std_tcp(&mut self) -> Result<Vec<std::net::TcpListener>, ActivationError> {
        let mut out = Vec::with_capacity(self.len());
        for i in 0..self.len() {
            if self.taken[i] {
                continue;
            }
            let name = self.names[i].clone();
            out.push(self.std_tcp(&name)?);
        }
        Ok(out)
    }

    fn io(&self, name: &str, source: io::Error) -> ActivationError {
        ActivationError::Io {
            name: name.into(),
            at: "its descriptor".into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(r: Result<Vec<String>, ActivationError>) -> Vec<String> {
        r.expect("well-formed")
    }

    #[test]
    fn absent_or_foreign_variables_pass_nothing() {
        assert!(names(parse(None, None, None, 7)).is_empty());
        assert!(names(parse(None, Some("2"), Some("a:b"), 7)).is_empty());
        assert!(names(parse(Some("8"), Some("2"), Some("a:b"), 7)).is_empty());
    }

    #[test]
    fn names_follow_the_descriptors() {
        assert_eq!(
            names(parse(Some("7"), Some("2"), Some("http:admin"), 7)),
            ["http", "admin"]
        );
        assert_eq!(
            names(parse(Some("7"), Some("2"), None, 7)),
            [UNNAMED, UNNAMED]
        );
        assert!(names(parse(Some("7"), Some("0"), Some(""), 7)).is_empty());
    }

    #[test]
    fn malformed_variables_say_which_and_what_is_accepted() {
        let err = parse(Some("x"), Some("1"), None, 7).expect_err("bad pid");
        assert!(err.to_string().contains("LISTEN_PID=\"x\""), "{err}");
        let err = parse(Some("7"), Some("two"), None, 7).expect_err("bad count");
        assert!(err.to_string().contains("LISTEN_FDS=\"two\""), "{err}");
        let err = parse(Some("7"), Some("2"), Some("http"), 7).expect_err("one name short");
        let msg = err.to_string();
        assert!(
            msg.contains("LISTEN_FDNAMES=\"http\"") && msg.contains("2 colon-separated names"),
            "{msg}"
        );
    }

    #[test]
    fn a_missing_name_lists_what_was_passed_and_what_to_do() {
        let mut set = Sockets {
            names: vec!["http".into()],
            taken: vec![true],
            fds: listenfd::ListenFd::empty(),
        };
        let err = set.std_tcp("admin").expect_err("not passed");
        let msg = err.to_string();
        assert!(
            msg.contains("`admin`")
                && msg.contains("passed: `http`")
                && msg.contains("FileDescriptorName=admin"),
            "{msg}"
        );
        assert!(matches!(
            set.std_tcp("http"),
            Err(ActivationError::Taken { .. })
        ));
        #[cfg(unix)]
        {
            let err = Sockets::empty().std_unix("admin").expect_err("empty");
            assert!(err.to_string().contains("not socket-activated"), "{err}");
        }
    }

    #[tokio::test]
    async fn an_absent_name_is_bound_instead() {
        let mut set = Sockets::empty();
        let tcp = set.tcp_or_bind("http", "127.0.0.1:0").await.expect("bound");
        assert!(tcp.local_addr().expect("addr").ip().is_loopback());
        #[cfg(unix)]
        unix_or_bind_binds_a_path_once(&mut set);
    }

    #[cfg(unix)]
    fn unix_or_bind_binds_a_path_once(set: &mut Sockets) {
        let path =
            std::env::temp_dir().join(format!("graceful-sockets-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let unix = set.unix_or_bind("admin", &path).expect("bound");
        assert_eq!(
            unix.local_addr().expect("addr").as_pathname(),
            Some(path.as_path())
        );
        let err = set
            .unix_or_bind("admin", &path)
            .expect_err("the path exists");
        assert!(
            err.to_string().contains("`admin`")
                && err.to_string().contains(&*path.to_string_lossy()),
            "{err}"
        );
        let _ = std::fs::remove_file(&path);
    }
}
