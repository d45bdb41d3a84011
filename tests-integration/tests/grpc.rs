//! gRPC health across a shutdown and an upgrade, as a gRPC client sees it: tonic's generated
//! `HealthClient` over a real HTTP/2 connection on 127.0.0.1 to a real child process, real
//! signals. A `Watch` is what gRPC's client-side health checking keeps open on every
//! connection; it must never hold a shutdown until `drain_timeout`.
//!
//! ```sh
//! cargo test -p graceful-tests-integration --features tonic --test grpc
//! cargo test -p graceful-tests-integration --features tonic,upgrade --test grpc   # + upgrade
//! ```

#[path = "common/mod.rs"]
mod common;

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use common::{HANG_GUARD, Proc};
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use nix::sys::signal::Signal;
use tonic::body::Body;
use tonic::{Code, Streaming};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

const MAIN: &str = env!("CARGO_BIN_EXE_graceful-fixture-grpc-main");
const BUILDER: &str = env!("CARGO_BIN_EXE_graceful-fixture-grpc-builder");

/// `#[graceful::main]`: a Watch gets NOT_SERVING at SIGTERM, then ends with status OK when
/// the drain starts; the service exits 0 with the drain within its deadline.
#[test]
fn a_health_watch_ends_ok_at_the_drain_with_the_macro() {
    watch_across_sigterm(MAIN);
}

/// The same through `Graceful::builder()` and `Graceful::run`.
#[test]
fn a_health_watch_ends_ok_at_the_drain_with_the_builder() {
    watch_across_sigterm(BUILDER);
}

fn watch_across_sigterm(bin: &str) {
    let rt = runtime();
    let dir = common::temp_dir();
    let state = dir.path().join("state");
    let mut service = start(bin, &state);
    let addr = addr_of(&mut service);
    let (mut client, conn) = rt.block_on(connect(addr));

    let (mut overall, mut named) = rt.block_on(async {
        let overall = watch(&mut client, "").await;
        let named = watch(&mut client, "fixture.Echo").await;
        (overall, named)
    });
    rt.block_on(async {
        assert_eq!(next(&mut overall).await, Ok(Some(ServingStatus::Serving)));
        assert_eq!(next(&mut named).await, Ok(Some(ServingStatus::Serving)));
    });

    service.signal(Signal::SIGTERM);
    rt.block_on(async {
        for watch in [&mut overall, &mut named] {
            assert_eq!(next(watch).await, Ok(Some(ServingStatus::NotServing)));
            assert_eq!(
                next(watch).await,
                Ok(None),
                "after NOT_SERVING the stream ends with status OK, nothing else"
            );
        }
    });
    drop(client);
    let conn = rt
        .block_on(async { tokio::time::timeout(HANG_GUARD, conn).await })
        .expect("the connection closes once its streams ended")
        .expect("connection task");
    assert!(conn.is_ok(), "closed cleanly (GOAWAY), not reset: {conn:?}");

    let status = service.wait();
    let report = common::read_report(&state);
    assert_eq!(status.code(), Some(0), "{report}");
    assert_within_drain(&report);
}

/// A name the server does not report: `Check` answers NOT_FOUND naming the names it does;
/// `Watch` sends SERVICE_UNKNOWN and stays open (the health protocol's rule), and it too
/// ends with status OK at the drain.
#[test]
fn an_unknown_service_is_named_and_its_watch_ends_at_the_drain() {
    let rt = runtime();
    let dir = common::temp_dir();
    let state = dir.path().join("state");
    let mut service = start(MAIN, &state);
    let addr = addr_of(&mut service);
    let (mut client, _conn) = rt.block_on(connect(addr));
    let mut unknown = rt.block_on(async {
        let check = client
            .check(HealthCheckRequest {
                service: "no.such.Service".into(),
            })
            .await
            .expect_err("Check of an unknown name");
        assert_eq!(check.code(), Code::NotFound, "{check:?}");
        assert!(check.message().contains("fixture.Echo"), "{check:?}");
        let mut unknown = watch(&mut client, "no.such.Service").await;
        assert_eq!(
            next(&mut unknown).await,
            Ok(Some(ServingStatus::ServiceUnknown))
        );
        unknown
    });
    service.signal(Signal::SIGTERM);
    assert_eq!(rt.block_on(next(&mut unknown)), Ok(None));
    drop(client);
    assert_eq!(service.wait().code(), Some(0));
    assert_within_drain(&common::read_report(&state));
}

