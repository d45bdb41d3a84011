//! Resources: values built at start-up in descending priority and closed at shutdown in
//! ascending priority.
//!
//! `#[graceful::resource]` writes a [`Resource`] for you and registers it through `inventory`;
//! without macros, hand one to [`GracefulBuilder::resource`](crate::GracefulBuilder::resource).
//!
//! ```
//! use graceful::{Resource, Res};
//!
//! struct Db;
//! # #[allow(dead_code)]
//! struct Cache { db: Res<Db> }
//!
//! let db = Resource::new("db", 100, |_| async { Ok::<_, std::io::Error>(Db) });
//! let cache = Resource::new("cache", 90, |res: graceful::Resources| async move {
//!     Ok::<_, graceful::BoxError>(Cache { db: res.get::<Db>()? })
//! })
//! .depends_on::<Db>()
//! .close_with(|cache: Res<Cache>| async move { drop(cache); });
//! # let _ = (db, cache);
//! ```

mod close;
mod registered;
mod res;
mod shared_handles;
mod type_map;

use std::any::TypeId;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

pub use close::{Close, CloseOutput};
pub use registered::Registration;
pub(crate) use registered::registered;
pub use res::Res;
pub(crate) use shared_handles::{closing, owner};
pub(crate) use type_map::AnyArc;
pub use type_map::{ResourceInfo, ResourceState, Resources};

use crate::error::{BoxError, Location};

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;
type BuildFn = Box<dyn FnOnce(Resources) -> BoxFuture<Result<AnyArc, BoxError>> + Send>;
pub(crate) type CloseFn = Box<dyn FnOnce(AnyArc) -> BoxFuture<Result<(), BoxError>> + Send>;

/// The engine's handle back as the resource's own type.
fn downcast<T: Send + Sync + 'static>(any: AnyArc) -> Result<std::sync::Arc<T>, BoxError> {
    any.downcast::<T>()
        .map_err(|_| BoxError::from("internal error: resource of an unexpected type"))
}

/// How a resource closes, for reports and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(
    feature = "serde",
    serde(tag = "kind", content = "method", rename_all = "snake_case")
)]
pub enum CloseKind {
    /// No handler: the engine drops its handle.
    Drop,
    /// The type's [`Close`] implementation.
    Trait,
    /// A named method (`close = "method"`).
    Method(String),
    /// A closure given to [`Resource::close_with`] / [`Resource::close_owned`].
    Custom,
}

/// A typed description of one resource: how to build it, what it needs, how it closes.
#[must_use = "a Resource does nothing until given to GracefulBuilder::resource"]
pub struct Resource<T> {
    spec: ResourceSpec,
    _type: PhantomData<fn() -> T>,
}

/// A type-erased [`Resource`], as stored by the engine and registered by the macros.
pub struct ResourceSpec {
    pub(crate) name: String,
    pub(crate) type_name: &'static str,
    pub(crate) type_id: TypeId,
    pub(crate) priority: i32,
    pub(crate) location: Option<Location>,
    pub(crate) deps: Vec<(TypeId, &'static str)>,
    pub(crate) build: BuildFn,
    pub(crate) close: Option<CloseFn>,
    pub(crate) close_kind: CloseKind,
    /// `std::mem::needs_drop::<T>()`: whether dropping the value runs any code.
    pub(crate) needs_drop: bool,
}

impl ResourceSpec {
    /// The resource's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its priority (higher builds first and closes last).
    pub fn priority(&self) -> i32 {
        self.priority
    }

    /// The Rust type it produces.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// Where it was declared, when known.
    pub fn location(&self) -> Option<Location> {
        self.location
    }
}

impl std::fmt::Debug for ResourceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceSpec")
            .field("name", &self.name)
            .field("type", &self.type_name)
            .field("priority", &self.priority)
            .field("location", &self.location)
            .field("close", &self.close_kind)
            .finish_non_exhaustive()
    }
}

