//! Error types.

use std::time::Duration;

use crate::phase::Phase;

/// A boxed error as returned by constructors, close handlers and hooks.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Where a resource was declared: the constructor's source file and line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Location {
    /// Source file, as `file!()` gives it.
    pub file: &'static str,
    /// Line, as `line!()` gives it.
    pub line: u32,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// Why start-up failed: the engine could not build the set of resources.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartupError {
    /// A constructor returned an error or panicked.
    Constructor {
        /// The resource's name.
        name: String,
        /// Where it was declared, or `<builder>` when not known.
        location: LocationText,
        /// What the constructor returned.
        source: BoxError,
    },
    /// A constructor asks for a resource type nobody registered.
    MissingDependency {
        /// The dependent resource.
        name: String,
        /// Where it was declared.
        location: LocationText,
        /// The missing type.
        missing: &'static str,
        /// How to fix it.
        hint: &'static str,
    },
    /// A dependency would close before (or together with) its dependent.
    PriorityContradiction {
        /// The resource that takes the other as `Res<T>`.
        dependent: String,
        /// Its priority.
        dependent_priority: i32,
        /// The resource it takes.
        dependency: String,
        /// Its priority.
        dependency_priority: i32,
    },
    /// Fewer resources are registered than the program declared it expects: typically the
    /// crate holding the `#[resource]` constructors was never linked.
    TooFewResources {
        /// What the program declared (`expect_resources`).
        expected: usize,
        /// How many were registered.
        found: usize,
        /// `: a, b` listing those found, or empty.
        names: String,
    },
    /// Two resources produce the same type; `get::<T>()` would be ambiguous.
    DuplicateType {
        /// The first registration.
        first: String,
        /// The second registration.
        second: String,
        /// The shared type.
        type_name: &'static str,
    },
}

impl std::fmt::Display for StartupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartupError::Constructor {
                name,
                location,
                source,
            } => write!(
                f,
                "resource `{name}` ({location}) failed to start: {source}"
            ),
            StartupError::MissingDependency {
                name,
                location,
                missing,
                hint,
            } => write!(
                f,
                "resource `{name}` ({location}) needs `Res<{missing}>`, but no resource of type `{missing}` is registered{hint}"
            ),
            StartupError::PriorityContradiction {
                dependent,
                dependent_priority,
                dependency,
                dependency_priority,
            } => write!(
                f,
                "resource `{dependent}` (priority {dependent_priority}) depends on `{dependency}` (priority {dependency_priority}), \
                 but resources close in ascending priority, so `{dependency}` would close before or together with `{dependent}`; \
                 give `{dependency}` a priority higher than {dependent_priority}"
            ),
            StartupError::TooFewResources {
                expected,
                found,
                names,
            } => write!(
                f,
                "expected at least {expected} registered resource(s), found {found}{names}. `#[graceful::resource]` registers \
                 through `inventory`, and the linker drops crates nothing references: add `use that_crate as _;` to the \
                 binary that holds `#[graceful::main]` (on platforms inventory does not support, register resources with \
                 `Graceful::builder().resource(...)` instead)"
            ),
            StartupError::DuplicateType {
                first,
                second,
                type_name,
            } => write!(
                f,
                "resources `{first}` and `{second}` both produce `{type_name}`; each type may be registered once (wrap one in a newtype)"
            ),
        }
    }
}

impl std::error::Error for StartupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartupError::Constructor { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// A [`Location`] or `<builder>` when the resource was registered without one.
#[derive(Debug, Clone)]
pub struct LocationText(pub Option<Location>);

impl std::fmt::Display for LocationText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(l) => write!(f, "{l}"),
            None => f.write_str("<builder>"),
        }
    }
}

/// Asking for a resource that is not there.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum GetError {
    /// No resource of that type is registered with the engine.
    NotRegistered {
        /// The requested type.
        type_name: &'static str,
        /// How many resources are registered.
        registered: usize,
    },
    /// The resource is registered but already closed (or not yet built).
    NotAvailable {
        /// The resource's name.
        name: String,
        /// The requested type.
        type_name: &'static str,
        /// `"closed"` or `"not built yet"`.
        state: &'static str,
    },
    /// `graceful::get` was called outside a program run by `#[graceful::main]`.
    NoEngine {
        /// The requested type.
        type_name: &'static str,
    },
}

impl std::fmt::Display for GetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GetError::NotRegistered {
                type_name,
                registered,
            } => write!(
                f,
                "no resource of type `{type_name}` is registered ({registered} registered). If its `#[resource]` constructor lives in \
                 another crate, that crate must be linked: add `use that_crate as _;` to your binary, because `inventory` drops \
                 registrations from crates nothing references"
            ),
            GetError::NotAvailable {
                name,
                type_name,
                state,
            } => write!(
                f,
                "resource `{name}` of type `{type_name}` is not available: it is {state}"
            ),
            GetError::NoEngine { type_name } => write!(
                f,
                "`graceful::get::<{type_name}>()` was called, but no engine is running in this process; use `#[graceful::main]`, or \
                 `Shutdown::resources().get()` with an engine built by `Graceful::builder()`"
            ),
        }
    }
}

impl std::error::Error for GetError {}

/// A deadline that expired, as recorded in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DeadlineExceeded {
    /// The phase in which it expired.
    pub phase: Phase,
    /// What was waited for (a resource name, `drain`, a hook name, `overall`).
    pub what: String,
    /// How long was allowed.
    #[cfg_attr(feature = "serde", serde(with = "crate::seconds::duration_secs"))]
    pub limit: Duration,
}
