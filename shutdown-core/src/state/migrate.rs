//! Why [`Snapshot::migrate`](super::Snapshot::migrate) refused a snapshot written by another
//! version of the state type.

use crate::error::BoxError;

/// Why a snapshot of version `from` could not be converted to the current version. The start-up
/// error that reports it ([`StateError::Incompatible`](super::StateError::Incompatible)) adds
/// the snapshot's name and file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// No conversion from this version exists (what the default `migrate` answers).
    #[error(
        "no migration from version {from} to version {to}; implement `Snapshot::migrate` for version {from}"
    )]
    Unsupported {
        /// The version in the file.
        from: u32,
        /// The version this program reads ([`Snapshot::VERSION`](super::Snapshot::VERSION)).
        to: u32,
    },
    /// The file's JSON does not have the shape that version `from` wrote.
    #[error("the version {from} snapshot does not have the shape that version wrote: {source}")]
    Shape {
        /// The version in the file.
        from: u32,
        /// What `serde_json` found wrong.
        #[source]
        source: serde_json::Error,
    },
    /// Any other reason, given by the program's `migrate`.
    #[error("cannot migrate from version {from}: {source}")]
    Other {
        /// The version in the file.
        from: u32,
        /// Why.
        #[source]
        source: BoxError,
    },
}

impl MigrateError {
    /// The version in the file.
    pub fn from_version(&self) -> u32 {
        match self {
            MigrateError::Unsupported { from, .. }
            | MigrateError::Shape { from, .. }
            | MigrateError::Other { from, .. } => *from,
        }
    }
}
