//! Child processes as resources (feature `process`).
//!
//! [`ChildProcess::spawn`] starts a command in its own process group, with its stdout and
//! stderr forwarded to `tracing` (target `graceful::process`, field `child` = its name). At
//! close the stop signal (default `SIGTERM`) goes to the whole group; the engine waits up to
//! the stop deadline, then sends `SIGKILL` to the group. The exit status is recorded and
//! logged. Because children are resources, their priority orders them like any other
//! resource: a set of workers stops in the declared order.
//!
//! On Windows the child is started in a new process group and asked to stop with Ctrl-Break
//! (the one console event that can be sent to a single group; [`ChildProcess::signal`] is
//! Unix-only), then ended with `TerminateProcess` at the deadline. Its own children are not
//! ended there: Windows can kill a job object, not a process group.
//!
//! ```no_run
//! use std::time::Duration;
//! use graceful::Graceful;
//! use graceful::process::{ChildProcess, Signal};
//!
//! # async fn demo() {
//! let mut cmd = tokio::process::Command::new("my-worker");
//! cmd.arg("--queue").arg("emails");
//! enum EmailWorker {} // one marker type per child: resources are found by type
//! let worker = ChildProcess::<EmailWorker>::resource("email-worker", 20, cmd)
//!     .map(|c| c.signal(Signal::SIGINT).stop_timeout(Duration::from_secs(10)))
//!     .into_resource();
//! let outcome = Graceful::builder()
//!     .resource(worker)
//!     .build()
//!     .expect("valid configuration")
//!     .run(|shutdown| async move { shutdown.requested().await })
//!     .await;
//! # let _ = outcome;
//! # }
//! ```

use std::marker::PhantomData;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as os;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as os;

#[cfg(unix)]
pub use os::Signal;
#[cfg(windows)]
use os::Signal;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::error::BoxError;
use crate::resource::{Close, Resource};

/// How often the close checks whether members of the group other than the leader are gone.
const GROUP_POLL: Duration = Duration::from_millis(10);

/// A child process running in its own process group; see the [module docs](self).
///
/// The engine keys resources by type, so two children need two types: give each a marker
/// (`enum EmailWorker {}` → `ChildProcess<EmailWorker>`); `graceful::get::<ChildProcess<EmailWorker>>()`
/// then finds it. A single child can use the default `ChildProcess` (`ChildProcess<()>`).
pub struct ChildProcess<Tag: 'static = ()> {
    name: Arc<str>,
    pid: u32,
    child: tokio::sync::Mutex<Option<tokio::process::Child>>,
    signal: Signal,
    stop_timeout: Duration,
    status: OnceLock<ExitStatus>,
    killed: AtomicBool,
    _tag: PhantomData<fn() -> Tag>,
}

/// Why a child could not be started.
#[derive(Debug, thiserror::Error)]
#[error("cannot start child process `{name}` ({program}): {source}")]
pub struct SpawnError {
    /// The child's name.
    pub name: String,
    /// The program.
    pub program: String,
    /// The error from the operating system.
    #[source]
    pub source: std::io::Error,
}

