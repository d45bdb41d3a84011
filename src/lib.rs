//! # graceful
//!
//! Make Rust services shut down correctly.
#![doc(test(attr(deny(warnings))))]

#[doc(inline)]
pub use shutdown_core::*;
#[doc(inline)]
pub use shutdown_macros::*;

#[doc(hidden)]
pub use shutdown_core::__private;
