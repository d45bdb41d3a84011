//! Upgrades that must fail, each leaving the old process serving.

use super::*;

/// Runs a failing upgrade with `broken` installed under load; checks nobody is refused, the
/// old process keeps serving and readiness never flips; returns the admin answer.
fn failed_upgrade(mode: &str, extra: &[(&str, &str)]) -> (u16, serde_json::Value, Service) {
    let mut service = Service::start(extra);
    service.wait_pid_file(service.pid);
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let threads = load(service.addr, stop.clone(), seen.clone());
    let ready_flips = Arc::new(Mutex::new(Vec::new()));
    let watcher = {
        let (stop, flips, admin) = (stop.clone(), ready_flips.clone(), service.admin);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let status = get_ready(admin);
                if status != 200 {
                    flips.lock().expect("lock").push(status);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    // The broken build under the service's own name, told how to fail.
    std::fs::write(service.svc().with_extension("mode"), mode).expect("mode file");
    install(BROKEN, &service.svc());
    let (status, body) = post_upgrade(service.admin);
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("load thread");
    }
    watcher.join().expect("watcher");
    let seen = seen.lock().expect("lock");
    let failed: Vec<_> = seen
        .results
        .iter()
        .filter(|r| !matches!(r.2, Outcome::Answered(200, _)))
        .map(|r| format!("{}: {:?}", r.1, r.2))
        .collect();
    assert!(
        failed.is_empty(),
        "requests failed during a failed upgrade: {failed:#?}"
    );
    assert!(!seen.results.is_empty());
    assert!(
        ready_flips.lock().expect("lock").is_empty(),
        "readiness flipped: {:?}",
        ready_flips.lock().expect("lock")
    );
    assert!(alive(service.pid), "the old process keeps serving");
    assert_eq!(
        pid_file_pid(&service.pid_file()),
        Some(service.pid),
        "the PID file still names the old process"
    );
    assert_eq!(
        service.started().len(),
        1,
        "no graceful successor started serving"
    );
    (status, body, service)
}

fn successor_gone(body: &serde_json::Value) {
    let pid = body["error"]["details"]["successor_pid"]
        .as_i64()
        .expect("successor_pid") as i32;
    assert!(!alive(pid), "the failed successor {pid} was killed");
}

#[test]
fn a_successor_that_fails_its_start_up_leaves_the_old_process_serving() {
    let (status, body, _service) = failed_upgrade("exit70", &[]);
    assert_eq!(status, 502, "{body}");
    let details = &body["error"]["details"];
    assert!(
        details["exit_status"]
            .as_str()
            .is_some_and(|s| s.contains("70")),
        "{body}"
    );
    let stderr = details["stderr"].to_string();
    assert!(
        stderr.contains("connection refused"),
        "the successor's last stderr lines: {body}"
    );
    successor_gone(&body);
}

#[test]
fn a_successor_that_hangs_is_killed_at_the_timeout_and_a_second_upgrade_is_refused_meanwhile() {
    let mut service = Service::start(&[("GRACEFUL_UPGRADE_TIMEOUT", "3s")]);
    std::fs::write(service.svc().with_extension("mode"), "hang").expect("mode file");
    install(BROKEN, &service.svc());
    let admin = service.admin;
    let first = std::thread::spawn(move || post_upgrade(admin));
    // The hanging successor prints its first line through the old process's stderr.
    let deadline = Instant::now() + HANG_GUARD;
    while !service
        .proc
        .stderr()
        .iter()
        .any(|l| l.contains("broken successor"))
    {
        assert!(Instant::now() < deadline, "the successor never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (status, body) = post_upgrade(admin);
    assert_eq!(status, 409, "one upgrade at a time: {body}");
    assert!(body.contains("already in progress"), "{body}");
    let (status, body) = first.join().expect("first request");
    assert_eq!(status, 502, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["error"]["code"], "UPGRADE_FAILED");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not ready after 3s")),
        "{body}"
    );
    successor_gone(&body);
    assert!(alive(service.pid));
    assert_eq!(get_ready(admin), 200, "still ready");
    let _ = service.started();
}

#[test]
fn a_hanging_successor_under_load_refuses_nobody() {
    let (status, body, _service) = failed_upgrade("hang", &[("GRACEFUL_UPGRADE_TIMEOUT", "2s")]);
    assert_eq!(status, 502, "{body}");
    successor_gone(&body);
}

#[test]
fn a_successor_without_the_protocol_is_killed_and_the_old_process_serves() {
    let (status, body, _service) = failed_upgrade("foreign", &[("GRACEFUL_UPGRADE_TIMEOUT", "2s")]);
    assert_eq!(status, 502, "{body}");
    assert!(
        body["error"]["details"]["stderr"]
            .to_string()
            .contains("broken successor"),
        "{body}"
    );
    successor_gone(&body);
}

#[test]
fn an_upgrade_is_refused_while_the_service_is_still_starting() {
    let dir = common::temp_dir();
    let svc = dir.path().join("svc");
    install(V1, &svc);
    let state = dir.path().join("state");
    let mut proc = Proc::start(
        &svc,
        &[],
        &[
            ("GRACEFUL_ADMIN_API_KEY", KEY),
            ("SHUTDOWN_STATE_DIR", state.to_str().expect("utf-8")),
            ("UPGRADE_SLOW_START", "60000"),
        ],
    );
    let admin: SocketAddr = proc
        .wait_for(|l| l.starts_with("admin="))
        .trim_start_matches("admin=")
        .parse()
        .expect("admin addr");
    let (status, body) = post_upgrade(admin);
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("still starting"), "{body}");
    assert!(
        !proc.poll().iter().any(|l| l.starts_with("started pid=")),
        "no successor, and the service itself has not started"
    );
}
