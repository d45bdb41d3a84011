//! Shared handles: a field of a derived close whose type is a registered resource.
//!
//! Many clients are cheap clones of one connection: a `redis::aio::MultiplexedConnection`, a
//! `sqlx::PgPool`, a `ConnectionManager`. A resource that keeps a clone of another resource
//! (`Res<MultiplexedConnection>` turned into a field with `(*con).clone()`, as the client's
//! docs recommend) shares that connection with every other user of it. If its
//! `#[derive(Close)]` closed the field, it would close the connection under everyone else's
//! feet: the next resource to use it in its own close fails (`broken pipe`).
//!
//! The rule: **a derived close leaves alone a field whose type is registered as a resource of
//! the engine running the close.** The engine closes that resource once, itself, at its own
//! priority, which the dependency order puts after every resource that takes it as `Res<T>`.
//!
//! How: while the engine runs a resource's close, the close sees the engine's resource table
//! (a task-local, [`closing`]); the derived close asks it, per field, whether the field's type
//! is registered ([`owner`]). Outside an engine's close (a `close()` called by hand) nothing is
//! registered, and every field is closed as before. The cost is one lookup in the resource map
//! per field whose type implements `Close`, once per shutdown.

use std::any::TypeId;
use std::future::Future;

use super::Resources;

tokio::task_local! {
    /// The resources of the engine whose close is running on this task.
    static CLOSING: Resources;
}

/// Runs a resource's close with the engine's resources visible to [`owner`].
pub(crate) fn closing<F: Future>(
    resources: Resources,
    close: F,
) -> impl Future<Output = F::Output> {
    CLOSING.scope(resources, close)
}

/// The name of the resource of type `T` registered with the engine whose close runs on this
/// task, if there is one: a value of type `T` there is a handle the engine closes itself.
pub(crate) fn owner<T: 'static>() -> Option<String> {
    CLOSING
        .try_with(|resources| resources.name_of(TypeId::of::<T>()))
        .ok()
        .flatten()
}
