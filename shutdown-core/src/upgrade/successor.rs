//! The new process's side of an upgrade: when `GRACEFUL_SUCCESSOR` names this process, say
//! `ready` on the control channel once start-up has finished and readiness is true, point
//! stderr back at the service's own, then receive the predecessor's saved states.

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::sync::Mutex;

use tokio::io::BufReader;
use tokio::net::UnixStream;
use tokio::sync::watch;

use super::os::{self, SUCCESSOR_VAR};
use super::protocol::{self, FromPredecessor};
use crate::shutdown::Shutdown;

/// The control channel and the service's own stderr, inherited from the predecessor.
pub(crate) struct Channel {
    control: OwnedFd,
    stderr: OwnedFd,
}

/// The channel, when `GRACEFUL_SUCCESSOR` is for this process. Taken once per process: a
/// second engine in the same process gets `None` (the descriptors have one owner).
pub(crate) fn inherited() -> Option<Channel> {
    static TAKEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if TAKEN.swap(true, std::sync::atomic::Ordering::AcqRel) {
        return None;
    }
    let value = std::env::var(SUCCESSOR_VAR).ok()?;
    let mut parts = value.split(':').map(|p| p.trim().parse::<i64>().ok());
    let (Some(Some(pid)), Some(Some(control)), Some(Some(stderr)), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        tracing::warn!(target: "graceful::upgrade", "{SUCCESSOR_VAR}={value:?} is malformed; ignored");
        return None;
    };
    if pid != i64::from(std::process::id()) {
        return None;
    }
    let control = os::inherited(i32::try_from(control).ok()?)?;
    let stderr = os::inherited(i32::try_from(stderr).ok()?)?;
    Some(Channel { control, stderr })
}

/// `true` when a predecessor started this process (`GRACEFUL_SUCCESSOR` names its pid), whether
/// or not its engine took the channel yet.
#[cfg(feature = "admin")]
pub(crate) fn started_by_predecessor() -> bool {
    std::env::var(SUCCESSOR_VAR).is_ok_and(|v| {
        v.split(':')
            .next()
            .and_then(|pid| pid.trim().parse::<u32>().ok())
            == Some(std::process::id())
    })
}

/// States received from the predecessor, waiting for their `Saved<S>` (feature `state`).
#[derive(Default)]
pub(crate) struct Inbox {
    states: Mutex<BTreeMap<String, Vec<u8>>>,
    /// Bumped at every state that arrives, and when nothing more will come.
    changed: watch::Sender<u64>,
    /// `true` once nothing more will come (`done`, the end of the channel).
    closed: std::sync::atomic::AtomicBool,
    /// `true` when this process was started by a predecessor.
    expected: std::sync::atomic::AtomicBool,
}

impl crate::shutdown::Extension for Inbox {}

impl Inbox {
    /// Whether a predecessor will send states.
    #[cfg_attr(not(feature = "state"), allow(dead_code))]
    pub(crate) fn expected(&self) -> bool {
        self.expected.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Waits until the predecessor is done, then takes the state named `name`, if it sent one.
    #[cfg_attr(not(feature = "state"), allow(dead_code))]
    pub(crate) async fn take(&self, name: &str) -> Option<Vec<u8>> {
        let mut changed = self.changed.subscribe();
        loop {
            changed.borrow_and_update();
            if let Some(bytes) = crate::sync::lock(&self.states).remove(name) {
                return Some(bytes);
            }
            if self.closed.load(std::sync::atomic::Ordering::Acquire) {
                return None;
            }
            // The sender lives as long as the inbox.
            let _ = changed.changed().await;
        }
    }

    fn put(&self, name: String, bytes: Vec<u8>) {
        crate::sync::lock(&self.states).insert(name, bytes);
        self.changed.send_modify(|n| *n += 1);
    }

    fn close(&self) {
        self.closed
            .store(true, std::sync::atomic::Ordering::Release);
        self.changed.send_modify(|n| *n += 1);
    }
}

/// Marks the inbox as expecting states (before any resource is built) and starts the task
/// that says `ready` and receives them.
pub(crate) fn start(shutdown: &Shutdown, channel: Channel) {
    let inbox = shutdown.extension::<Inbox>();
    inbox
        .expected
        .store(true, std::sync::atomic::Ordering::Release);
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        let Channel { control, stderr } = channel;
        let stream = std::os::unix::net::UnixStream::from(control);
        let stream = match stream
            .set_nonblocking(true)
            .and_then(|()| UnixStream::from_std(stream))
        {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(target: "graceful::upgrade", "cannot use the upgrade channel: {e}");
                inbox.close();
                return;
            }
        };
        if !super::ready(&shutdown).await {
            // Shutting down before ready: the predecessor sees the channel close.
            inbox.close();
            return;
        }
        if let Err(e) = os::restore_stderr(&stderr) {
            tracing::warn!(target: "graceful::upgrade", "cannot point stderr back at the service's own: {e}");
        }
        drop(stderr);
        let mut reader = BufReader::new(stream);
        if let Err(e) = protocol::write_line(reader.get_mut(), protocol::READY).await {
            tracing::error!(target: "graceful::upgrade", "cannot tell the predecessor it is ready: {e}");
            inbox.close();
            return;
        }
        tracing::info!(target: "graceful::upgrade", "ready; the predecessor hands over");
        loop {
            match protocol::read_message(&mut reader).await {
                Ok(Some(FromPredecessor::State { name, bytes })) => inbox.put(name, bytes),
                Ok(Some(FromPredecessor::Done)) | Ok(None) => break,
                Err(e) => {
                    tracing::warn!(target: "graceful::upgrade", "the predecessor's hand-over broke off: {e}; what it did not send is read from the state directory");
                    break;
                }
            }
        }
        inbox.close();
    });
}
