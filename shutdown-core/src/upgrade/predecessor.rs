//! The old process's side of an upgrade: start the successor with the listeners, wait until
//! it is ready (or fails, or runs out of time), then shut down with reason `upgrade → pid N`.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::net::UnixStream;

use super::config::UpgradeConfig;
use super::error::UpgradeError;
use super::listeners::Registry;
use super::os::{self, Image};
use super::protocol;
use crate::reason::ShutdownReason;
use crate::shutdown::{Event, Shutdown};

/// How many of the successor's last stderr lines a failure keeps.
const STDERR_LINES: usize = 20;

/// A successor that took over: the old process is shutting down in its favour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Successor {
    /// The successor's pid.
    pub pid: u32,
    /// How long it took from the request to the successor saying it is ready.
    pub ready_after: Duration,
}

/// What an engine needs to start a successor, recorded at start-up.
pub(crate) struct Upgrader {
    pub(crate) config: UpgradeConfig,
    /// The binary's path as it was at start-up: after `mv new old`, it names the new binary
    /// (while `/proc/self/exe` names the deleted old inode).
    binary: PathBuf,
    args: Vec<OsString>,
    /// One upgrade at a time.
    busy: tokio::sync::Mutex<()>,
    /// The successor being started (0: none).
    starting: AtomicU32,
    /// After a successful upgrade: the channel to the successor, for the state hand-over.
    pub(crate) channel: tokio::sync::Mutex<Option<UnixStream>>,
}

impl Upgrader {
    pub(crate) fn new(config: UpgradeConfig) -> std::io::Result<Upgrader> {
        Ok(Upgrader {
            config,
            binary: std::env::current_exe()?,
            args: std::env::args_os().collect(),
            busy: tokio::sync::Mutex::new(()),
            starting: AtomicU32::new(0),
            channel: tokio::sync::Mutex::new(None),
        })
    }
}

/// Runs one upgrade; see [`upgrade`](super::upgrade).
pub(crate) async fn run(shutdown: &Shutdown, up: &Upgrader) -> Result<Successor, UpgradeError> {
    if up.config.fd_store.value {
        return Err(UpgradeError::Unavailable {
            why: "this service hands its listeners to systemd's fd store (`[upgrade] fd_store = \
                  true`) and is restarted with `systemctl restart`, never upgraded in place"
                .into(),
        });
    }
    if shutdown.is_shutting_down() {
        return Err(UpgradeError::ShuttingDown);
    }
    if !shutdown.is_started() {
        return Err(UpgradeError::starting());
    }
    let Ok(_busy) = up.busy.try_lock() else {
        return Err(UpgradeError::InProgress {
            pid: up.starting.load(Ordering::Acquire),
        });
    };
    super::notify::reloading();
    let began = Instant::now();
    let result = start(shutdown, up).await;
    up.starting.store(0, Ordering::Release);
    match result {
        Ok((pid, channel)) => {
            let ready_after = began.elapsed();
            *up.channel.lock().await = Some(channel);
            super::finish_hand_over(shutdown);
            tracing::info!(target: "graceful::upgrade", successor = pid, ready_after = %crate::took::Took(ready_after), "the successor is ready; shutting down in its favour");
            super::notify::handed_over(pid);
            record(shutdown, Ok(pid));
            shutdown.trigger(ShutdownReason::Upgrade { successor: pid });
            Ok(Successor { pid, ready_after })
        }
        Err(e) => {
            tracing::error!(target: "graceful::upgrade", "upgrade failed, still serving: {e}");
            super::notify::failed(&e);
            record(shutdown, Err(&e));
            Err(e)
        }
    }
}

