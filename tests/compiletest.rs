//! The diagnostics of the macros, pinned with trybuild: one mistake per file in
//! `tests/ui/*.rs`, each with the exact expected error in the `.stderr` next to it, and a few
//! programs in `tests/ui/pass/` that must compile and run.
//!
//! Regenerate after changing a message: `TRYBUILD=overwrite cargo test -p graceful --test
//! compiletest`, then read every changed `.stderr`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
