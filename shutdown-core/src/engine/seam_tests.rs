//! The engine knows features only through the extension seam (`shutdown/extend.rs`): no file
//! under `src/engine/` names a feature module. A feature that needs a moment of the run gets a
//! hook through the seam instead.

use std::path::{Path, PathBuf};

/// The feature modules of the crate: the engine must name none of them.
const FEATURES: &[&str] = &[
    "admin",
    "http",
    "panics",
    "process",
    "state",
    "supervise",
    "systemd",
    "task",
    "testing",
    "timeline",
    "upgrade",
];

/// Every `.rs` file under `dir`, recursively.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The first segment of every path that starts with `crate::` in `text` (each name of a
/// `crate::{a, b::c}` group counts).
fn crate_paths(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        // `shutdown_crate::x` is not a path of this crate.
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            found.extend(group.split(',').map(|item| first_segment(item.trim())));
        } else {
            found.push(first_segment(rest));
        }
    }
    found
}

fn first_segment(path: &str) -> String {
    path.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

#[test]
fn the_engine_names_no_feature_module() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine");
    let mut files = Vec::new();
    sources(&dir, &mut files);
    assert!(files.len() > 5, "the engine's sources were not found");
    let mut named = Vec::new();
    // This file names the features on purpose.
    files.retain(|f| !f.ends_with("engine/seam_tests.rs"));
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{e}"));
        for segment in crate_paths(&text) {
            if FEATURES.contains(&segment.as_str()) {
                named.push(format!("{} names `crate::{segment}`", file.display()));
            }
        }
        if text.contains("ShutdownReason::Upgrade") {
            named.push(format!(
                "{} special-cases an upgrade's reason",
                file.display()
            ));
        }
    }
    assert!(
        named.is_empty(),
        "the engine reaches features only through the extension seam:\n{}",
        named.join("\n")
    );
}

#[test]
fn the_check_sees_plain_and_grouped_paths() {
    assert_eq!(crate_paths("crate::upgrade::start(&s)"), ["upgrade"]);
    assert_eq!(
        crate_paths("use crate::{task::TaskFailures, phase::Phase};"),
        ["task", "phase"]
    );
    assert!(crate_paths("shutdown_crate::upgrade").is_empty());
}
