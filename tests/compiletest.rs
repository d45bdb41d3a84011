//! The diagnostics of the macros, pinned with trybuild: one mistake per file in
//! `tests/ui/*.rs`, each with the exact expected error in the `.stderr` next to it, and a few
//! programs in `tests/ui/pass/` that must compile and run.
//!
//! Regenerate after changing a message: `TRYBUILD=overwrite cargo test -p graceful --test
//! compiletest`, then read every changed `.stderr`.

// rustc's messages depend on which traits are in scope: with optional integrations enabled
// (redis brings `Commands::persist`, …) its suggestions differ. The expectations are pinned
// for the default features, the configuration `cargo test --workspace` runs; with any
// integration enabled this test is compiled out.
#[test]
#[cfg(not(any(
    feature = "axum",
    feature = "hyper",
    feature = "tonic",
    feature = "admin",
    feature = "metrics",
    feature = "systemd",
    feature = "sqlx",
    feature = "redis",
    feature = "nats",
    feature = "lapin",
    feature = "deadpool",
    feature = "bb8",
    feature = "process",
    feature = "state",
    feature = "tracing-appender",
    feature = "opentelemetry",
    feature = "tokio-fs",
)))]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
