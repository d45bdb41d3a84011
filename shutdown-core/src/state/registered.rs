//! Saved states registered at compile time by `#[graceful::state]`, applied to an engine.

use crate::engine::Graceful;

/// One `#[graceful::state]`, submitted to `inventory`: adds its `Saved<T>` to an engine.
#[doc(hidden)]
pub struct StateRegistration {
    apply: fn(Graceful) -> Graceful,
}

impl StateRegistration {
    /// Used by generated code only.
    pub const fn new(apply: fn(Graceful) -> Graceful) -> Self {
        StateRegistration { apply }
    }
}

inventory::collect!(StateRegistration);

impl Graceful {
    /// Adds every type declared with `#[graceful::state]` in the crates linked into this
    /// program, as [`saved_state`](Graceful::saved_state) would. `#[graceful::main]` calls it;
    /// a program built with [`Graceful::builder`] calls it to get the same saved states.
    pub fn registered_states(self) -> Self {
        inventory::iter::<StateRegistration>
            .into_iter()
            .fold(self, |graceful, r| (r.apply)(graceful))
    }
}