impl<Tag: 'static> ChildProcess<Tag> {
    /// Starts `command` in a new process group (`process_group(0)`), with stdin closed and
    /// stdout/stderr forwarded to `tracing`. Must be called inside a tokio runtime.
    pub fn spawn(name: impl Into<String>, mut command: Command) -> Result<Self, SpawnError> {
        let name: Arc<str> = Arc::from(name.into());
        let program = command
            .as_std()
            .get_program()
            .to_string_lossy()
            .into_owned();
        os::new_group(&mut command);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // A safety net if the value is dropped without close: the leader is killed.
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|source| SpawnError {
            name: name.to_string(),
            program: program.clone(),
            source,
        })?;
        let pid = child.id().ok_or_else(|| SpawnError {
            name: name.to_string(),
            program: program.clone(),
            source: std::io::Error::other("the child exited before its pid was read"),
        })?;
        if let Some(out) = child.stdout.take() {
            forward(name.clone(), "stdout", out);
        }
        if let Some(err) = child.stderr.take() {
            forward(name.clone(), "stderr", err);
        }
        tracing::info!(target: "graceful::process", child = %name, pid, %program, "child process started");
        Ok(ChildProcess {
            name,
            pid,
            child: tokio::sync::Mutex::new(Some(child)),
            #[cfg(unix)]
            signal: Signal::SIGTERM,
            #[cfg(windows)]
            signal: Signal,
            stop_timeout: Duration::from_secs(10),
            status: OnceLock::new(),
            killed: AtomicBool::new(false),
            _tag: PhantomData,
        })
    }

    /// A [`Resource`] that spawns `command` when the engine builds it and stops it (signal,
    /// wait, `SIGKILL`) at its turn. Adjust the child with [`ResourceChild::map`].
    pub fn resource(
        name: impl Into<String>,
        priority: i32,
        command: Command,
    ) -> ResourceChild<Tag> {
        ResourceChild {
            name: name.into(),
            priority,
            command,
            adjust: Vec::new(),
        }
    }

    /// The signal sent to the group at close (default `SIGTERM`). Unix only: on Windows the
    /// request is always Ctrl-Break.
    #[cfg(unix)]
    pub fn signal(mut self, signal: Signal) -> Self {
        self.signal = signal;
        self
    }

    /// How long close waits after the signal before `SIGKILL` (on Windows, `TerminateProcess`;
    /// default 10 s). Keep it below
    /// the engine's `resource_close_timeout`, or the engine gives up on the close first (the
    /// group is then killed when the value is dropped).
    pub fn stop_timeout(mut self, d: Duration) -> Self {
        self.stop_timeout = d;
        self
    }

    /// The child's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its pid, which is also its process group id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// How it exited, once it has (recorded by close, or by [`wait`](ChildProcess::wait)).
    pub fn exit_status(&self) -> Option<ExitStatus> {
        self.status.get().copied()
    }

    /// `true` when close had to send `SIGKILL` (on Windows, `TerminateProcess`).
    pub fn was_killed(&self) -> bool {
        self.killed.load(Ordering::Relaxed)
    }

    /// Waits for the child to exit by itself and records its status.
    pub async fn wait(&self) -> std::io::Result<ExitStatus> {
        let mut guard = self.child.lock().await;
        match guard.as_mut() {
            Some(child) => {
                let status = child.wait().await?;
                let _ = self.status.set(status);
                Ok(status)
            }
            None => self
                .exit_status()
                .ok_or_else(|| std::io::Error::other("the child was already closed")),
        }
    }

    /// `true` while any process of the group exists (the leader may be a zombie).
    fn group_alive(&self) -> bool {
        os::group_alive(self.pid)
    }

    fn kill_group(&self) {
        if let Err(e) = os::kill_group(self.pid) {
            tracing::debug!(target: "graceful::process", child = %self.name, "{} to the group: {e}", os::FORCE);
        }
    }

    async fn stop(&self) -> Result<(), BoxError> {
        let mut guard = self.child.lock().await;
        let Some(child) = guard.as_mut() else {
            return Ok(());
        };
        let began = Instant::now();
        if child.try_wait()?.is_none() {
            tracing::info!(target: "graceful::process", child = %self.name, signal = %self.signal, "stopping child process group");
            if let Err(e) = os::ask_to_stop(self.pid, self.signal) {
                tracing::warn!(target: "graceful::process", child = %self.name, "cannot signal the group: {e}");
            }
        }
        let mut note = None;
        let status = match tokio::time::timeout(self.stop_timeout, child.wait()).await {
            Ok(status) => status?,
            Err(_) => {
                tracing::warn!(
                    target: "graceful::process",
                    child = %self.name,
                    deadline = %crate::took::Took(self.stop_timeout),
                    "child did not stop in time; ending it with {}", os::FORCE
                );
                self.kill_group();
                os::end_leader(child)?;
                self.killed.store(true, Ordering::Relaxed);
                note = Some(format!(
                    "child `{}` did not stop within {:?} of {}; killed with {}",
                    self.name,
                    self.stop_timeout,
                    self.signal,
                    os::FORCE
                ));
                child.wait().await?
            }
        };
        // Other members of the group (grandchildren) got the signal too; give them what is
        // left of the deadline, then kill them so nothing outlives the service.
        let deadline = began + self.stop_timeout;
        while self.group_alive() && Instant::now() < deadline {
            tokio::time::sleep(GROUP_POLL).await;
        }
        if self.group_alive() {
            self.kill_group();
        }
        let _ = self.status.set(status);
        *guard = None;
        tracing::info!(target: "graceful::process", child = %self.name, %status, took = %crate::took::Took(began.elapsed()), "child process exited");
        match note {
            Some(n) => Err(format!("{n} ({status})").into()),
            None => Ok(()),
        }
    }
}

