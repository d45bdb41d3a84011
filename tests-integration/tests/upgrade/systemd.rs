//! Triggers and the systemd side: the signal, `systemctl reload`'s messages, the fd store,
//! socket activation, gracefulctl, events and metrics.

use super::*;

#[test]
fn the_upgrade_signal_starts_an_upgrade_and_the_old_process_exits_0() {
    let mut service = Service::start(&[]);
    service.wait_pid_file(service.pid);
    install(V2, &service.svc());
    let new_pid = upgrade_by_signal(&mut service.proc, service.pid);
    assert_eq!(reap(service.pid), 0);
    service.wait_pid_file(new_pid);
    // The old process's report says why it stopped.
    let report = service
        .proc
        .wait_for(|l| l.starts_with(&format!("report pid={} ", service.pid)));
    assert!(
        report.contains(&format!("\"successor\":{new_pid}")),
        "{report}"
    );
    let mut s = connect(service.addr).expect("the successor serves the same address");
    assert_served_by(&mut s, "v2", new_pid);
    kill(Pid::from_raw(new_pid), Signal::SIGTERM).expect("SIGTERM");
    assert_eq!(reap(new_pid), 0);
    assert!(
        !service.pid_file().exists(),
        "the last owner removes its PID file at exit"
    );
}

/// A new build whose file is still open for writing when the upgrade starts (a copy not yet
/// closed, or a process forked during the copy, which holds it until its own `exec`) cannot
/// be executed yet (`ETXTBSY`): the upgrade starts it once it is closed instead of failing.
#[test]
fn an_upgrade_starts_a_new_build_still_open_for_writing_once_it_is_closed() {
    let mut service = Service::start(&[]);
    service.wait_pid_file(service.pid);
    let svc = service.svc();
    let tmp = svc.with_extension("new");
    std::fs::copy(V2, &tmp).expect("copy the new build");
    let writer = std::fs::OpenOptions::new()
        .write(true)
        .open(&tmp)
        .expect("open the copy for writing");
    std::fs::rename(&tmp, &svc).expect("rename over the old build");
    kill(Pid::from_raw(service.pid), Signal::SIGUSR2).expect("SIGUSR2");
    std::thread::sleep(Duration::from_millis(300));
    drop(writer);
    let new_pid = successor_of(&mut service.proc, service.pid);
    assert_eq!(reap(service.pid), 0);
    let mut s = connect(service.addr).expect("the successor serves the same address");
    assert_served_by(&mut s, "v2", new_pid);
    kill(Pid::from_raw(new_pid), Signal::SIGTERM).expect("SIGTERM");
    assert_eq!(reap(new_pid), 0);
}

#[test]
fn an_upgrade_tells_systemd_reloading_then_the_new_main_pid_and_the_old_process_never_says_stopping()
 {
    let notify_dir = common::temp_dir();
    let notify = NotifySocket::bind(notify_dir.path());
    let path = notify.path.to_str().expect("utf-8").to_string();
    let mut service = Service::start(&[("NOTIFY_SOCKET", &path)]);
    service.wait_pid_file(service.pid);
    let start: Vec<String> = notify.drain().into_iter().map(|(m, _)| m).collect();
    assert!(start.iter().any(|m| m.contains("READY=1")), "{start:?}");
    install(V2, &service.svc());
    let new_pid = upgrade_by_signal(&mut service.proc, service.pid);
    assert_eq!(reap(service.pid), 0);
    std::thread::sleep(Duration::from_millis(300));
    let during: Vec<String> = notify.drain().into_iter().map(|(m, _)| m).collect();
    let reloading = during
        .iter()
        .position(|m| m.contains("RELOADING=1") && m.contains("MONOTONIC_USEC="));
    let main_pid = during
        .iter()
        .position(|m| m.contains(&format!("MAINPID={new_pid}")) && m.contains("READY=1"));
    assert!(
        reloading.is_some() && main_pid.is_some() && reloading < main_pid,
        "RELOADING=1 then MAINPID={new_pid} + READY=1: {during:#?}"
    );
    assert!(
        !during.iter().any(|m| m.contains("STOPPING=1")),
        "the old process's upgrade shutdown is not the service stopping: {during:#?}"
    );
    // The successor's own stop is.
    kill(Pid::from_raw(new_pid), Signal::SIGTERM).expect("SIGTERM");
    assert_eq!(reap(new_pid), 0);
    let after: Vec<String> = notify.drain().into_iter().map(|(m, _)| m).collect();
    assert!(after.iter().any(|m| m.contains("STOPPING=1")), "{after:#?}");
}

