//! The compile-fail suite of graceful's macros lives in `tests/compiletest.rs`; this library is
//! empty. Run it with `cargo test -p graceful-tests-build`.
