//! Process-level tests of graceful. Nothing here is a library: the fixture programs live in
//! `fixtures/` (built as this package's binaries) and the tests that start them in `tests/`.
//!
//! `cargo test -p graceful-tests-integration` runs the engine's process tests;
//! `--all-features -- --include-ignored` adds HTTP, the admin API, systemd and the tests that
//! need PostgreSQL, Redis, NATS, RabbitMQ and HAProxy.

#[cfg(doctest)]
mod snippets;