/// A server stream of the program's own wrapped in `until_drain` (feature `tonic` alone, no
/// axum): it ends with status OK when the drain starts, although it would never end by
/// itself; the service exits 0 within the drain.
#[test]
fn a_grpc_stream_wrapped_in_until_drain_ends_ok_at_the_drain() {
    let rt = runtime();
    let dir = common::temp_dir();
    let state = dir.path().join("state");
    let mut service = start(BUILDER, &state);
    let addr = addr_of(&mut service);
    let (channel, origin, conn) = rt.block_on(channel(addr));
    let mut grpc = tonic::client::Grpc::with_origin(channel, origin);
    let mut follow: Streaming<HealthCheckResponse> = rt.block_on(async {
        tokio::time::timeout(HANG_GUARD, grpc.ready())
            .await
            .expect("ready in time")
            .expect("the connection is ready");
        let request = tonic::Request::new(HealthCheckRequest::default());
        let codec = tonic_prost::ProstCodec::<HealthCheckRequest, HealthCheckResponse>::default();
        let path = hyper::http::uri::PathAndQuery::from_static("/fixture.Ticks/Follow");
        tokio::time::timeout(HANG_GUARD, grpc.server_streaming(request, path, codec))
            .await
            .expect("Follow answers")
            .expect("Follow starts")
            .into_inner()
    });
    assert_eq!(
        rt.block_on(next(&mut follow)),
        Ok(Some(ServingStatus::Serving)),
        "the first message"
    );
    service.signal(Signal::SIGTERM);
    assert_eq!(
        rt.block_on(next(&mut follow)),
        Ok(None),
        "the stream ends with status OK at the drain"
    );
    drop(grpc);
    let conn = rt
        .block_on(async { tokio::time::timeout(HANG_GUARD, conn).await })
        .expect("the connection closes once its stream ended")
        .expect("connection task");
    assert!(conn.is_ok(), "closed cleanly (GOAWAY), not reset: {conn:?}");
    let status = service.wait();
    let report = common::read_report(&state);
    assert_eq!(status.code(), Some(0), "{report}");
    assert_within_drain(&report);
}

/// The drain ended on its own, before `drain_timeout`, and nothing was abandoned.
fn assert_within_drain(report: &serde_json::Value) {
    let drain = report["phases"]
        .as_array()
        .and_then(|p| p.iter().find(|r| r["phase"] == "draining_connections"))
        .unwrap_or_else(|| panic!("no drain in {report}"));
    eprintln!("drain: {drain}");
    assert_eq!(drain["within_deadline"], true, "{report}");
    assert_eq!(report["abandoned"], serde_json::json!([]), "{report}");
}