/// `command.spawn()`, again every 20 ms until `deadline` while the kernel refuses to run the
/// new build because its file is still open for writing (`ETXTBSY`): a copy into place that
/// has not closed it yet, or a process forked during the copy, which holds the descriptor
/// until its own `exec`. Any other error, the deadline or a shutdown ends the upgrade.
async fn spawn_once_closed(
    command: &mut tokio::process::Command,
    binary: &std::path::Path,
    shutdown: &Shutdown,
    deadline: tokio::time::Instant,
) -> std::io::Result<tokio::process::Child> {
    let mut said = false;
    loop {
        match command.spawn() {
            Err(e)
                if e.raw_os_error() == Some(libc::ETXTBSY)
                    && tokio::time::Instant::now() < deadline
                    && !shutdown.is_shutting_down() =>
            {
                if !std::mem::replace(&mut said, true) {
                    tracing::info!(target: "graceful::upgrade", binary = %binary.display(), "the new build is still open for writing; starting it once it is closed");
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => return other,
        }
    }
}

/// Starts the successor and waits for its `ready`.
async fn start(shutdown: &Shutdown, up: &Upgrader) -> Result<(u32, UnixStream), UpgradeError> {
    let spawn_error = |e: std::io::Error| UpgradeError::Spawn {
        binary: up.binary.clone(),
        message: e.to_string(),
    };
    let listeners = shutdown
        .extension::<Registry>()
        .copies()
        .map_err(spawn_error)?;
    if listeners.is_empty() {
        tracing::warn!(target: "graceful::upgrade", "no listener was opened through `graceful::upgrade::Listeners`: the successor gets none and must bind its own addresses, which this process still holds");
    }
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().map_err(spawn_error)?;
    let stderr = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map_err(spawn_error)?;
    let image =
        Image::new(&up.binary, &up.args, listeners, theirs.into(), stderr).map_err(spawn_error)?;
    let mut command = tokio::process::Command::new(&up.binary);
    command
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(false);
    os::prepare(&mut command, image);
    // The successor has `timeout` to be ready, counted from here (waiting for its file too).
    let timeout = up.config.timeout.value;
    let deadline = tokio::time::Instant::now() + timeout;
    let spawned = spawn_once_closed(&mut command, &up.binary, shutdown, deadline).await;
    // The command holds the successor's copies of the descriptors: close ours now, so that
    // the channel sees the successor's end only.
    drop(command);
    let mut child = spawned.map_err(spawn_error)?;
    let pid = child.id().unwrap_or(0);
    up.starting.store(pid, Ordering::Release);
    tracing::info!(target: "graceful::upgrade", successor = pid, binary = %up.binary.display(), "successor started");
    let tail = Arc::new(Mutex::new(VecDeque::new()));
    let forward = child
        .stderr
        .take()
        .map(|e| tokio::spawn(forward_stderr(e, tail.clone())));
    let lines = |tail: &Arc<Mutex<VecDeque<String>>>| -> Vec<String> {
        crate::sync::lock(tail).iter().cloned().collect()
    };

    ours.set_nonblocking(true).map_err(spawn_error)?;
    let ours = UnixStream::from_std(ours).map_err(spawn_error)?;
    let mut reader = BufReader::new(ours);
    let outcome = tokio::select! {
        said = protocol::read_line(&mut reader) => match said {
            Ok(Some(line)) if line == protocol::READY => Ok(()),
            Ok(Some(line)) => Err(format!("it sent {line:?}")),
            Ok(None) => Err("it closed the control channel before it was ready".into()),
            Err(e) => Err(format!("reading the control channel failed: {e}")),
        },
        status = child.wait() => {
            let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
            settle(forward).await;
            return Err(UpgradeError::Exited { pid, status, stderr: lines(&tail) });
        }
        _ = tokio::time::sleep_until(deadline) => {
            kill(pid, &mut child).await;
            settle(forward).await;
            return Err(UpgradeError::TimedOut { pid, after: timeout, stderr: lines(&tail) });
        }
        _ = shutdown.requested() => {
            kill(pid, &mut child).await;
            settle(forward).await;
            return Err(UpgradeError::ShuttingDown);
        }
    };
    match outcome {
        Ok(()) => Ok((pid, reader.into_inner())),
        Err(what) => {
            // It may be exiting on its own: give it a moment to say how.
            let status = tokio::time::timeout(Duration::from_millis(200), child.wait()).await;
            settle(forward).await;
            match status {
                Ok(Ok(status)) => Err(UpgradeError::Exited {
                    pid,
                    status: status.to_string(),
                    stderr: lines(&tail),
                }),
                _ => {
                    kill(pid, &mut child).await;
                    Err(UpgradeError::Protocol {
                        pid,
                        what,
                        stderr: lines(&tail),
                    })
                }
            }
        }
    }
}

/// Kills the successor's whole process group and reaps it.
async fn kill(pid: u32, child: &mut tokio::process::Child) {
    if let Ok(pid) = i32::try_from(pid)
        && pid > 0
    {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let _ = child.kill().await;
}

/// Lets the stderr forwarder read what is left, briefly.
async fn settle(forward: Option<tokio::task::JoinHandle<()>>) {
    if let Some(f) = forward {
        let _ = tokio::time::timeout(Duration::from_millis(500), f).await;
    }
}

/// Copies the successor's stderr to ours, line by line, keeping the last lines. It ends when
/// the successor points its stderr back at the service's own (once ready) or exits.
async fn forward_stderr(stderr: impl AsyncRead + Unpin, tail: Arc<Mutex<VecDeque<String>>>) {
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        eprintln!("{line}");
        let mut t = crate::sync::lock(&tail);
        if t.len() == STDERR_LINES {
            t.pop_front();
        }
        t.push_back(line);
    }
}

/// The event, the metric and the count of an upgrade's outcome.
fn record(shutdown: &Shutdown, outcome: Result<u32, &UpgradeError>) {
    let event = match outcome {
        Ok(pid) => Event::Upgraded { successor: pid },
        Err(e) => Event::UpgradeFailed {
            successor: e.successor(),
            error: e.to_string(),
        },
    };
    #[cfg(feature = "metrics")]
    metrics::counter!(
        "graceful_upgrades_total",
        "result" => if outcome.is_ok() { "ok" } else { "failed" }
    )
    .increment(1);
    shutdown.control().emit(event);
}
