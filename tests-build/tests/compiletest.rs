//! The diagnostics of the macros, pinned with trybuild: one mistake per file in
//! `tests/ui/*.rs`, each with the exact expected error in the `.stderr` next to it, and a few
//! programs in `tests/ui/pass/` that must compile and run.
//!
//! Regenerate after changing a message: `TRYBUILD=overwrite cargo test -p graceful-tests-build`,
//! then read every changed `.stderr`.
//!
//! trybuild compiles the cases against this package's dependencies as the manifest declares
//! them (the facade with its default features), whatever features the surrounding `cargo test`
//! enabled, so the expectations hold in every pass.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
