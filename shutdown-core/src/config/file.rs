//! The TOML configuration file: the top level is read with [`Config::KEYS`]; feature tables
//! are kept raw for their modules; retired tables are refused with what to use instead.

use std::path::Path;

use super::{ConfigIssue, FileText, RETIRED_SECTIONS, SECTIONS, Source, toml};
use crate::Config;

pub(super) fn apply(config: &mut Config, text: &str, path: &Path, issues: &mut Vec<ConfigIssue>) {
    let source = Source::File(path.to_path_buf());
    let table = match toml::parse(text) {
        Ok(t) => t,
        Err(e) => {
            issues.push(ConfigIssue {
                key: "config".into(),
                source,
                message: format!("not valid TOML: {e}"),
            });
            return;
        }
    };
    let file = FileText {
        path: path.to_path_buf(),
        text: text.into(),
    };
    for (key, value) in table {
        let line = || super::key::line_of(text, "", &key);
        if SECTIONS.contains(&key.as_str()) {
            match value {
                toml::Value::Table(t) => {
                    config.sections.insert(key, (t, path.to_path_buf()));
                }
                other => issues.push(ConfigIssue {
                    key: key.clone(),
                    source: source.clone(),
                    message: format!(
                        "line {}: `[{key}]` must be a table, found {}",
                        line(),
                        other.type_str()
                    ),
                }),
            }
        } else if let Some((_, instead)) = RETIRED_SECTIONS.iter().find(|(s, _)| *s == key) {
            issues.push(ConfigIssue {
                key: key.clone(),
                source: source.clone(),
                message: format!("line {}: {instead}", line()),
            });
        } else {
            Config::KEYS.read_one(config, &key, &value, &file, SECTIONS, issues);
        }
    }
    config.file = Some(file);
}