#[test]
fn a_failed_upgrade_tells_systemd_ready_again_with_the_reason() {
    let notify_dir = common::temp_dir();
    let notify = NotifySocket::bind(notify_dir.path());
    let path = notify.path.to_str().expect("utf-8").to_string();
    let service = Service::start(&[("NOTIFY_SOCKET", &path)]);
    service.wait_pid_file(service.pid);
    let _ = notify.drain();
    std::fs::write(service.svc().with_extension("mode"), "exit70").expect("mode file");
    install(BROKEN, &service.svc());
    let (status, _) = post_upgrade(service.admin);
    assert_eq!(status, 502);
    let during: Vec<String> = notify.drain().into_iter().map(|(m, _)| m).collect();
    assert!(
        during.first().is_some_and(|m| m.contains("RELOADING=1")),
        "{during:#?}"
    );
    assert!(
        during
            .iter()
            .any(|m| m.contains("READY=1") && m.contains("STATUS=upgrade failed, still serving")),
        "{during:#?}"
    );
    assert!(
        !during.iter().any(|m| m.contains("MAINPID=")),
        "{during:#?}"
    );
}

#[test]
fn the_fd_store_mode_hands_the_listeners_to_systemd_and_the_next_start_serves_the_queued_client() {
    use command_fds::{CommandFdExt, FdMapping};
    let notify_dir = common::temp_dir();
    let notify = NotifySocket::bind(notify_dir.path());
    let path = notify.path.to_str().expect("utf-8").to_string();
    let service = Service::start(&[
        ("NOTIFY_SOCKET", &path),
        ("GRACEFUL_UPGRADE_FD_STORE", "true"),
    ]);
    service.wait_pid_file(service.pid);
    let _ = notify.drain();
    // The fd-store mode never starts a successor.
    let (status, body) = post_upgrade(service.admin);
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("fd_store"), "{body}");
    kill(Pid::from_raw(service.pid), Signal::SIGTERM).expect("SIGTERM");
    assert_eq!(reap(service.pid), 0);
    let mut stored = BTreeMap::new();
    for (message, mut fds) in notify.drain() {
        if message.contains("FDSTORE=1") {
            let name = message
                .lines()
                .find_map(|l| l.strip_prefix("FDNAME="))
                .expect("FDNAME")
                .to_string();
            assert_eq!(fds.len(), 1, "{message}");
            stored.insert(name, fds.remove(0));
        }
    }
    assert_eq!(
        stored.keys().collect::<Vec<_>>(),
        ["admin", "http"],
        "both listeners stored"
    );
    // While "systemd" (this test) holds the socket, a client is queued, not refused.
    let mut client = connect(service.addr).expect("queued in the backlog, not refused");
    let request = "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    // The next start gets the stored sockets as systemd passes them; systemd sets LISTEN_PID
    // to the started process, which a shell that execs the service keeps.
    let http = stored.remove("http").expect("http");
    let admin = stored.remove("admin").expect("admin");
    let mut next = std::process::Command::new("/bin/sh");
    next.args(["-c", "LISTEN_PID=$$; export LISTEN_PID; exec \"$0\""])
        .arg(service.svc())
        .env("LISTEN_FDS", "2")
        .env("LISTEN_FDNAMES", "http:admin")
        .env("GRACEFUL_ADMIN_API_KEY", KEY)
        .env("SHUTDOWN_STATE_DIR", service.dir.path().join("state"))
        .stdout(std::process::Stdio::null());
    next.fd_mappings(vec![
        FdMapping {
            parent_fd: http,
            child_fd: 3,
        },
        FdMapping {
            parent_fd: admin,
            child_fd: 4,
        },
    ])
    .expect("fd mappings");
    let mut child = next.spawn().expect("start the service again");
    let pid = child.id() as i32;
    let answer = exchange_raw(&mut client, request);
    match answer {
        Outcome::Answered(200, body) => {
            assert!(
                body.starts_with(&format!("v1 {pid} ")),
                "served by the new process: {body}"
            )
        }
        other => panic!("the queued client: {other:?}"),
    }
    kill(Pid::from_raw(pid), Signal::SIGTERM).expect("SIGTERM");
    assert!(common::wait_child(&mut child).success());
}

