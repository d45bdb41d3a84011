//! The features that start with the engine, each named once, here.
//!
//! Most features need no start: they create their extension on first use (see
//! `shutdown/extend.rs`). Those that must act from the engine's first moment, whether or not
//! the program ever names them, export a [`Feature`] with their start hook and are listed
//! below; the engine calls them through [`start_features`](crate::shutdown::start_features)
//! and never names a feature itself.

use crate::shutdown::Feature;

/// Every feature compiled into this build that starts with the engine, in start order.
pub(crate) const ALL: &[Feature] = &[
    #[cfg(all(feature = "upgrade", unix))]
    crate::upgrade::FEATURE,
    #[cfg(feature = "timeline")]
    crate::timeline::FEATURE,
];
