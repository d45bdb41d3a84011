//! `Res<T>`: a shared handle to a built resource.

use std::ops::Deref;
use std::sync::Arc;

/// A shared, cheap-to-clone handle to a resource of type `T`.
///
/// Constructors take their dependencies as `Res<T>` parameters; programs get one from
/// [`graceful::get`](crate::get) or [`Resources::get`](crate::Resources::get). It dereferences
/// to `T`.
pub struct Res<T: ?Sized>(pub(crate) Arc<T>);

impl<T> Res<T> {
    /// Wraps a value (mostly for tests that call constructors by hand).
    pub fn new(value: T) -> Self {
        Res(Arc::new(value))
    }

    /// Takes the value out when this is the last handle; gives the handle back otherwise.
    pub fn try_unwrap(this: Self) -> Result<T, Self> {
        Arc::try_unwrap(this.0).map_err(Res)
    }

    /// How many handles to this resource exist (including the engine's own while it runs).
    pub fn handle_count(this: &Self) -> usize {
        Arc::strong_count(&this.0)
    }
}

impl<T: ?Sized> Clone for Res<T> {
    fn clone(&self) -> Self {
        Res(self.0.clone())
    }
}

impl<T: ?Sized> Deref for Res<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized> AsRef<T> for Res<T> {
    fn as_ref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized + std::fmt::Debug> std::fmt::Debug for Res<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}
