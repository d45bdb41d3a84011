//! The Rust snippets of README.md and docs/*.md, compiled as doctests: rustdoc builds each one
//! as a crate of its own that depends on graceful by path, in this package's edition (2024),
//! as a user's crate would. `docs/macros.md` and `docs/testing.md` are doctests of the facade
//! itself (`graceful::guide`). Every block is a complete program, or a function or handler
//! with its imports, that compiles; one that serves or waits for a signal is `no_run`. A block
//! that cannot compile on its own (one that needs a second crate) says why in a comment above
//! it and is marked `ignore`. Each page is checked when the features its snippets use are on,
//! which `cargo test --workspace --all-features` (CI) turns on.

/// README.md.
#[cfg(feature = "sqlx")]
#[doc = include_str!("../../README.md")]
pub mod readme {}

/// docs/http.md.
#[cfg(feature = "axum")]
#[doc = include_str!("../../docs/http.md")]
pub mod http {}

/// docs/integrations.md.
#[cfg(all(feature = "process", feature = "state"))]
#[doc = include_str!("../../docs/integrations.md")]
pub mod integrations {}

/// docs/operations.md.
#[cfg(all(feature = "admin", feature = "systemd", feature = "axum"))]
#[doc = include_str!("../../docs/operations.md")]
pub mod operations {}
