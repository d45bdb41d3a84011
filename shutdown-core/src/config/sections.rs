//! The feature sections the engine loads: each feature registers its key table with a
//! [`Registration`], and [`Config::load`](super::Config::load) reads every registered section
//! once, before anything starts, from the same file and the same [`Env`] as the core, so that
//! one [`ConfigError`] lists every problem of every section.
//!
//! A feature then takes its typed value from the loaded configuration
//! ([`Config::section`](super::Config::section)) instead of reading the file or the
//! environment again. `Display`, the admin API's `GET /config` and the docs tables show every
//! section from the same rows.
//!
//! Adding a section is its key table (a [`Section`]) plus one `inventory::submit!` of its
//! [`Registration`] beside it.

use std::any::Any;
use std::sync::Arc;

use super::value::Row;
use super::{Config, ConfigIssue, Env, Section};

/// A section a feature registered: what the engine needs to load it and show it, without
/// knowing its type.
pub(crate) trait FeatureSection: Sync {
    /// The table's name in the file (`http`).
    fn name(&self) -> &'static str;

    /// Reads the section from `config`'s file and `env` over its defaults and checks its
    /// rules; every problem is added to `issues`.
    fn load(&self, config: &Config, env: &Env, issues: &mut Vec<ConfigIssue>) -> Option<Value>;

    /// The rows `Display` prints for a value this section loaded.
    fn rows(&self, value: &Value) -> Vec<Row>;

    /// The value as `GET /config` shows it.
    #[cfg(feature = "serde")]
    #[cfg_attr(
        not(feature = "admin"),
        allow(dead_code, reason = "only the admin API's `/config` shows it")
    )]
    fn json(&self, value: &Value) -> serde_json::Value;

    /// The docs table of the section (key, variable, default, meaning).
    #[cfg(test)]
    fn markdown(&self) -> String;
}

/// A loaded section's value, of its feature's type.
pub(crate) type Value = Arc<dyn Any + Send + Sync>;

impl<C> FeatureSection for Section<C>
where
    C: Default + Clone + Send + Sync + 'static,
{
    fn name(&self) -> &'static str {
        self.name
    }

    fn load(&self, config: &Config, env: &Env, issues: &mut Vec<ConfigIssue>) -> Option<Value> {
        match Section::load(self, C::default(), config, env) {
            Ok(c) => Some(Arc::new(c)),
            Err(e) => {
                issues.extend(e.issues);
                None
            }
        }
    }

    fn rows(&self, value: &Value) -> Vec<Row> {
        let Some(c) = value.downcast_ref::<C>() else {
            return Vec::new();
        };
        let mut rows = Section::rows(self, c);
        for row in &mut rows {
            row.key = self.qualified(&row.key);
        }
        rows
    }

    #[cfg(feature = "serde")]
    fn json(&self, value: &Value) -> serde_json::Value {
        value
            .downcast_ref::<C>()
            .map_or(serde_json::Value::Null, |c| Section::json(self, c))
    }

    #[cfg(test)]
    fn markdown(&self) -> String {
        Section::markdown(self)
    }
}

/// A feature's section, registered beside the feature's own code with
/// `inventory::submit! { crate::config::sections::Registration(&MyConfig::KEYS) }`: the configuration
/// loads it without naming the feature. A feature's section is loaded (and an invalid value in
/// it stops start-up) whenever the feature is compiled in, whether or not the program starts
/// it.
pub(crate) struct Registration(pub(crate) &'static dyn FeatureSection);

inventory::collect!(Registration);

/// Every registered section, in the order `Display` shows them (by name).
pub(crate) fn registered() -> Vec<&'static dyn FeatureSection> {
    let mut all: Vec<&'static dyn FeatureSection> = inventory::iter::<Registration>
        .into_iter()
        .map(|r| r.0)
        .collect();
    all.sort_by_key(|s| s.name());
    all
}

/// The sections loaded with a configuration, with their values.
#[derive(Clone, Default)]
pub(crate) struct Loaded(Vec<(&'static dyn FeatureSection, Value)>);

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(s, _)| s.name()))
            .finish()
    }
}

impl Loaded {
    /// Loads every registered section of `config` with `env`; every problem goes to `issues`.
    pub(crate) fn load(config: &Config, env: &Env, issues: &mut Vec<ConfigIssue>) -> Loaded {
        Loaded(
            registered()
                .into_iter()
                .filter_map(|s| s.load(config, env, issues).map(|v| (s, v)))
                .collect(),
        )
    }

    /// The loaded value of type `C`, if its section was loaded.
    pub(crate) fn get<C: Any>(&self) -> Option<&C> {
        self.0.iter().find_map(|(_, v)| v.downcast_ref::<C>())
    }

    /// Every section's rows, keys qualified (`http.lame_duck`).
    pub(crate) fn rows(&self) -> Vec<Row> {
        self.0.iter().flat_map(|(s, v)| s.rows(v)).collect()
    }

    /// Every section as `(name, JSON)`, as `GET /config` shows them.
    #[cfg(feature = "serde")]
    #[cfg_attr(
        not(feature = "admin"),
        allow(dead_code, reason = "only the admin API's `/config` shows it")
    )]
    pub(crate) fn json(&self) -> Vec<(&'static str, serde_json::Value)> {
        self.0.iter().map(|(s, v)| (s.name(), s.json(v))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file a section's docs table may be in.
    const DOCS: &[(&str, &str)] = &[
        ("README.md", include_str!("../../../README.md")),
        ("docs/http.md", include_str!("../../../docs/http.md")),
        (
            "docs/integrations.md",
            include_str!("../../../docs/integrations.md"),
        ),
        (
            "docs/operations.md",
            include_str!("../../../docs/operations.md"),
        ),
    ];

    #[test]
    fn every_feature_compiled_in_registers_its_section() {
        let names: Vec<&str> = registered().iter().map(|s| s.name()).collect();
        let expected: Vec<&str> = [
            (cfg!(feature = "admin"), "admin"),
            (cfg!(feature = "hyper"), "http"),
            (cfg!(feature = "state"), "state"),
            (cfg!(feature = "systemd"), "systemd"),
            (cfg!(all(feature = "upgrade", unix)), "upgrade"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        assert_eq!(names, expected);
    }

    #[test]
    fn every_registered_section_has_its_docs_table_in_step() {
        for section in registered() {
            let marker = format!("<!-- keys:{} -->", section.name());
            let (file, doc) = DOCS
                .iter()
                .find(|(_, text)| text.contains(&marker))
                .unwrap_or_else(|| {
                    panic!(
                        "no docs file has a `{marker}` table for section `[{}]`",
                        section.name()
                    )
                });
            super::super::tests::assert_doc_table(doc, file, section.name(), &section.markdown());
        }
    }

    #[test]
    fn every_table_the_file_keeps_for_a_feature_is_registered_when_the_feature_is_on() {
        // A name in `SECTIONS` is kept raw by the file reader; it must be read by a registered
        // section, or its values would be accepted and never used.
        let registered: Vec<&str> = registered().iter().map(|s| s.name()).collect();
        for name in registered.iter() {
            assert!(
                super::super::SECTIONS.contains(name),
                "`[{name}]` is registered but the file reader does not keep it"
            );
        }
    }
}
