//! Keep-alive clients that never retry lose nothing at the drain: a real SIGTERM to a real
//! child service under load from `common_http::noretry` (hyper's low-level client on raw
//! TCP streams, one request at a time per connection, never resent), over HTTP/1.1 and
//! HTTP/2 (h2c), through both doors: the engine built with `Graceful::builder()`
//! (`graceful-fixture-http`) and `#[graceful::main]` (`graceful-fixture-http-macro`).
//! Then the lame-duck window: during `readiness_delay` clients are told to move.
//!
//! No assertion depends on speed; waits have a hang guard only.
//!
//! Run: `cargo test -p graceful-tests-integration --features axum --test keep_alive`

mod common_http;

use std::time::Duration;

use common_http::noretry::{Load, Plan, Proto, Tally};
use common_http::*;

/// Connections of the flat-out runs: each is between two requests most of the time.
const CONNECTIONS: usize = 32;

/// The `/hello` service through the builder door.
fn builder_door(env: &[(&str, &str)]) -> Fixture {
    Fixture::start_bin_env(
        env!("CARGO_BIN_EXE_graceful-fixture-http"),
        &["routes=hello", "drain=10s", "timeout=30s"],
        env,
    )
}

/// The same service through `#[graceful::main]`.
fn macro_door(env: &[(&str, &str)]) -> Fixture {
    Fixture::start_bin_env(env!("CARGO_BIN_EXE_graceful-fixture-http-macro"), &[], env)
}

/// Loads `fixture` with `proto` clients pausing `pause` between requests, sends SIGTERM once
/// every connection has been used, and lets the clients run until connects are refused.
async fn sigterm_under_load(
    fixture: Fixture,
    proto: Proto,
    pause: Duration,
) -> std::sync::Arc<Tally> {
    let load = Load::start(Plan {
        addr: fixture.addr,
        proto,
        connections: CONNECTIONS,
        path: "/hello",
        pause,
        stop_when_refused: true,
    });
    load.answered_at_least(CONNECTIONS as u64 * 10).await;
    fixture.term();
    let tally = load.finished().await;
    let (status, report) = fixture.wait();
    eprintln!("{proto:?}, pause {pause:?}: {}", tally.summary());
    assert_eq!(status.code(), Some(0), "exit code; report: {report}");
    if !report.is_null() {
        assert_eq!(report["result"], "completed", "{report}");
    }
    tally
}

fn assert_nothing_lost(tally: &Tally) {
    assert_eq!(
        (tally.get(&tally.lost), tally.get(&tally.dropped)),
        (0, 0),
        "requests lost (written, no response) and dropped (connection closed without \
         `Connection: close`/GOAWAY); {}; first errors: {:?}",
        tally.summary(),
        tally.errors()
    );
    assert_eq!(tally.get(&tally.refused), 0, "{:?}", tally.errors());
}

/// HTTP/1.1 keep-alive, flat out: the request on its way when the drain starts is answered
/// (with `Connection: close`), on every connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_flat_out_loses_nothing_on_sigterm() {
    for door in [builder_door, macro_door] {
        let tally = sigterm_under_load(door(&[]), Proto::Http1, Duration::ZERO).await;
        assert_nothing_lost(&tally);
    }
}

/// HTTP/2 (h2c), flat out: every stream opened before the GOAWAY is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_flat_out_loses_nothing_on_sigterm() {
    for door in [builder_door, macro_door] {
        let tally = sigterm_under_load(door(&[]), Proto::Http2, Duration::ZERO).await;
        assert_nothing_lost(&tally);
    }
}

/// A keep-alive client that pauses 20 ms between requests: its connection is idle when the
/// drain starts; it gets the grace to send its next request, which is answered with
/// `Connection: close`, instead of a close it cannot see coming.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_client_pausing_between_requests_loses_nothing() {
    for door in [builder_door, macro_door] {
        let tally = sigterm_under_load(door(&[]), Proto::Http1, Duration::from_millis(20)).await;
        assert_nothing_lost(&tally);
    }
}