#[test]
fn a_socket_activated_service_hands_the_activated_socket_to_its_successor() {
    let available = std::process::Command::new("systemd-socket-activate")
        .arg("--help")
        .output();
    assert!(
        available.is_ok_and(|o| o.status.success()),
        "systemd-socket-activate is required for this test (Debian/Ubuntu package `systemd`)"
    );
    nix::sys::prctl::set_child_subreaper(true).expect("PR_SET_CHILD_SUBREAPER");
    let dir = common::temp_dir();
    let svc = dir.path().join("svc");
    install(V1, &svc);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let state = dir.path().join("state");
    // systemd-socket-activate binds `http`, then execs the service (same pid) on the first
    // connection with LISTEN_FDS=1, LISTEN_FDNAMES=http.
    let mut service = Proc::start(
        "systemd-socket-activate",
        &[
            "-l",
            &addr.to_string(),
            "--fdname=http",
            "-E",
            &format!("SHUTDOWN_STATE_DIR={}", state.display()),
            "-E",
            &format!("GRACEFUL_ADMIN_API_KEY={KEY}"),
            svc.to_str().expect("utf-8"),
        ],
        &[],
    );
    let deadline = Instant::now() + HANG_GUARD;
    let mut first = loop {
        match connect(addr) {
            Ok(s) => break s,
            Err(e) => {
                assert!(Instant::now() < deadline, "never listened: {e}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    };
    let served = service.wait_for(|l| l.starts_with("addr="));
    assert_eq!(
        served,
        format!("addr={addr}"),
        "the activated socket is served"
    );
    let pid = started_pid(&mut service);
    assert_served_by(&mut first, "v1", pid);
    let inode = listening_inode(port).expect("the activated socket");
    install(V2, &svc);
    let new_pid = upgrade_by_signal(&mut service, pid);
    assert_eq!(
        service.wait().code(),
        Some(0),
        "the activated process exits 0"
    );
    let mut s = connect(addr).expect("still served");
    assert_served_by(&mut s, "v2", new_pid);
    assert_eq!(
        listening_inode(port),
        Some(inode),
        "the same activated socket"
    );
    kill(Pid::from_raw(new_pid), Signal::SIGTERM).expect("SIGTERM");
    assert_eq!(reap(new_pid), 0);
}

#[test]
fn gracefulctl_upgrade_follows_the_locked_pid_file_to_the_successor() {
    let mut service = Service::start(&[]);
    service.wait_pid_file(service.pid);
    install(V2, &service.svc());
    let manifest = service.dir.path().join("gracefulctl.toml");
    std::fs::write(
        &manifest,
        format!(
            "[[process]]\nname = \"svc\"\npid_file = \"{}\"\n",
            service.pid_file().display()
        ),
    )
    .expect("manifest");
    let out = std::process::Command::new(gracefulctl())
        .arg("--config")
        .arg(&manifest)
        .args(["upgrade", "svc", "--timeout", "30s"])
        .current_dir(service.dir.path())
        .output()
        .expect("run gracefulctl");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "gracefulctl upgrade: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new_pid = successor_of(&mut service.proc, service.pid);
    assert!(
        stdout.contains(&format!(
            "svc: upgraded: pid {} → pid {new_pid}",
            service.pid
        )),
        "{stdout}"
    );
    assert_eq!(reap(service.pid), 0);
    let mut s = connect(service.addr).expect("served");
    assert_served_by(&mut s, "v2", new_pid);
    kill(Pid::from_raw(new_pid), Signal::SIGTERM).expect("SIGTERM");
    assert_eq!(reap(new_pid), 0);
}

/// `GET path` on the admin API with the key; the whole response.
#[cfg(feature = "metrics")]
fn admin_get(admin: SocketAddr, path: &str) -> String {
    let mut s = connect(admin).expect("the admin API answers");
    let _ = s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: t\r\nX-API-Key: {KEY}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    );
    let mut all = String::new();
    let _ = s.read_to_string(&mut all);
    all
}

#[cfg(feature = "metrics")]
#[test]
fn a_failed_upgrade_is_an_event_and_a_metric() {
    let service = Service::start(&[]);
    service.wait_pid_file(service.pid);
    // The event stream, read on its own thread.
    let mut events = connect(service.admin).expect("admin");
    events
        .write_all(
            format!("GET /events HTTP/1.1\r\nHost: t\r\nX-API-Key: {KEY}\r\n\r\n").as_bytes(),
        )
        .expect("write");
    let seen = Arc::new(Mutex::new(String::new()));
    let sink = seen.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = events.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .expect("lock")
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    std::fs::write(service.svc().with_extension("mode"), "exit70").expect("mode file");
    install(BROKEN, &service.svc());
    let (status, _) = post_upgrade(service.admin);
    assert_eq!(status, 502);
    let deadline = Instant::now() + HANG_GUARD;
    while !seen.lock().expect("lock").contains("event: upgrade_failed") {
        assert!(
            Instant::now() < deadline,
            "no upgrade_failed event: {}",
            seen.lock().expect("lock")
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        seen.lock()
            .expect("lock")
            .contains("exited before it was ready")
    );
    let metrics = admin_get(service.admin, "/metrics");
    assert!(
        metrics.contains("graceful_upgrades_total{result=\"failed\"} 1"),
        "{metrics}"
    );
}
