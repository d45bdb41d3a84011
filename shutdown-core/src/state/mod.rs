//! Saved state (feature `state`): what must survive a restart — a queue of pending jobs,
//! timers with their remaining time, buffered messages — saved during
//! [`Phase::SavingState`] and restored at the next start, before `main` runs.
//!
//! The program writes no file handling. It declares a serde type and a name:
//!
//! ```
//! use std::collections::VecDeque;
//! use graceful::Graceful;
//! use graceful::state::{Saved, Snapshot};
//!
//! #[derive(Default, serde::Serialize, serde::Deserialize)]
//! struct Jobs {
//!     pending: VecDeque<String>,
//! }
//!
//! impl Snapshot for Jobs {
//!     const NAME: &'static str = "jobs"; // the file is <state_dir>/jobs.snapshot
//!     const VERSION: u32 = 1;            // bump when the type changes incompatibly
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! # let dir = std::env::temp_dir().join(format!("graceful-doc-state-{}", std::process::id()));
//! for run in 0..2 {
//!     let graceful = Graceful::builder()
//!         .signals([])
//!         .state_dir(&dir)
//!         .build()
//!         .expect("valid configuration")
//!         .saved_state::<Jobs>(100); // restored when resources are built, saved at SavingState
//!     graceful
//!         .run(move |shutdown| async move {
//!             let jobs = shutdown.resources().get::<Saved<Jobs>>().expect("registered");
//!             let mut jobs = jobs.lock().await;
//!             if run == 0 {
//!                 jobs.pending.push_back("send the invoice".into());
//!             } else {
//!                 assert_eq!(jobs.pending.front().map(String::as_str), Some("send the invoice"));
//!             }
//!         })
//!         .await;
//! }
//! # let _ = std::fs::remove_dir_all(&dir);
//! # }
//! ```
//!
//! # What happens when
//! - **Start-up**: the resource `Saved<S>` is built (at the priority given to
//!   [`Graceful::saved_state`], so before `main` and before resources of lower priority that
//!   may read it). It reads `<state_dir>/<NAME>.snapshot`; no file means `S::default()`.
//! - **Shutdown**: during [`Phase::SavingState`] — after the drain, so the work in flight has
//!   updated the state, and before resources close — the state is serialized and written
//!   atomically (temporary file, `fsync`, rename, `fsync` of the directory). A `SIGKILL` at any
//!   moment leaves the previous snapshot or the new one, never a torn file. The hook appears in
//!   the report as `save state <NAME>`.
//!
//! # Damaged or incompatible snapshots
//! A snapshot is never silently ignored. Each file carries a header with its format, name,
//! version, length and checksum. If the file is damaged ([`StateError::Corrupt`]) or was written
//! by another version that [`Snapshot::migrate`] does not accept
//! ([`StateError::Incompatible`]), start-up logs an error (target `graceful::state`) and prints
//! it to stderr, e.g.
//!
//! ```text
//! graceful: snapshot `jobs` at /var/lib/app/jobs.snapshot is corrupted: checksum 9d3c… does not match the header's 41aa…; moved aside to /var/lib/app/jobs.snapshot.corrupt-1763704020123, starting from an empty state
//! ```
//!
//! then, by default ([`OnCorrupt::MoveAside`]), renames the file to
//! `<NAME>.snapshot.corrupt-<unix ms>` and starts from `S::default()`. With
//! [`OnCorrupt::Refuse`] — `[state] on_corrupt = "refuse"` in the configuration file, or
//! [`Graceful::saved_state_with`] — start-up fails with that error instead, naming the
//! resource, and the file is left where it is. [`Saved::restored`] tells the program which
//! case happened.

mod migrate;
mod registered;
mod remaining;
mod snapshot_file;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{Mutex, MutexGuard};

pub use migrate::MigrateError;
pub use registered::StateRegistration;
pub use remaining::Remaining;
pub use snapshot_file::{
    EXTENSION, FORMAT, StateError, decode, encode, load, move_aside, path_of, save,
};

use crate::config::value::{self, Show};
use crate::config::{Config, ConfigError, Input, Section, Setting, Shown, Source, key, no_rules};
use crate::engine::Graceful;
use crate::error::BoxError;
use crate::phase::Phase;
use crate::resource::Resource;

