//! The service under test: its binary on disk, its processes, its PID file and socket.

use super::*;

/// Replaces `target` with a copy of `binary`, atomically (copy beside it, then rename), as a
/// deployment does.
pub(crate) fn install(binary: &str, target: &Path) {
    let tmp = target.with_extension("new");
    std::fs::copy(binary, &tmp).expect("copy the new build");
    std::fs::rename(&tmp, target).expect("rename over the old build");
}

/// Waits (as this process's child subreaper) for `pid` to exit; its exit code.
pub(crate) fn reap(pid: i32) -> i32 {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        match waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => return code,
            Ok(WaitStatus::Signaled(_, sig, _)) => panic!("pid {pid} was killed by {sig}"),
            Ok(_) => {}
            Err(e) => panic!("waitpid({pid}): {e} (not a child of the test?)"),
        }
        assert!(
            Instant::now() < deadline,
            "pid {pid} did not exit within {HANG_GUARD:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub(crate) fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| s.split(' ').nth(2) == Some("Z"))
}

/// The inode of the socket listening on `port` (from /proc/net/tcp).
pub(crate) fn listening_inode(port: u16) -> Option<String> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        let local = f.get(1)?;
        let state = f.get(3)?;
        let p = u16::from_str_radix(local.split(':').nth(1)?, 16).ok()?;
        (p == port && *state == "0A").then(|| f.get(9).map(|s| s.to_string()))?
    })
}

pub(crate) fn pid_file_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// A service started from `dir/svc`, with the environment of these tests.
pub(crate) struct Service {
    pub(crate) proc: Proc,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) addr: SocketAddr,
    pub(crate) admin: SocketAddr,
    pub(crate) pid: i32,
}

impl Service {
    pub(crate) fn start(extra: &[(&str, &str)]) -> Service {
        // Orphans (every old process, once its predecessor exits) become our children, so
        // that the test reads their real exit codes.
        nix::sys::prctl::set_child_subreaper(true).expect("PR_SET_CHILD_SUBREAPER");
        let dir = common::temp_dir();
        let svc = dir.path().join("svc");
        install(V1, &svc);
        let state = dir.path().join("state");
        let pid_file = dir.path().join("svc.pid");
        let mut env = vec![
            ("GRACEFUL_ADMIN_API_KEY", KEY),
            ("SHUTDOWN_STATE_DIR", state.to_str().expect("utf-8")),
            (
                "GRACEFUL_UPGRADE_PID_FILE",
                pid_file.to_str().expect("utf-8"),
            ),
            ("SHUTDOWN_TIMEOUT", "30s"),
        ];
        env.extend_from_slice(extra);
        let mut proc = Proc::start(&svc, &[], &env);
        let addr: SocketAddr = proc
            .wait_for(|l| l.starts_with("addr="))
            .trim_start_matches("addr=")
            .parse()
            .expect("addr");
        let admin: SocketAddr = proc
            .wait_for(|l| l.starts_with("admin="))
            .trim_start_matches("admin=")
            .parse()
            .expect("admin addr");
        let pid = started_pid(&mut proc);
        Service {
            proc,
            dir,
            addr,
            admin,
            pid,
        }
    }

    pub(crate) fn svc(&self) -> PathBuf {
        self.dir.path().join("svc")
    }

    pub(crate) fn pid_file(&self) -> PathBuf {
        self.dir.path().join("svc.pid")
    }

    /// Waits for the PID file to name `pid`.
    pub(crate) fn wait_pid_file(&self, pid: i32) {
        let deadline = Instant::now() + HANG_GUARD;
        while pid_file_pid(&self.pid_file()) != Some(pid) {
            assert!(
                Instant::now() < deadline,
                "the PID file never named {pid}: {:?}",
                pid_file_pid(&self.pid_file())
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The pids that printed `started`, in order.
    pub(crate) fn started(&mut self) -> Vec<i32> {
        self.proc
            .poll()
            .iter()
            .filter_map(|l| l.strip_prefix("started pid="))
            .filter_map(|l| l.split(' ').next()?.parse().ok())
            .collect()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        for pid in self.started() {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
        }
    }
}

/// The `gracefulctl` binary of this workspace, brought up to date (it is another package, so
/// cargo does not build it for this test).
pub(crate) fn gracefulctl() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = std::process::Command::new(cargo);
    build.args(["build", "-p", "gracefulctl"]);
    if dir.file_name().is_some_and(|p| p == "release") {
        build.arg("--release");
    }
    let status = build.status().expect("run cargo");
    assert!(status.success(), "cannot build gracefulctl");
    dir.join("gracefulctl")
}

/// Sends the upgrade signal to `pid` and returns its successor's pid.
pub(crate) fn upgrade_by_signal(proc: &mut Proc, pid: i32) -> i32 {
    kill(Pid::from_raw(pid), Signal::SIGUSR2).expect("SIGUSR2");
    successor_of(proc, pid)
}

/// The successor of `pid`, read from the line the old process prints when its shutdown
/// starts (`reason pid=<old> upgrade → pid <new>`); panics if it stopped for another reason.
pub(crate) fn successor_of(proc: &mut Proc, pid: i32) -> i32 {
    let line = proc.wait_for(|l| l.starts_with(&format!("reason pid={pid} ")));
    line.strip_prefix(&format!("reason pid={pid} upgrade → pid "))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("not an upgrade: {line}"))
}

/// Waits for a process's `started pid=<pid> version=<v>` line; the pid.
pub(crate) fn started_pid(proc: &mut Proc) -> i32 {
    proc.wait_for(|l| l.starts_with("started pid="))
        .split(['=', ' '])
        .nth(2)
        .and_then(|p| p.parse().ok())
        .expect("pid")
}

/// Asserts that `GET /` on `stream` is answered by build `version` in process `pid`.
pub(crate) fn assert_served_by(stream: &mut TcpStream, version: &str, pid: i32) {
    match exchange(stream, "/", true) {
        Outcome::Answered(200, body) => assert!(
            body.starts_with(&format!("{version} {pid} ")),
            "not served by {version} in pid {pid}: {body}"
        ),
        other => panic!("GET /: {other:?}"),
    }
}

/// A program whose file is still open for writing somewhere cannot be executed (`ETXTBSY`),
/// which is what a copy into place looks like to a child forked during it: the process tests'
/// spawn waits until the file is closed instead of failing.
#[test]
fn a_program_still_open_for_writing_starts_once_it_is_closed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = common::temp_dir();
    let path = dir.path().join("prog");
    let mut file = std::fs::File::create(&path).expect("create");
    file.write_all(b"#!/bin/sh\nexit 0\n").expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let busy = std::process::Command::new(&path)
        .spawn()
        .expect_err("a file open for writing is not executed");
    assert_eq!(busy.raw_os_error(), Some(26), "{busy}");
    let closer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(200));
        drop(file);
    });
    let status = common::spawn(&mut std::process::Command::new(&path))
        .expect("started once the writer closed it")
        .wait()
        .expect("wait");
    assert!(status.success());
    closer.join().expect("the writer");
}