impl<Tag: 'static> std::fmt::Debug for ChildProcess<Tag> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildProcess")
            .field("name", &self.name)
            .field("pid", &self.pid)
            .field("signal", &self.signal)
            .field("stop_timeout", &self.stop_timeout)
            .field("exit_status", &self.exit_status())
            .finish()
    }
}

/// Sends the stop signal to the group, waits up to the stop deadline, then `SIGKILL`s the
/// group. A child that had to be killed is reported as an error (with its exit status), so
/// the report names it and the process exits with
/// [`COMPLETED_WITH_ERRORS`](crate::exit::COMPLETED_WITH_ERRORS).
impl<Tag: 'static> Close for ChildProcess<Tag> {
    async fn close(&self) -> Result<(), BoxError> {
        self.stop().await
    }
}

impl<Tag: 'static> Drop for ChildProcess<Tag> {
    fn drop(&mut self) {
        // Closed, or exited and reaped: nothing to do. Otherwise nothing may outlive us.
        if self.status.get().is_none() && self.group_alive() {
            self.kill_group();
        }
    }
}

/// A change applied to a child once spawned.
type Adjust<Tag> = Box<dyn FnOnce(ChildProcess<Tag>) -> ChildProcess<Tag> + Send>;

/// A [`ChildProcess`] resource being declared; see [`ChildProcess::resource`].
pub struct ResourceChild<Tag: 'static = ()> {
    name: String,
    priority: i32,
    command: Command,
    adjust: Vec<Adjust<Tag>>,
}

impl<Tag: 'static> ResourceChild<Tag> {
    /// Adjusts the child once spawned (signal, stop deadline).
    pub fn map(
        mut self,
        f: impl FnOnce(ChildProcess<Tag>) -> ChildProcess<Tag> + Send + 'static,
    ) -> Self {
        self.adjust.push(Box::new(f));
        self
    }

    /// The resource, closing through [`Close`].
    pub fn into_resource(self) -> Resource<ChildProcess<Tag>> {
        let ResourceChild {
            name,
            priority,
            command,
            adjust,
        } = self;
        let child_name = name.clone();
        Resource::new(name, priority, move |_| async move {
            let mut child = ChildProcess::<Tag>::spawn(child_name, command)?;
            for f in adjust {
                child = f(child);
            }
            Ok::<_, SpawnError>(child)
        })
        .close_trait()
    }
}

impl<Tag: 'static> std::fmt::Debug for ResourceChild<Tag> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceChild")
            .field("name", &self.name)
            .field("priority", &self.priority)
            .field("command", &self.command)
            .finish_non_exhaustive()
    }
}

impl<Tag: 'static> From<ResourceChild<Tag>> for Resource<ChildProcess<Tag>> {
    fn from(r: ResourceChild<Tag>) -> Self {
        r.into_resource()
    }
}

fn forward<R>(name: Arc<str>, stream: &'static str, reader: R)
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut lines = BufReader::new(reader).lines();
        loop {
            match lines.next_line().await {
                Ok(Some(line)) => {
                    tracing::info!(target: "graceful::process", child = %name, stream, "{line}")
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!(target: "graceful::process", child = %name, stream, "cannot read: {e}");
                    break;
                }
            }
        }
    });
}