/// State that survives a restart; see the [module docs](self).
pub trait Snapshot: Serialize + DeserializeOwned + Default + Send + 'static {
    /// The snapshot's name: its file is `<state_dir>/<NAME>.snapshot`. Keep it stable.
    const NAME: &'static str;
    /// The version of the serialized form. A file of another version goes through
    /// [`migrate`](Snapshot::migrate).
    const VERSION: u32;

    /// Converts a snapshot written with version `from` (as JSON). The default refuses with
    /// [`MigrateError::Unsupported`]: the file is then treated as incompatible (moved aside,
    /// or start-up refused), and the error says which versions.
    ///
    /// ```
    /// # use graceful::state::{MigrateError, Snapshot};
    /// #[derive(Default, serde::Serialize, serde::Deserialize)]
    /// struct Jobs {
    ///     pending: Vec<u64>,
    /// }
    ///
    /// impl Snapshot for Jobs {
    ///     const NAME: &'static str = "jobs";
    ///     const VERSION: u32 = 2;
    ///
    ///     // Version 1 saved the list alone.
    ///     fn migrate(from: u32, state: serde_json::Value) -> Result<Self, MigrateError> {
    ///         match from {
    ///             1 => serde_json::from_value(state)
    ///                 .map(|pending| Jobs { pending })
    ///                 .map_err(|source| MigrateError::Shape { from, source }),
    ///             _ => Err(MigrateError::Unsupported { from, to: Self::VERSION }),
    ///         }
    ///     }
    /// }
    /// ```
    fn migrate(from: u32, state: serde_json::Value) -> Result<Self, MigrateError> {
        let _ = state;
        Err(MigrateError::Unsupported {
            from,
            to: Self::VERSION,
        })
    }
}

/// What to do when the snapshot on disk is damaged or incompatible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnCorrupt {
    /// Report it, move the file to `<NAME>.snapshot.corrupt-<unix ms>`, start from
    /// `S::default()` (the default).
    #[default]
    MoveAside,
    /// Report it and fail start-up; the file stays where it is.
    Refuse,
}

/// How the state was obtained at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Restored {
    /// No snapshot existed: `S::default()`.
    Fresh,
    /// Restored from the snapshot.
    FromSnapshot,
    /// The snapshot was unusable and moved aside; the state is `S::default()`.
    MovedAside {
        /// The error that was reported.
        error: String,
        /// Where the file is now.
        aside: PathBuf,
    },
    /// Handed over by the predecessor of an in-place upgrade (feature `upgrade`), without
    /// touching the state directory.
    HandedOver,
    /// Waiting for the predecessor of an in-place upgrade to hand the state over: the first
    /// [`Saved::lock`] waits for it.
    Pending,
}

/// The answer of [`Saved::restored`] before the hand-over arrived.
static PENDING: Restored = Restored::Pending;

/// The live state of snapshot `S`, a resource. Lock it to read or change it; the engine saves
/// it during [`Phase::SavingState`].
pub struct Saved<S: Snapshot> {
    state: Mutex<S>,
    dir: PathBuf,
    restored: std::sync::OnceLock<Restored>,
    /// Set when the predecessor of an in-place upgrade hands the state over.
    #[cfg(all(feature = "upgrade", unix))]
    hand_over: Option<HandOver>,
}

/// Where a successor's state comes from, and whether it came.
#[cfg(all(feature = "upgrade", unix))]
struct HandOver {
    inbox: std::sync::Arc<crate::upgrade::Inbox>,
    on_corrupt: OnCorrupt,
    done: tokio::sync::OnceCell<()>,
}

impl<S: Snapshot> Saved<S> {
    /// Restores snapshot `S` from `dir` (blocking), applying `on_corrupt` to an unusable file.
    pub fn restore(dir: impl Into<PathBuf>, on_corrupt: OnCorrupt) -> Result<Self, StateError> {
        let dir = dir.into();
        let (state, restored) = read_dir::<S>(&dir, on_corrupt)?;
        Ok(Saved {
            state: Mutex::new(state),
            dir,
            restored: std::sync::OnceLock::from(restored),
            #[cfg(all(feature = "upgrade", unix))]
            hand_over: None,
        })
    }

    /// A state the predecessor of an in-place upgrade will hand over: empty until the first
    /// [`lock`](Saved::lock), which waits for it (or, when the predecessor sent none, reads
    /// the state directory).
    #[cfg(all(feature = "upgrade", unix))]
    fn awaiting(
        dir: PathBuf,
        on_corrupt: OnCorrupt,
        inbox: std::sync::Arc<crate::upgrade::Inbox>,
    ) -> Self {
        Saved {
            state: Mutex::new(S::default()),
            dir,
            restored: std::sync::OnceLock::new(),
            hand_over: Some(HandOver {
                inbox,
                on_corrupt,
                done: tokio::sync::OnceCell::new(),
            }),
        }
    }

