//! The snapshot file: a one-line JSON header (format, name, version, length, checksum), then
//! the state as JSON. Written with [`atomic_write`](crate::fs::atomic_write).

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Snapshot;

/// The `format` field of every snapshot header.
pub const FORMAT: &str = "graceful-snapshot";

/// The suffix of a snapshot file: `<state_dir>/<NAME>.snapshot`.
pub const EXTENSION: &str = "snapshot";

/// Why a snapshot could not be saved or restored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The file exists but is damaged: unreadable header, wrong length, checksum mismatch, or
    /// a body that does not parse as the state type.
    #[error("snapshot `{name}` at {path} is corrupted: {reason}")]
    Corrupt {
        /// The snapshot's name.
        name: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The file is intact but was written by another version of the state type, and
    /// [`Snapshot::migrate`] did not accept it.
    #[error(
        "snapshot `{name}` at {path} has version {found}, this program reads version {expected}: {reason}"
    )]
    Incompatible {
        /// The snapshot's name.
        name: &'static str,
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// [`Snapshot::VERSION`].
        expected: u32,
        /// Why migration refused it.
        reason: String,
    },
    /// Saving or restoring needs a state directory and none is configured.
    #[error(
        "snapshot `{name}` needs a state directory: set `state_dir` in the configuration file, \
         `SHUTDOWN_STATE_DIR` in the environment, or `GracefulBuilder::state_dir`"
    )]
    NoStateDir {
        /// The snapshot's name.
        name: &'static str,
    },
    /// The state could not be serialized.
    #[error("cannot serialize snapshot `{name}`: {source}")]
    Serialize {
        /// The snapshot's name.
        name: &'static str,
        /// The serializer's error.
        #[source]
        source: serde_json::Error,
    },
    /// The file could not be read or written.
    #[error("snapshot `{name}`: cannot {action} {path}: {source}")]
    Io {
        /// The snapshot's name.
        name: &'static str,
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The error from the operating system.
        #[source]
        source: std::io::Error,
    },
}

impl StateError {
    /// `true` for [`Corrupt`](StateError::Corrupt) and
    /// [`Incompatible`](StateError::Incompatible): the file is there but unusable, and is
    /// moved aside (or refused) at start-up.
    pub fn is_unusable_file(&self) -> bool {
        matches!(
            self,
            StateError::Corrupt { .. } | StateError::Incompatible { .. }
        )
    }
}

#[derive(Serialize, serde::Deserialize)]
struct Header {
    format: String,
    name: String,
    version: u32,
    saved_at_unix_ms: u64,
    len: u64,
    fnv1a64: String,
}

/// The path of snapshot `S` in `dir`.
pub fn path_of<S: Snapshot>(dir: &Path) -> PathBuf {
    dir.join(format!("{}.{EXTENSION}", S::NAME))
}

/// FNV-1a, 64 bits: enough to tell a damaged file from an intact one (not an authenticity
/// check).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Serializes `state` with its header, ready to be written.
pub fn encode<S: Snapshot + Serialize>(state: &S) -> Result<Vec<u8>, StateError> {
    let body = serde_json::to_vec(state).map_err(|source| StateError::Serialize {
        name: S::NAME,
        source,
    })?;
    let header = Header {
        format: FORMAT.to_string(),
        name: S::NAME.to_string(),
        version: S::VERSION,
        saved_at_unix_ms: now_ms(),
        len: body.len() as u64,
        fnv1a64: format!("{:016x}", fnv1a64(&body)),
    };
    let mut out = serde_json::to_vec(&header).map_err(|source| StateError::Serialize {
        name: S::NAME,
        source,
    })?;
    out.push(b'\n');
    out.extend_from_slice(&body);
    Ok(out)
}

/// Checks and deserializes the bytes of a snapshot file read from `path`.
pub fn decode<S: Snapshot + DeserializeOwned>(bytes: &[u8], path: &Path) -> Result<S, StateError> {
    let corrupt = |reason: String| StateError::Corrupt {
        name: S::NAME,
        path: path.to_path_buf(),
        reason,
    };
    let split = bytes
        .iter()
        .position(|b| *b == b'\n')
        .ok_or_else(|| corrupt("no header line".into()))?;
    let (head, body) = (&bytes[..split], &bytes[split + 1..]);
    let header: Header =
        serde_json::from_slice(head).map_err(|e| corrupt(format!("unreadable header: {e}")))?;
    if header.format != FORMAT {
        return Err(corrupt(format!(
            "format `{}`, expected `{FORMAT}`",
            header.format
        )));
    }
    if header.name != S::NAME {
        return Err(corrupt(format!("it holds snapshot `{}`", header.name)));
    }
    if header.len != body.len() as u64 {
        return Err(corrupt(format!(
            "the body has {} bytes, the header says {}",
            body.len(),
            header.len
        )));
    }
    let sum = format!("{:016x}", fnv1a64(body));
    if header.fnv1a64 != sum {
        return Err(corrupt(format!(
            "checksum {sum} does not match the header's {}",
            header.fnv1a64
        )));
    }
    if header.version != S::VERSION {
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| corrupt(format!("the body is not JSON: {e}")))?;
        return S::migrate(header.version, value).map_err(|e| StateError::Incompatible {
            name: S::NAME,
            path: path.to_path_buf(),
            found: header.version,
            expected: S::VERSION,
            reason: e.to_string(),
        });
    }
    serde_json::from_slice(body).map_err(|e| StateError::Incompatible {
        name: S::NAME,
        path: path.to_path_buf(),
        found: header.version,
        expected: S::VERSION,
        reason: format!(
            "the body does not match the state type ({e}); bump `Snapshot::VERSION` when the type changes"
        ),
    })
}

/// Saves `state` as snapshot `S` in `dir`, atomically (temporary file, `fsync`, rename,
/// `fsync` of the directory): a crash at any moment leaves the previous snapshot or the new
/// one, never a torn file. Blocking: call it from `spawn_blocking` in async code.
pub fn save<S: Snapshot + Serialize>(dir: &Path, state: &S) -> Result<(), StateError> {
    let bytes = encode(state)?;
    let path = path_of::<S>(dir);
    crate::fs::atomic_write(&path, &bytes).map_err(|source| StateError::Io {
        name: S::NAME,
        action: "write",
        path,
        source,
    })
}

/// Reads snapshot `S` from `dir`: `Ok(None)` when there is none. Blocking.
pub fn load<S: Snapshot + DeserializeOwned>(dir: &Path) -> Result<Option<S>, StateError> {
    let path = path_of::<S>(dir);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StateError::Io {
                name: S::NAME,
                action: "read",
                path,
                source,
            });
        }
    };
    decode(&bytes, &path).map(Some)
}

/// Moves an unusable snapshot to `<file>.corrupt-<unix milliseconds>` and returns the new
/// path.
pub fn move_aside(path: &Path) -> std::io::Result<PathBuf> {
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".corrupt-{}", now_ms()));
    let aside = PathBuf::from(aside);
    std::fs::rename(path, &aside)?;
    Ok(aside)
}

/// Removes temporary files a crash during a save left behind (`.<NAME>.snapshot.tmp.<pid>`).
pub(crate) fn remove_stale_temporaries<S: Snapshot>(dir: &Path) {
    let prefix = format!(".{}.{EXTENSION}.tmp.", S::NAME);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