impl<T: Send + Sync + 'static> Resource<T> {
    /// A resource named `name` with `priority`, built by `ctor` (which may read other
    /// resources from the [`Resources`] it is given; declare those with [`depends_on`]).
    ///
    /// Higher priority builds first and closes last. Without a close handler the engine drops
    /// its handle at close time.
    ///
    /// [`depends_on`]: Resource::depends_on
    pub fn new<F, Fut, E>(name: impl Into<String>, priority: i32, ctor: F) -> Self
    where
        F: FnOnce(Resources) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        let build: BuildFn = Box::new(move |res| {
            Box::pin(async move {
                let value = ctor(res).await.map_err(Into::into)?;
                Ok(std::sync::Arc::new(value) as AnyArc)
            })
        });
        Resource {
            spec: ResourceSpec {
                name: name.into(),
                type_name: std::any::type_name::<T>(),
                type_id: TypeId::of::<T>(),
                priority,
                location: None,
                deps: Vec::new(),
                build,
                close: None,
                close_kind: CloseKind::Drop,
                needs_drop: std::mem::needs_drop::<T>(),
            },
            _type: PhantomData,
        }
    }

    /// A resource that is already built.
    pub fn from_value(name: impl Into<String>, priority: i32, value: T) -> Self {
        Self::new(
            name,
            priority,
            move |_| async move { Ok::<_, BoxError>(value) },
        )
    }

    /// Declares that the constructor reads a `Res<U>`: `U` is built first and closes after
    /// this resource. A priority order that contradicts this is a start-up error.
    pub fn depends_on<U: 'static>(mut self) -> Self {
        self.spec
            .deps
            .push((TypeId::of::<U>(), std::any::type_name::<U>()));
        self
    }

    /// Records where the resource was declared (shown in errors and reports).
    pub fn at(mut self, file: &'static str, line: u32) -> Self {
        self.spec.location = Some(Location { file, line });
        self
    }

    /// Closes through a shared handle. Works even if other `Res<T>` handles are still alive.
    pub fn close_with<F, Fut, O>(mut self, f: F) -> Self
    where
        F: FnOnce(Res<T>) -> Fut + Send + 'static,
        Fut: Future<Output = O> + Send + 'static,
        O: CloseOutput,
    {
        self.spec.close = Some(Box::new(move |any: AnyArc| {
            Box::pin(async move {
                let arc = downcast::<T>(any)?;
                f(Res(arc)).await.into_close_result()
            })
        }));
        self.spec.close_kind = CloseKind::Custom;
        self
    }

    /// Closes by taking the value itself (for close methods that take `self`, and for
    /// `close = "…"`). If other `Res<T>` handles are still alive at close time, the close is
    /// reported as an error that says how many.
    pub fn close_owned<F, Fut, O>(mut self, f: F) -> Self
    where
        F: FnOnce(T) -> Fut + Send + 'static,
        Fut: Future<Output = O> + Send + 'static,
        O: CloseOutput,
    {
        self.spec.close = Some(Box::new(move |any: AnyArc| {
            Box::pin(async move {
                let arc = downcast::<T>(any)?;
                let value = std::sync::Arc::try_unwrap(arc).map_err(|arc| {
                    BoxError::from(format!(
                        "cannot close by value: {} other `Res<{}>` handle(s) are still alive (a task or a value that \
                         outlived `main` holds them); drop them before shutdown, or close through `&self`",
                        std::sync::Arc::strong_count(&arc) - 1,
                        std::any::type_name::<T>()
                    ))
                })?;
                f(value).await.into_close_result()
            })
        }));
        self.spec.close_kind = CloseKind::Custom;
        self
    }

    /// Closes through the type's [`Close`] implementation.
    pub fn close_trait(mut self) -> Self
    where
        T: Close,
    {
        self = self.close_with(|r: Res<T>| async move { r.close().await });
        self.spec.close_kind = CloseKind::Trait;
        self
    }

    /// Records the method name for reports (used by `close = "method"`, through
    /// `__private::close_method`).
    pub(crate) fn close_kind_method(mut self, method: &str) -> Self {
        self.spec.close_kind = CloseKind::Method(method.to_string());
        self
    }

    /// Erases the type.
    pub fn into_spec(self) -> ResourceSpec {
        self.spec
    }
}

impl<T> std::fmt::Debug for Resource<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.spec.fmt(f)
    }
}

impl<T: Send + Sync + 'static> From<Resource<T>> for ResourceSpec {
    fn from(r: Resource<T>) -> Self {
        r.spec
    }
}