    /// Waits for the predecessor's hand-over, once.
    #[cfg(all(feature = "upgrade", unix))]
    async fn handed_over(&self) {
        let Some(h) = &self.hand_over else { return };
        h.done
            .get_or_init(|| async {
                let (state, restored) = match h.inbox.take(S::NAME).await {
                    Some(bytes) => match decode::<S>(&bytes, &self.path()) {
                        Ok(s) => (s, Restored::HandedOver),
                        Err(e) => {
                            let message = format!("the predecessor's hand-over of {e}; starting from an empty state");
                            tracing::error!(target: "graceful::state", "{message}");
                            eprintln!("graceful: {message}");
                            (S::default(), Restored::Fresh)
                        }
                    },
                    None => {
                        let dir = self.dir.clone();
                        let on_corrupt = h.on_corrupt;
                        let read = tokio::task::spawn_blocking(move || read_dir::<S>(&dir, on_corrupt)).await;
                        match read {
                            Ok(Ok(read)) => read,
                            Ok(Err(e)) => {
                                tracing::error!(target: "graceful::state", "{e}; starting from an empty state");
                                eprintln!("graceful: {e}; starting from an empty state");
                                (S::default(), Restored::Fresh)
                            }
                            Err(e) => {
                                tracing::error!(target: "graceful::state", snapshot = S::NAME, "reading the state directory failed: {e}");
                                (S::default(), Restored::Fresh)
                            }
                        }
                    }
                };
                *self.state.lock().await = state;
                if restored == Restored::HandedOver {
                    tracing::info!(target: "graceful::state", snapshot = S::NAME, "state handed over by the predecessor");
                }
                let _ = self.restored.set(restored);
            })
            .await;
    }
}

/// Reads snapshot `S` from `dir` (blocking), applying `on_corrupt` to an unusable file.
fn read_dir<S: Snapshot>(dir: &Path, on_corrupt: OnCorrupt) -> Result<(S, Restored), StateError> {
    snapshot_file::remove_stale_temporaries::<S>(dir);
    let (state, restored) = match load::<S>(dir) {
        Ok(Some(s)) => (s, Restored::FromSnapshot),
        Ok(None) => (S::default(), Restored::Fresh),
        Err(e) if e.is_unusable_file() => match on_corrupt {
            OnCorrupt::Refuse => {
                tracing::error!(target: "graceful::state", "{e}; refusing to start (on_corrupt = \"refuse\")");
                return Err(e);
            }
            OnCorrupt::MoveAside => {
                let path = path_of::<S>(dir);
                let aside = move_aside(&path).map_err(|source| StateError::Io {
                    name: S::NAME,
                    action: "move aside",
                    path: path.clone(),
                    source,
                })?;
                let message = format!(
                    "{e}; moved aside to {}, starting from an empty state",
                    aside.display()
                );
                tracing::error!(target: "graceful::state", "{message}");
                eprintln!("graceful: {message}");
                (
                    S::default(),
                    Restored::MovedAside {
                        error: e.to_string(),
                        aside,
                    },
                )
            }
        },
        Err(e) => return Err(e),
    };
    if restored == Restored::FromSnapshot {
        tracing::info!(target: "graceful::state", snapshot = S::NAME, "state restored");
    }
    Ok((state, restored))
}

impl<S: Snapshot> Saved<S> {
    /// Exclusive access to the state. In the successor of an in-place upgrade, the first call
    /// waits until the predecessor has handed the state over.
    pub async fn lock(&self) -> MutexGuard<'_, S> {
        #[cfg(all(feature = "upgrade", unix))]
        self.handed_over().await;
        self.state.lock().await
    }

    /// How the state was obtained at start-up ([`Restored::Pending`] until a predecessor's
    /// hand-over arrived).
    pub fn restored(&self) -> &Restored {
        self.restored.get().unwrap_or(&PENDING)
    }

    /// The snapshot file.
    pub fn path(&self) -> PathBuf {
        path_of::<S>(&self.dir)
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Saves now (a checkpoint), atomically; the shutdown saves again at the end. The state
    /// stays locked while it is serialized, not while it is written.
    pub async fn save_now(&self) -> Result<(), StateError> {
        let bytes = {
            let state = self.lock().await;
            encode(&*state)?
        };
        self.write(bytes).await
    }

    /// Writes encoded bytes to the snapshot file, atomically.
    async fn write(&self, bytes: Vec<u8>) -> Result<(), StateError> {
        let path = self.path();
        let target = path.clone();
        let written =
            tokio::task::spawn_blocking(move || crate::fs::atomic_write(&target, &bytes)).await;
        let result = match written {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e.to_string())),
        };
        result.map_err(|source| StateError::Io {
            name: S::NAME,
            action: "write",
            path,
            source,
        })
    }
}

impl<S: Snapshot + std::fmt::Debug> std::fmt::Debug for Saved<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Saved")
            .field("name", &S::NAME)
            .field("dir", &self.dir)
            .field("restored", &self.restored)
            .finish_non_exhaustive()
    }
}

