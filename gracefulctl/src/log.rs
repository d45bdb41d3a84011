//! gracefulctl's own action log: one line per action, with time and outcome, appended to
//! `<logs_dir>/gracefulctl.log`.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The log file name inside the logs directory.
pub const LOG_FILE: &str = "gracefulctl.log";

/// Appends timestamped lines to the action log.
#[derive(Debug)]
pub struct ActionLog {
    path: PathBuf,
    file: Mutex<Option<File>>,
}

impl ActionLog {
    /// Opens (creating the directory and file if needed) the log in `logs_dir`.
    /// A log that cannot be opened is reported once on stderr and the actions go on.
    pub fn open(logs_dir: &Path) -> ActionLog {
        let path = logs_dir.join(LOG_FILE);
        let file = fs::create_dir_all(logs_dir)
            .and_then(|()| OpenOptions::new().create(true).append(true).open(&path));
        let file = match file {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("warning: cannot open the log file {}: {e}", path.display());
                None
            }
        };
        ActionLog {
            path,
            file: Mutex::new(file),
        }
    }

    /// A log that records nothing (for `--dry-run`, which must not create files).
    pub fn disabled() -> ActionLog {
        ActionLog {
            path: PathBuf::new(),
            file: Mutex::new(None),
        }
    }

    /// Records `action` on `target` with its `outcome`.
    pub fn record(&self, action: &str, target: &str, outcome: &str) {
        let now = chrono::Local::now().format("%Y-%m-%dT%H:%M:%S%.3f%:z");
        let line = format!("{now} {action} {target}: {outcome}\n");
        if let Ok(mut guard) = self.file.lock()
            && let Some(f) = guard.as_mut()
            && let Err(e) = f.write_all(line.as_bytes())
        {
            eprintln!(
                "warning: cannot write the log file {}: {e}",
                self.path.display()
            );
            *guard = None;
        }
    }
}
