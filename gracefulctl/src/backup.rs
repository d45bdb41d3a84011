//! Copies the files a manifest declares under `backup` into
//! `<backups_dir>/shutdown_YYYYMMDD_HHMMSS/<process>/<path>` before anything is stopped.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::manifest::{Manifest, Process};

/// One file or directory to copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupItem {
    /// The process that declared it.
    pub process: String,
    /// What is copied.
    pub source: PathBuf,
    /// Where it goes.
    pub dest: PathBuf,
}

impl BackupItem {
    /// Whether the declared source is absent: it is skipped with a warning, not an error.
    pub fn source_missing(&self) -> bool {
        fs::symlink_metadata(&self.source).is_err()
    }
}

/// What a backup did.
#[derive(Debug, Default)]
pub struct BackupReport {
    /// Items copied.
    pub copied: Vec<BackupItem>,
    /// Declared paths that did not exist (a warning, not a failure).
    pub missing: Vec<BackupItem>,
    /// Items that could not be copied, with the reason.
    pub failed: Vec<(BackupItem, String)>,
}

/// A fresh folder name `shutdown_YYYYMMDD_HHMMSS` under `backups_dir` (suffixed `_2`,
/// `_3`… if one with that name already exists). Nothing is created.
pub fn new_dir(backups_dir: &Path) -> PathBuf {
    let stamp = chrono::Local::now()
        .format("shutdown_%Y%m%d_%H%M%S")
        .to_string();
    let mut dir = backups_dir.join(&stamp);
    let mut n = 2;
    while dir.exists() {
        dir = backups_dir.join(format!("{stamp}_{n}"));
        n += 1;
    }
    dir
}

/// The copies to make for `processes`, into `dir`. Paths under the manifest directory keep
/// their relative layout; others keep their absolute layout below the process folder.
pub fn plan(manifest: &Manifest, processes: &[&Process], dir: &Path) -> Vec<BackupItem> {
    let mut items = Vec::new();
    for p in processes {
        for source in &p.backup {
            let rel = source.strip_prefix(&manifest.base_dir).unwrap_or(source);
            let rel: PathBuf = rel
                .components()
                .filter(|c| matches!(c, Component::Normal(_)))
                .collect();
            items.push(BackupItem {
                process: p.name.clone(),
                source: source.clone(),
                dest: dir.join(&p.name).join(rel),
            });
        }
    }
    items
}

/// The backup plan as text: what `run` would copy into `dir`, and what it would skip.
pub fn describe(items: &[BackupItem], dir: &Path) -> String {
    if items.is_empty() {
        return "backup: no files declared\n".to_owned();
    }
    let mut out = format!("backup into {}:\n", dir.display());
    for item in items {
        let missing = if item.source_missing() {
            " (missing: would be skipped)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  {}: copy {} -> {}{missing}",
            item.process,
            item.source.display(),
            item.dest.display()
        );
    }
    out
}

/// Makes the copies. Every item is tried; the report says what happened to each.
pub fn run(items: &[BackupItem]) -> BackupReport {
    let mut report = BackupReport::default();
    for item in items {
        if item.source_missing() {
            report.missing.push(item.clone());
            continue;
        }
        match copy_recursive(&item.source, &item.dest) {
            Ok(()) => report.copied.push(item.clone()),
            Err(e) => report.failed.push((item.clone(), e.to_string())),
        }
    }
    report
}

fn copy_recursive(from: &Path, to: &Path) -> io::Result<()> {
    let meta = fs::metadata(from)?;
    if meta.is_dir() {
        fs::create_dir_all(to)?;
        for entry in fs::read_dir(from)? {
            let entry = entry?;
            copy_recursive(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::copy(from, to).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_relative_layout_and_copies_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path();
        fs::create_dir_all(base.join("data/sub")).unwrap();
        fs::write(base.join("data/a.db"), "A").unwrap();
        fs::write(base.join("data/sub/b"), "B").unwrap();
        let m = Manifest::parse(
            &base.join("gracefulctl.toml"),
            "[[process]]\nname='w'\npattern='w'\nbackup=['data', 'ghost.db']\n",
        )
        .unwrap();
        let dir = new_dir(&m.backups_dir);
        assert!(
            dir.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("shutdown_")
        );
        let procs: Vec<&Process> = m.processes.iter().collect();
        let items = plan(&m, &procs, &dir);
        assert_eq!(items[0].dest, dir.join("w/data"));
        let text = describe(&items, &dir);
        assert!(text.contains("w: copy "), "{text}");
        assert!(text.contains("ghost.db -> "), "{text}");
        assert_eq!(
            text.matches("(missing: would be skipped)").count(),
            1,
            "{text}"
        );
        let report = run(&items);
        assert_eq!(report.copied.len(), 1);
        assert_eq!(report.missing.len(), 1);
        assert!(report.failed.is_empty());
        assert_eq!(fs::read_to_string(dir.join("w/data/sub/b")).unwrap(), "B");
        assert_eq!(fs::read_to_string(dir.join("w/data/a.db")).unwrap(), "A");
    }
}