impl Show for OnCorrupt {
    fn show(&self) -> Shown {
        Shown::Text(
            match self {
                OnCorrupt::MoveAside => "move_aside",
                OnCorrupt::Refuse => "refuse",
            }
            .into(),
        )
    }
}

fn on_corrupt(input: Input<'_>) -> Result<OnCorrupt, String> {
    value::one_of(
        input,
        &[
            ("move_aside", OnCorrupt::MoveAside),
            ("refuse", OnCorrupt::Refuse),
        ],
    )
}

/// The `[state]` table of the configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StateConfig {
    /// What to do with a damaged snapshot (default [`OnCorrupt::MoveAside`]).
    pub on_corrupt: Setting<OnCorrupt>,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            on_corrupt: Setting::default_value(OnCorrupt::default()),
        }
    }
}

impl StateConfig {
    /// The keys of the `[state]` table.
    pub(crate) const KEYS: Section<StateConfig> = Section {
        name: "state",
        keys: &[key!(
            "on_corrupt",
            None,
            on_corrupt,
            on_corrupt,
            "a damaged snapshot is moved aside (`\"move_aside\"`) or stops start-up (`\"refuse\"`)"
        )],
        check: no_rules,
    };

    /// The `[state]` section of `config` as it was loaded with the rest of the configuration
    /// (the defaults < the `[state]` table of the file; the section reads no variable).
    pub fn load(config: &Config) -> Result<Self, ConfigError> {
        config.section(&StateConfig::KEYS)
    }
}

inventory::submit! {
    crate::config::sections::Registration(&StateConfig::KEYS)
}

/// The `on_corrupt` setting of the `[state]` section, if set there and valid.
fn configured_on_corrupt(graceful: &Graceful) -> Result<Option<OnCorrupt>, ConfigError> {
    let c = StateConfig::load(graceful.shutdown.config())?;
    Ok((c.on_corrupt.source != Source::Default).then_some(c.on_corrupt.value))
}

impl Graceful {
    /// Adds snapshot `S` as the resource [`Saved<S>`] at `priority`: restored from the state
    /// directory when resources are built (before `main`), saved during
    /// [`Phase::SavingState`]. An unusable snapshot is handled as `[state] on_corrupt` says
    /// (default: moved aside). See the [module docs](crate::state).
    pub fn saved_state<S: Snapshot>(self, priority: i32) -> Self {
        self.saved_state_with::<S>(priority, None)
    }

    /// Like [`saved_state`](Graceful::saved_state), with `on_corrupt` set in code (it wins
    /// over the configuration file when `Some`).
    pub fn saved_state_with<S: Snapshot>(
        mut self,
        priority: i32,
        on_corrupt: Option<OnCorrupt>,
    ) -> Self {
        let dir = self.shutdown.config().state_dir.value.clone();
        let configured = configured_on_corrupt(&self);
        #[cfg(all(feature = "upgrade", unix))]
        let inbox = self.shutdown.extension::<crate::upgrade::Inbox>();
        let resource = Resource::new(
            format!("state {}", S::NAME),
            priority,
            move |_| async move {
                let on_corrupt = match (on_corrupt, configured) {
                    (Some(c), _) => c,
                    (None, Ok(c)) => c.unwrap_or_default(),
                    (None, Err(e)) => return Err(BoxError::from(e)),
                };
                let dir = dir.ok_or(StateError::NoStateDir { name: S::NAME })?;
                #[cfg(all(feature = "upgrade", unix))]
                if inbox.expected() {
                    return Ok(Saved::<S>::awaiting(dir, on_corrupt, inbox));
                }
                let saved =
                    tokio::task::spawn_blocking(move || Saved::<S>::restore(dir, on_corrupt))
                        .await
                        .map_err(|e| {
                            BoxError::from(format!("restoring snapshot `{}`: {e}", S::NAME))
                        })??;
                Ok::<_, BoxError>(saved)
            },
        );
        self.specs.push(resource.into_spec());
        self.shutdown
            .on_phase(Phase::SavingState, format!("save state {}", S::NAME), |shutdown| async move {
                // Not built (start-up failed before it, or refused a damaged file): nothing to save.
                let Ok(saved) = shutdown.resources().get::<Saved<S>>() else {
                    return Ok(());
                };
                #[cfg(all(feature = "upgrade", unix))]
                {
                    let bytes = {
                        let state = saved.lock().await;
                        encode(&*state)?
                    };
                    if crate::upgrade::hand_over(&shutdown, S::NAME, &bytes).await {
                        return Ok(());
                    }
                    saved.write(bytes).await?;
                }
                #[cfg(not(all(feature = "upgrade", unix)))]
                saved.save_now().await?;
                tracing::info!(target: "graceful::state", snapshot = S::NAME, path = %saved.path().display(), "state saved");
                Ok(())
            });
        self
    }
}