/// An HTTP/2 connection opened now has its request answered, then ends by itself, cleanly
/// (the server's GOAWAY).
async fn h2_connection_is_sent_away(addr: std::net::SocketAddr) {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .expect("h2 handshake");
    let conn = tokio::spawn(conn);
    let req = hyper::Request::get("http://127.0.0.1/hello")
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .expect("request");
    let res = sender.send_request(req).await.expect("answered");
    assert_eq!(res.status(), 200);
    drop(sender);
    let ended = tokio::time::timeout(HANG_GUARD, conn)
        .await
        .expect("the server ends the HTTP/2 connection (GOAWAY)");
    assert!(ended.expect("task").is_ok(), "a clean end, not a reset");
}

/// Lame duck: while `readiness_delay` runs (readiness 503, the listener still accepting),
/// an HTTP/1 response carries `Connection: close` and an HTTP/2 connection is sent away, so
/// clients pinned to this instance by an L4 balancer reconnect elsewhere. Both doors; and
/// `GRACEFUL_HTTP_LAME_DUCK=false` turns it off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lame_duck_tells_clients_to_move_while_still_accepting() {
    let builder = || Fixture::start(&["readiness_delay=4s", "drain=10s", "timeout=30s"]);
    let with_macro = || macro_door(&[("SHUTDOWN_READINESS_DELAY", "4s")]);
    for (door, start) in [
        ("builder", &builder as &dyn Fn() -> Fixture),
        ("macro", &with_macro),
    ] {
        let fixture = start();
        let addr = fixture.addr;
        let mut kept = h1(addr).await.expect("connect");
        assert_eq!(kept.get("/hello").await.expect("hello").status, 200);
        fixture.term();
        // The window starts a moment after the signal (readiness turns 503 at the trigger):
        // wait for it on new connections, then check the connection opened before.
        eventually("responses carry Connection: close", || async {
            get(addr, "/hello")
                .await
                .is_ok_and(|g| g.headers.get("connection").is_some())
        })
        .await;
        let got = kept.get("/hello").await.expect("served during the window");
        assert_eq!(got.status, 200);
        assert_eq!(
            got.headers.get("connection").map(|v| v.as_bytes()),
            Some(&b"close"[..]),
            "{door}: a keep-alive client is told to reconnect during readiness_delay"
        );
        h2_connection_is_sent_away(addr).await;
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_ok(),
            "{door}: still accepting: the window is readiness_delay, not the drain"
        );
        let (status, _) = fixture.wait();
        assert_eq!(status.code(), Some(0), "{door}");
    }

    // Turned off: the same request keeps its connection.
    let fixture = Fixture::start_bin_env(
        env!("CARGO_BIN_EXE_graceful-fixture-http"),
        &["readiness_delay=4s"],
        &[("GRACEFUL_HTTP_LAME_DUCK", "false")],
    );
    let addr = fixture.addr;
    let mut kept = h1(addr).await.expect("connect");
    assert_eq!(kept.get("/hello").await.expect("hello").status, 200);
    fixture.term();
    eventually("readiness turns 503", || async {
        get(addr, "/health/ready")
            .await
            .is_ok_and(|g| g.status == 503)
    })
    .await;
    let got = kept.get("/hello").await.expect("served during the window");
    assert_eq!(got.headers.get("connection"), None, "lame_duck = false");
    let (status, _) = fixture.wait();
    assert_eq!(status.code(), Some(0));
}

/// A WebSocket opened during the lame-duck window still upgrades and echoes: its `101`
/// keeps `Connection: upgrade` (a `Connection: close` there would break the handshake).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_upgrades_during_the_lame_duck_window() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let fixture = Fixture::start(&["readiness_delay=4s", "drain=10s", "timeout=30s"]);
    let addr = fixture.addr;
    fixture.term();
    eventually("responses carry Connection: close", || async {
        get(addr, "/hello")
            .await
            .is_ok_and(|g| g.headers.get("connection").is_some())
    })
    .await;
    let (mut ws, response) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("the WebSocket handshake succeeds during the window");
    assert_eq!(response.status(), 101);
    ws.send(Message::text("ping")).await.expect("send");
    let echo = ws.next().await.expect("echo").expect("echo");
    assert_eq!(echo, Message::text("ping"));
    drop(ws);
    let (status, report) = fixture.wait();
    assert_eq!(status.code(), Some(0), "{report}");
}
