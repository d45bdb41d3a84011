//! Resources registered with `#[graceful::resource]`: collected at link time by `inventory`.

use super::ResourceSpec;

/// One `#[graceful::resource]`, submitted to `inventory` by the generated code (through the
/// hidden `__private` module).
pub struct Registration {
    make: fn() -> ResourceSpec,
}

impl Registration {
    /// Wraps the generated function that describes the resource.
    pub const fn new(make: fn() -> ResourceSpec) -> Self {
        Registration { make }
    }
}

inventory::collect!(Registration);

/// Every registered resource.
pub(crate) fn registered() -> Vec<ResourceSpec> {
    inventory::iter::<Registration>
        .into_iter()
        .map(|r| (r.make)())
        .collect()
}
