//! Helpers for tests that run a real program as a child process and signal it.
#![allow(dead_code, unreachable_pub)] // each test binary uses a different subset

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Upper bound for any wait. Never an assertion about speed: only a guard against hangs.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// Runs `program` to its end (bounded by [`HANG_GUARD`]): its exit code, its stdout lines and
/// its stderr as one string.
pub fn run_to_end(
    program: impl AsRef<Path>,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Option<i32>, Vec<String>, String) {
    let mut p = Proc::start(program, args, env);
    let status = p.wait();
    (status.code(), p.stdout().to_vec(), p.stderr().join("\n"))
}

/// The line of `out` whose first word is `key`: a row of the configuration's `Display`.
pub fn row<'a>(out: &'a [String], key: &str) -> &'a str {
    out.iter()
        .find(|l| l.split_whitespace().next() == Some(key))
        .unwrap_or_else(|| panic!("no `{key}` row in {out:#?}"))
}

/// A running child process whose stdout and stderr are read line by line.
pub struct Proc {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// Spawns `cmd`, again while the kernel answers "text file busy" (`ETXTBSY`). The tests copy
/// builds into place (as a deployment does) while other tests of the same process start
/// children: a child forked while a copy's file was still open for writing holds that
/// descriptor until its own `exec`, and an `exec` of the copy in that window fails. The window
/// is a fork-to-exec long, so a few short retries close it.
pub fn spawn(cmd: &mut Command) -> std::io::Result<std::process::Child> {
    const ETXTBSY: i32 = 26;
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(ETXTBSY) && tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

impl Proc {
    /// Starts `program` with `args` and extra `env`.
    pub fn start(program: impl AsRef<Path>, args: &[&str], env: &[(&str, &str)]) -> Proc {
        let mut cmd = Command::new(program.as_ref());
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = spawn(&mut cmd)
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.as_ref().display()));
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let err_lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = err_lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().expect("stderr").push(line);
            }
        });
        let stdin = child.stdin.take();
        Proc {
            child,
            stdin,
            lines,
            seen: Vec::new(),
            stderr: err_lines,
        }
    }

    /// Waits for a stdout line satisfying `pred`; panics with everything seen on timeout.
    pub fn wait_for(&mut self, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + HANG_GUARD;
        loop {
            if let Some(l) = self.seen.iter().find(|l| pred(l)) {
                return l.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(RecvTimeoutError::Timeout) => panic!(
                    "timed out waiting for a line; stdout so far: {:#?}\nstderr: {:#?}",
                    self.seen,
                    self.stderr()
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "process closed stdout before the expected line; stdout: {:#?}\nstderr: {:#?}",
                    self.seen,
                    self.stderr()
                ),
            }
        }
    }

    /// Collects the lines printed so far without waiting.
    pub fn poll(&mut self) -> &[String] {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        &self.seen
    }

    /// Waits for the exact line `line`.
    pub fn wait_line(&mut self, line: &str) {
        self.wait_for(|l| l == line);
    }

    /// Sends a signal to the child.
    pub fn signal(&self, sig: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), sig).expect("kill");
    }

    /// Writes a line to the child's stdin.
    pub fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{line}").expect("write stdin");
        stdin.flush().expect("flush");
    }

    /// Lines printed so far (after `wait`, all of them).
    pub fn stdout(&self) -> &[String] {
        &self.seen
    }

    /// Lines printed to stderr so far.
    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().expect("stderr").clone()
    }

    /// Waits for the process to exit (bounded by [`HANG_GUARD`]) and drains its stdout.
    pub fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + HANG_GUARD;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "process did not exit; stdout: {:#?}\nstderr: {:#?}",
                    self.seen,
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        // Give the stderr reader a moment to reach EOF.
        std::thread::sleep(Duration::from_millis(50));
        status
    }

    /// The position of the first stdout line equal to `line`.
    pub fn pos(&self, line: &str) -> usize {
        self.seen
            .iter()
            .position(|l| l == line)
            .unwrap_or_else(|| panic!("`{line}` not printed; stdout: {:#?}", self.seen))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for a child started without [`Proc`] to exit, killing it (and failing the test) after
/// [`HANG_GUARD`].
pub fn wait_child(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            return s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the child did not exit within {HANG_GUARD:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A fresh temporary directory (removed on drop).
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Reads the report the engine wrote to `state_dir`.
pub fn read_report(state_dir: &Path) -> serde_json::Value {
    let path = state_dir.join("last-shutdown.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("no report at {}: {e}", path.display()));
    serde_json::from_str(&text).expect("report is JSON")
}

/// The path of an example binary built by `cargo test` (target/<profile>/examples/<name>).
pub fn example_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join("examples").join(name);
    if !path.exists() {
        // `cargo test --test x` does not build examples (a plain `cargo test` does).
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-p", "gracefully", "--example", name]);
        cmd.args(["--features", &enabled_features()]);
        if dir.file_name().is_some_and(|p| p == "release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo");
        assert!(status.success(), "cannot build example `{name}`");
    }
    assert!(
        path.exists(),
        "example `{name}` not built at {}",
        path.display()
    );
    path
}

/// The facade's features this test was compiled with, so that building the example reuses
/// the libraries already built for this test instead of rebuilding them with other features.
pub fn enabled_features() -> String {
    let mut on = Vec::new();
    macro_rules! check {
        ($($name:literal),*) => { $( if cfg!(feature = $name) { on.push($name); } )* };
    }
    check!(
        "axum",
        "hyper",
        "tonic",
        "admin",
        "metrics",
        "systemd",
        "sqlx",
        "redis",
        "nats",
        "lapin",
        "deadpool",
        "process",
        "state",
        "tracing-appender",
        "opentelemetry",
        "tokio-fs",
        "upgrade"
    );
    on.join(",")
}
