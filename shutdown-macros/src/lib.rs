//! Procedural macros of `graceful`. Use them through the `graceful` facade.
