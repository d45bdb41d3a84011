//! Checks the set of resources before anything is built: duplicates, missing dependencies,
//! and priorities that contradict dependencies.

use std::any::TypeId;
use std::collections::HashMap;

use crate::error::{LocationText, StartupError};
use crate::resource::ResourceSpec;

/// The order in which to build: descending priority, then registration order.
pub(crate) fn build_order(specs: &mut [ResourceSpec]) {
    specs.sort_by_key(|s| std::cmp::Reverse(s.priority));
}

pub(crate) fn validate(specs: &[ResourceSpec]) -> Result<(), StartupError> {
    let mut by_type: HashMap<TypeId, &ResourceSpec> = HashMap::new();
    for spec in specs {
        if let Some(first) = by_type.insert(spec.type_id, spec) {
            return Err(StartupError::DuplicateType {
                first: first.name.clone(),
                second: spec.name.clone(),
                type_name: spec.type_name,
            });
        }
    }
    for spec in specs {
        for (dep, dep_name) in &spec.deps {
            let Some(dependency) = by_type.get(dep) else {
                return Err(StartupError::MissingDependency {
                    name: spec.name.clone(),
                    location: LocationText(spec.location),
                    missing: dep_name,
                    hint: "; register it with #[graceful::resource] or GracefulBuilder::resource (if it is registered in \
                           another crate, link that crate with `use that_crate as _;`)",
                });
            };
            if dependency.priority <= spec.priority {
                return Err(StartupError::PriorityContradiction {
                    dependent: spec.name.clone(),
                    dependent_priority: spec.priority,
                    dependency: dependency.name.clone(),
                    dependency_priority: dependency.priority,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Resource;

    struct A;
    struct B;

    fn spec<T: Send + Sync + 'static>(name: &str, prio: i32, value: T) -> Resource<T> {
        Resource::from_value(name, prio, value)
    }

    #[test]
    fn contradiction_names_both() {
        let specs = vec![
            spec("a", 100, A).into_spec(),
            spec("b", 100, B).depends_on::<A>().into_spec(),
        ];
        let err = validate(&specs)
            .expect_err("equal priority with a dependency")
            .to_string();
        assert!(
            err.contains("`b` (priority 100) depends on `a` (priority 100)"),
            "{err}"
        );
    }

    #[test]
    fn missing_dependency_names_type() {
        let specs = vec![spec("b", 10, B).depends_on::<A>().into_spec()];
        let err = validate(&specs).expect_err("missing").to_string();
        assert!(
            err.contains("needs `Res<") && err.contains("::A>`"),
            "{err}"
        );
    }

    #[test]
    fn duplicates_are_refused() {
        let specs = vec![spec("a1", 1, A).into_spec(), spec("a2", 2, A).into_spec()];
        let err = validate(&specs).expect_err("dup").to_string();
        assert!(err.contains("`a1` and `a2`"), "{err}");
    }

    #[test]
    fn sound_graph_passes_and_orders_descending() {
        let mut specs = vec![
            spec("b", 10, B).depends_on::<A>().into_spec(),
            spec("a", 20, A).into_spec(),
        ];
        validate(&specs).expect("valid");
        build_order(&mut specs);
        assert_eq!(specs[0].name, "a");
    }
}