/// In-place upgrade (feature `upgrade`), from a builder build to a `#[graceful::main]` build:
/// the Watch on the old process gets NOT_SERVING and ends OK when the old process drains; a
/// new Watch on the same listener reaches the successor, SERVING; both processes exit 0.
#[cfg(feature = "upgrade")]
#[test]
fn a_health_watch_across_an_upgrade_ends_ok_and_the_successor_serves() {
    use nix::sys::signal::kill;
    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
    use nix::unistd::Pid;

    // The successor outlives its parent (the old process) and becomes our child, so the test
    // reads its real exit code.
    nix::sys::prctl::set_child_subreaper(true).expect("PR_SET_CHILD_SUBREAPER");
    let rt = runtime();
    let dir = common::temp_dir();
    let svc = dir.path().join("svc");
    install(BUILDER, &svc);
    let state = dir.path().join("state");
    let mut old = start(&svc, &state);
    let addr = addr_of(&mut old);
    let old_pid = started_pids(&mut old)[0];

    let (mut client, conn) = rt.block_on(connect(addr));
    let mut watch_old = rt.block_on(watch(&mut client, ""));
    assert_eq!(
        rt.block_on(next(&mut watch_old)),
        Ok(Some(ServingStatus::Serving))
    );

    // The new build is the other door: the upgrade crosses from the builder to the macro.
    install(MAIN, &svc);
    old.signal(Signal::SIGUSR2);
    rt.block_on(async {
        assert_eq!(
            next(&mut watch_old).await,
            Ok(Some(ServingStatus::NotServing)),
            "the old process is going away"
        );
        assert_eq!(next(&mut watch_old).await, Ok(None), "ends with status OK");
    });
    drop(client);
    let _ = rt.block_on(async { tokio::time::timeout(HANG_GUARD, conn).await });
    assert_eq!(old.wait().code(), Some(0), "the old process exits 0");
    let new_pid = started_pids(&mut old)
        .into_iter()
        .find(|p| *p != old_pid)
        .expect("a successor started");
    // A failed assertion below must not leave the successor running.
    let successor = KillOnDrop(new_pid);
    assert!(
        old.stdout()
            .contains(&format!("started pid={new_pid} door=main")),
        "the successor runs the new build: {:?}",
        old.stdout()
    );

    // The old process is gone: only the successor holds the listening socket now.
    let (mut client, conn) = rt.block_on(connect(addr));
    let mut watch_new = rt.block_on(watch(&mut client, ""));
    assert_eq!(
        rt.block_on(next(&mut watch_new)),
        Ok(Some(ServingStatus::Serving)),
        "the successor serves"
    );

    kill(Pid::from_raw(new_pid), Signal::SIGTERM).expect("SIGTERM the successor");
    rt.block_on(async {
        assert_eq!(
            next(&mut watch_new).await,
            Ok(Some(ServingStatus::NotServing))
        );
        assert_eq!(next(&mut watch_new).await, Ok(None));
    });
    drop(client);
    let _ = rt.block_on(async { tokio::time::timeout(HANG_GUARD, conn).await });
    let deadline = std::time::Instant::now() + HANG_GUARD;
    let code = loop {
        match waitpid(Pid::from_raw(new_pid), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => break code,
            Ok(WaitStatus::Signaled(_, sig, _)) => panic!("the successor was killed by {sig}"),
            Ok(_) => {}
            Err(e) => panic!("waitpid({new_pid}): {e}"),
        }
        assert!(std::time::Instant::now() < deadline, "the successor hangs");
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    std::mem::forget(successor);
    assert_eq!(
        code, 0,
        "the successor exits 0 (its drain ended on its own)"
    );
    assert_within_drain(&common::read_report(&state));
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Starts a fixture with a generous drain (a hang guard: the test asserts that the drain
/// ends on its own) and a readiness delay, so NOT_SERVING and the end are two moments.
fn start(bin: impl AsRef<Path>, state: &Path) -> Proc {
    Proc::start(
        bin,
        &[],
        &[
            ("SHUTDOWN_STATE_DIR", state.to_str().expect("utf-8")),
            ("SHUTDOWN_READINESS_DELAY", "500ms"),
            ("SHUTDOWN_DRAIN_TIMEOUT", "30s"),
            ("SHUTDOWN_TIMEOUT", "50s"),
        ],
    )
}

fn addr_of(service: &mut Proc) -> SocketAddr {
    service
        .wait_for(|l| l.starts_with("addr="))
        .trim_start_matches("addr=")
        .parse()
        .expect("addr")
}

/// The pids that printed `started`, in order.
#[cfg(feature = "upgrade")]
fn started_pids(service: &mut Proc) -> Vec<i32> {
    service.wait_for(|l| l.starts_with("started pid="));
    service
        .poll()
        .iter()
        .filter_map(|l| {
            l.strip_prefix("started pid=")?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

/// Kills a process the test started indirectly, when the test fails before it exits.
#[cfg(feature = "upgrade")]
struct KillOnDrop(i32);

#[cfg(feature = "upgrade")]
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.0);
        let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(pid, None);
    }
}

/// Replaces `target` with a copy of `binary`, atomically (copy beside it, then rename), as a
/// deployment does.
#[cfg(feature = "upgrade")]
fn install(binary: &str, target: &Path) {
    let tmp = target.with_extension("new");
    std::fs::copy(binary, &tmp).expect("copy the build");
    std::fs::rename(&tmp, target).expect("rename over the old build");
}

type Client = HealthClient<H2Channel>;
type Conn = tokio::task::JoinHandle<hyper::Result<()>>;

/// tonic's health client on one HTTP/2 connection, and the task driving that connection
/// (`Err` on a reset or a protocol error).
async fn connect(addr: SocketAddr) -> (Client, Conn) {
    let (channel, origin, conn) = channel(addr).await;
    (HealthClient::with_origin(channel, origin), conn)
}

/// One HTTP/2 connection as a tower service for tonic's clients, with its origin.
async fn channel(addr: SocketAddr) -> (H2Channel, hyper::Uri, Conn) {
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect to the service");
    let (sender, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
        .await
        .expect("HTTP/2 handshake");
    let conn = tokio::spawn(conn);
    let origin = format!("http://{addr}").parse().expect("origin");
    (H2Channel(sender), origin, conn)
}

async fn watch(client: &mut Client, service: &str) -> Streaming<HealthCheckResponse> {
    let request = HealthCheckRequest {
        service: service.into(),
    };
    tokio::time::timeout(HANG_GUARD, client.watch(request))
        .await
        .expect("Watch answers")
        .expect("Watch starts")
        .into_inner()
}

/// The next message of a Watch: `Ok(Some(status))`, `Ok(None)` when the stream ended with
/// status OK, or the status it ended with otherwise.
async fn next(
    stream: &mut Streaming<HealthCheckResponse>,
) -> Result<Option<ServingStatus>, String> {
    let message = tokio::time::timeout(HANG_GUARD, stream.message())
        .await
        .map_err(|_| format!("no message within {HANG_GUARD:?}"))?;
    match message {
        Ok(Some(m)) => Ok(Some(
            ServingStatus::try_from(m.status).map_err(|e| e.to_string())?,
        )),
        Ok(None) => Ok(None),
        Err(status) => Err(format!("the stream ended with {status:?}")),
    }
}

/// hyper's HTTP/2 client connection as the tower service tonic's clients run on.
#[derive(Clone)]
struct H2Channel(http2::SendRequest<Body>);

impl tower::Service<hyper::Request<Body>> for H2Channel {
    type Response = hyper::Response<hyper::body::Incoming>;
    type Error = hyper::Error;
    type Future = Pin<Box<dyn Future<Output = hyper::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<hyper::Result<()>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: hyper::Request<Body>) -> Self::Future {
        Box::pin(self.0.send_request(request))
    }
}
