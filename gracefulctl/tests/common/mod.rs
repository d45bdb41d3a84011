//! Shared helpers for the integration tests: a temp dir holding a manifest, fixture
//! processes spawned in their own process groups (so no signal ever reaches the test
//! harness), and clean-up of everything whose command line mentions the temp dir.

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]
#![allow(
    unreachable_pub,
    reason = "test helper module shared by several test binaries"
)]

use std::fs;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use gracefulctl::procs::{Snapshot, is_alive};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Upper bound for anything a test waits for; never a pass/fail threshold.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A test's world: a temp dir with a manifest and the fixtures it spawned.
pub struct World {
    pub dir: tempfile::TempDir,
    children: Vec<Child>,
}

impl World {
    pub fn new() -> World {
        World {
            dir: tempfile::tempdir().expect("temp dir"),
            children: Vec::new(),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn dir_str(&self) -> String {
        self.dir.path().display().to_string()
    }

    pub fn manifest_path(&self) -> PathBuf {
        self.path("gracefulctl.toml")
    }

    /// Writes `gracefulctl.toml`; `{dir}` and `{fixtures}` are replaced.
    pub fn manifest(&self, text: &str) {
        let text = text
            .replace("{dir}", &self.dir_str())
            .replace("{fixtures}", &fixtures());
        fs::write(self.manifest_path(), text).expect("write manifest");
    }

    pub fn write(&self, rel: &str, contents: &str) {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(p, contents).expect("write file");
    }

    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap_or_default()
    }

    /// Lines of `order` (names written by the fixtures' SIGTERM handlers).
    pub fn order(&self) -> Vec<String> {
        self.read("order").lines().map(str::to_owned).collect()
    }

    /// Spawns a fixture script (`sh tests/fixtures/SCRIPT ARGS…`) in its own process group
    /// and waits until `wait_file` (relative to the temp dir) exists. Returns the PID.
    pub fn spawn_fixture(&mut self, script: &str, args: &[&str], wait_file: &str) -> i32 {
        let mut cmd = Command::new("sh");
        cmd.arg(format!("{}/{script}", fixtures())).args(args);
        let pid = self.spawn(cmd);
        self.wait_for(
            || self.path(wait_file).exists(),
            &format!("{wait_file} to appear"),
        );
        pid
    }

    /// `graceful.sh NAME DIR DELAY`, waiting for its PID file.
    pub fn graceful(&mut self, name: &str, delay: &str) -> i32 {
        let dir = self.dir_str();
        self.spawn_fixture("graceful.sh", &[name, &dir, delay], &format!("{name}.pid"))
    }

    /// Spawns any command in its own process group.
    pub fn spawn(&mut self, mut cmd: Command) -> i32 {
        cmd.process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().expect("spawn fixture");
        let pid = i32::try_from(child.id()).expect("pid fits i32");
        self.children.push(child);
        pid
    }

    /// Spawns `sleep 1000`: a bystander that never exits by itself. Returns the PID.
    pub fn sleeper(&mut self) -> i32 {
        let mut cmd = Command::new("sleep");
        cmd.arg("1000");
        self.spawn(cmd)
    }

    /// Waits for a spawned child to exit and returns its status (reaping it).
    pub fn reap(&mut self, pid: i32) -> ExitStatus {
        let i = self
            .children
            .iter()
            .position(|c| i32::try_from(c.id()).ok() == Some(pid))
            .expect("a child of this world");
        let mut child = self.children.remove(i);
        let until = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < until,
                "PID {pid} did not exit within {PATIENCE:?}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn wait_for(&self, mut cond: impl FnMut() -> bool, what: &str) {
        let until = Instant::now() + PATIENCE;
        while !cond() {
            assert!(Instant::now() < until, "gave up waiting for {what}");
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// `gracefulctl --config <dir>/gracefulctl.toml ARGS…`
    pub fn ctl(&self) -> assert_cmd::Command {
        let mut cmd = ctl_bare();
        cmd.arg("--config").arg(self.manifest_path());
        cmd
    }

    pub fn pid_file(&self, name: &str) -> i32 {
        self.read(&format!("{name}.pid"))
            .trim()
            .parse()
            .expect("pid file holds a PID")
    }
}

impl Drop for World {
    fn drop(&mut self) {
        // Kill whatever still runs with our temp dir on its command line (fixtures,
        // grandchildren, processes gracefulctl started), then reap our children.
        let dir = self.dir_str();
        for p in Snapshot::capture().matching(&dir) {
            let _ = kill(Pid::from_raw(p.pid), Signal::SIGKILL);
        }
        for mut c in self.children.drain(..) {
            if let Ok(pid) = i32::try_from(c.id()) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            let _ = c.wait();
        }
    }
}

/// `gracefulctl` with no arguments and no `GRACEFULCTL_CONFIG`, bounded in time.
pub fn ctl_bare() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("gracefulctl").expect("binary");
    cmd.env_remove("GRACEFULCTL_CONFIG").timeout(PATIENCE * 2);
    cmd
}

pub fn fixtures() -> String {
    format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"))
}

pub fn alive(pid: i32) -> bool {
    is_alive(pid)
}

pub fn killed_by(status: ExitStatus) -> Option<i32> {
    status.signal()
}

pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The single `shutdown_*` folder under `backups`.
pub fn only_backup_dir(backups: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = fs::read_dir(backups)
        .expect("backups dir exists")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(dirs.len(), 1, "exactly one backup folder: {dirs:?}");
    dirs.into_iter().next().expect("one")
}
