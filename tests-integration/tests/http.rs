//! `graceful::http` against real processes: the fixture (`tests-integration/fixtures/http.rs`) serves on
//! 127.0.0.1, gets a real SIGTERM, and real clients (hyper, h2, tungstenite) check what they
//! saw. No assertion depends on wall-clock speed; waits have a hang guard only.

mod common_http;

use bytes::Bytes;
use common_http::*;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

async fn slow_in_flight(fixture: &Fixture) -> usize {
    match get(fixture.addr, "/stats").await {
        Ok(g) => std::str::from_utf8(&g.body)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        Err(_) => 0,
    }
}

/// 1. 200 requests in flight at SIGTERM all complete with full bodies; exit 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_requests_complete_on_sigterm() {
    let fixture = Fixture::start(&[]);
    let addr = fixture.addr;
    let mut tasks = Vec::new();
    for _ in 0..200 {
        tasks.push(tokio::spawn(async move {
            let mut c = h1(addr).await.expect("connect");
            c.get("/slow?ms=300&hold=1").await
        }));
    }
    eventually("200 requests in flight", || async {
        slow_in_flight(&fixture).await == 200
    })
    .await;
    fixture.term();
    for t in tasks {
        let got = t.await.expect("task").expect("response");
        assert_eq!(got.status, 200);
        assert!(
            full_slow_body(&got.body),
            "truncated body: {} bytes",
            got.body.len()
        );
        assert_eq!(
            got.headers.get("connection").map(|v| v.as_bytes()),
            Some(&b"close"[..])
        );
    }
    let (status, report) = fixture.wait();
    assert_eq!(status.code(), Some(0), "{report}");
    assert_eq!(report["result"], "completed");
}

/// 2. During `readiness_delay` requests succeed while `/health/ready` is 503; after it the
///    listener is closed and a new connect is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_delay_then_listener_closes() {
    let mut fixture = Fixture::start(&["readiness_delay=3s"]);
    let addr = fixture.addr;
    assert_eq!(get(addr, "/health/ready").await.expect("ready").status, 200);
    // Keeps the process alive after the listener closes.
    let held = tokio::spawn(async move { get(addr, "/slow?ms=1000&hold=1").await });
    eventually("the held request runs", || async {
        slow_in_flight(&fixture).await == 1
    })
    .await;
    fixture.term();
    eventually("readiness turns 503", || async {
        get(addr, "/health/ready")
            .await
            .is_ok_and(|g| g.status == 503)
    })
    .await;
    let during = get(addr, "/hello")
        .await
        .expect("served during readiness_delay");
    assert_eq!(during.status, 200);
    assert_eq!(&during.body[..], b"hello");
    let live = get(addr, "/health/live").await.expect("live");
    assert_eq!(live.status, 200);

    eventually("new connects are refused", || async {
        matches!(TcpStream::connect(addr).await, Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused)
    })
    .await;
    assert!(
        fixture.alive(),
        "refused because the listener closed, not because the process is gone"
    );
    let held = held.await.expect("task").expect("held request");
    assert_eq!(held.status, 200);
    assert!(full_slow_body(&held.body));
    let (status, report) = fixture.wait();
    assert_eq!(status.code(), Some(0), "{report}");
}

/// 3. Idle keep-alive connections, and connections that never sent a request, do not delay
///    the shutdown: the drain ends by itself, not at `drain_timeout`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_do_not_delay_shutdown() {
    let fixture = Fixture::start(&["drain=30s", "timeout=40s"]);
    let addr = fixture.addr;
    let mut idle = Vec::new();
    for _ in 0..50 {
        let mut c = h1(addr).await.expect("connect");
        assert_eq!(c.get("/hello").await.expect("hello").status, 200);
        idle.push(c);
    }
    let mut silent = Vec::new();
    for _ in 0..10 {
        silent.push(TcpStream::connect(addr).await.expect("connect"));
    }
    // Make sure the silent ones were accepted before the signal.
    eventually("the silent connections are accepted", || async {
        get(addr, "/hello").await.is_ok()
    })
    .await;
    fixture.term();
    for c in idle {
        let ended = tokio::time::timeout(HANG_GUARD, c.conn)
            .await
            .expect("closed by the server");
        assert!(ended.expect("task").is_ok(), "a clean close, not a reset");
    }
    for mut s in silent {
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(HANG_GUARD, s.read(&mut buf))
            .await
            .expect("closed by the server");
        assert_eq!(n.expect("no reset"), 0, "EOF without a response");
    }
    let (status, report) = fixture.wait();
    assert_eq!(status.code(), Some(0), "{report}");
    assert_eq!(report["result"], "completed", "{report}");
    let drain = phase(&report, "draining_connections");
    assert_eq!(drain["within_deadline"], true, "{report}");
    assert!(
        report["deadlines"].as_array().is_some_and(|d| d.is_empty()),
        "{report}"
    );
    assert!(
        report["abandoned"].as_array().is_some_and(|a| a.is_empty()),
        "{report}"
    );
}

/// 4a. A request in flight on a keep-alive connection when the drain starts is answered with
///     `Connection: close`, then the connection closes cleanly (EOF, no reset).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_connection_gets_connection_close() {
    let fixture = Fixture::start(&[]);
    let addr = fixture.addr;
    let mut s = TcpStream::connect(addr).await.expect("connect");
    // One request served normally first: the connection is a kept-alive one.
    s.write_all(b"GET /hello HTTP/1.1\r\nhost: a\r\n\r\n")
        .await
        .expect("write");
    let first = read_response(&mut s).await;
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    assert!(
        !first.to_ascii_lowercase().contains("connection: close"),
        "{first}"
    );
    s.write_all(b"GET /slow?ms=300&hold=1 HTTP/1.1\r\nhost: a\r\n\r\n")
        .await
        .expect("write");
    eventually("the request is in flight", || async {
        slow_in_flight(&fixture).await == 1
    })
    .await;
    fixture.term();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(HANG_GUARD, s.read_to_end(&mut rest))
        .await
        .expect("response");
    read.expect("EOF, not a reset");
    let text = String::from_utf8_lossy(&rest);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("\r\nconnection: close\r\n"),
        "{text}"
    );
    assert!(text.ends_with("end"), "the full body, then EOF: {text}");
    let (status, _) = fixture.wait();
    assert_eq!(status.code(), Some(0));
}

/// Reads one response of `/hello` (5-byte body) from a raw connection.
async fn read_response(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.ends_with(b"hello") {
        let n = s.read(&mut chunk).await.expect("read");
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// 4b. With `late_requests = "refuse"`, a request reaching a live connection after the server
///     stopped taking work gets the 503 refusal (the body only the refusal has; its headers,
///     503 + `Retry-After` + `Connection: close`, are checked by the unit tests of
///     `graceful::http`), while the request in flight completes. A raw HTTP/2 client makes
///     the window deterministic: after the server's first GOAWAY (last stream id 2^31-1) it
///     does not answer the PING, so the server keeps accepting streams, and one is opened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_requests_refused_with_retry_after() {
    let fixture = Fixture::start(&["late=refuse"]);
    let mut s = TcpStream::connect(fixture.addr).await.expect("connect");
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .expect("preface");
    s.write_all(&h2_frame(4, 0, 0, &[]))
        .await
        .expect("settings");
    s.write_all(&h2_frame(1, 0x5, 1, &h2_get_block("/slow?ms=300&hold=1")))
        .await
        .expect("stream 1");
    eventually("the request is in flight", || async {
        slow_in_flight(&fixture).await == 1
    })
    .await;
    fixture.term();
    let mut streams = std::collections::HashMap::<u32, (Vec<u8>, bool)>::new();
    loop {
        let (ty, flags, id, payload) = read_h2_frame(&mut s).await;
        record(&mut streams, ty, flags, id, payload);
        if ty == 7 {
            break; // GOAWAY
        }
    }
    s.write_all(&h2_frame(1, 0x5, 3, &h2_get_block("/hello")))
        .await
        .expect("stream 3");
    while !(streams.get(&1).is_some_and(|s| s.1) && streams.get(&3).is_some_and(|s| s.1)) {
        let (ty, flags, id, payload) = read_h2_frame(&mut s).await;
        assert_ne!(ty, 3, "stream {id} was reset");
        record(&mut streams, ty, flags, id, payload);
    }
    assert!(
        full_slow_body(&streams[&1].0),
        "the in-flight request completes"
    );
    assert_eq!(
        String::from_utf8_lossy(&streams[&3].0),
        "the server is shutting down; retry later\n",
        "the late request is refused"
    );
    drop(s);
    let (status, report) = fixture.wait();
    assert_eq!(status.code(), Some(0), "{report}");
    // The report lists both, each with how it ended (HTTP/2 streams of one connection).
    let outcomes: Vec<(&str, &str)> = report["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap_or_default(),
                r["outcome"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [("/slow", "served"), ("/hello", "refused")],
        "{report}"
    );
}

fn record(
    streams: &mut std::collections::HashMap<u32, (Vec<u8>, bool)>,
    ty: u8,
    flags: u8,
    id: u32,
    payload: Vec<u8>,
) {
    if id == 0 || !(ty == 0 || ty == 1) {
        return;
    }
    let entry = streams.entry(id).or_default();
    if ty == 0 {
        entry.0.extend_from_slice(&payload);
    }
    if flags & 0x1 != 0 {
        entry.1 = true;
    }
}

fn h2_frame(ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, ty, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An HPACK block for `GET http://127.0.0.1<path>`: static-table entries and literals without
/// indexing or Huffman coding.
fn h2_get_block(path: &str) -> Vec<u8> {
    let mut b = vec![0x82, 0x86]; // :method GET, :scheme http
    for (name_index, value) in [(4u8, path), (1, "127.0.0.1")] {
        b.push(name_index); // literal without indexing, indexed name (:path, :authority)
        b.push(value.len() as u8);
        b.extend_from_slice(value.as_bytes());
    }
    b
}

async fn read_h2_frame(s: &mut TcpStream) -> (u8, u8, u32, Vec<u8>) {
    let mut head = [0u8; 9];
    tokio::time::timeout(HANG_GUARD, s.read_exact(&mut head))
        .await
        .expect("a frame")
        .expect("no reset");
    let len = (usize::from(head[0]) << 16) | (usize::from(head[1]) << 8) | usize::from(head[2]);
    let id = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload).await.expect("frame payload");
    (head[3], head[4], id, payload)
}

async fn h2_client(
    addr: std::net::SocketAddr,
) -> (
    h2::client::SendRequest<Bytes>,
    impl std::future::Future<Output = Result<(), h2::Error>>,
) {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    h2::client::handshake(tcp).await.expect("h2 handshake")
}

async fn h2_get(
    client: h2::client::SendRequest<Bytes>,
    path: &str,
) -> Result<(u16, hyper::HeaderMap, Bytes), h2::Error> {
    let mut c = client.ready().await?;
    let req = hyper::Request::get(format!("http://127.0.0.1{path}"))
        .body(())
        .expect("request");
    let (res, _) = c.send_request(req, true)?;
    read_h2(res).await
}

async fn read_h2(
    res: h2::client::ResponseFuture,
) -> Result<(u16, hyper::HeaderMap, Bytes), h2::Error> {
    let res = res.await?;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let mut body = res.into_body();
    let mut out = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
        out.extend_from_slice(&chunk);
    }
    Ok((status, headers, Bytes::from(out)))
}

/// 5. HTTP/2: streams open at SIGTERM complete, the client receives GOAWAY, and the
///    connection ends cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_goaway_lets_open_streams_finish() {
    let fixture = Fixture::start(&[]);
    let (client, conn) = h2_client(fixture.addr).await;
    let conn = tokio::spawn(conn);
    let streams: Vec<_> = (0..5)
        .map(|_| tokio::spawn(h2_get(client.clone(), "/slow?ms=300&hold=1")))
        .collect();
    eventually("5 streams in flight", || async {
        slow_in_flight(&fixture).await == 5
    })
    .await;
    fixture.term();
    for s in streams {
        let (status, _, body) = s.await.expect("task").expect("stream completes");
        assert_eq!(status, 200);
        assert!(full_slow_body(&body));
    }
    let ended = tokio::time::timeout(HANG_GUARD, conn)
        .await
        .expect("connection ends")
        .expect("task");
    assert!(ended.is_ok(), "graceful GOAWAY, not an error: {ended:?}");
    // The connection is gone: a new stream cannot be opened on it.
    let after = h2_get(client.clone(), "/hello").await;
    let e = after.expect_err("no new stream after GOAWAY");
    assert!(
        e.is_go_away() || e.is_io() || e.reason() == Some(h2::Reason::NO_ERROR),
        "{e:?}"
    );
    let (status, report) = fixture.wait();
    assert_eq!(status.code(), Some(0), "{report}");
}

/// 6. A WebSocket client receives close code 1001 when the drain starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_gets_going_away() {
    let fixture = Fixture::start(&[]);
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", fixture.addr))
        .await
        .expect("ws connect");
    ws.send(Message::text("ping")).await.expect("send");
    let echo = ws.next().await.expect("echo").expect("echo");
    assert_eq!(echo, Message::text("ping"));
    fixture.term();
    let mut code = None;
    while let Some(msg) = tokio::time::timeout(HANG_GUARD, ws.next())
        .await
        .expect("close frame")
    {
        if let Ok(Message::Close(frame)) = msg {
            code = frame.map(|f| f.code);
            break;
        }
    }
    assert_eq!(code, Some(CloseCode::Away), "close code 1001");
    let _ = ws.close(None).await;
    let (status, report) = fixture.wait();
    assert_eq!(status.code(), Some(0), "{report}");
}

/// 7. A request that never finishes is aborted at `drain_timeout`, named in the report, and
///    the process exits inside `timeout` with the Forced code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_request_is_aborted_and_reported() {
    let fixture = Fixture::start(&["drain=1s", "timeout=10s"]);
    let addr = fixture.addr;
    let hung = tokio::spawn(async move { get(addr, "/hang").await });
    eventually("the hung request runs", || async {
        slow_in_flight(&fixture).await == 1
    })
    .await;
    fixture.term();
    let (status, report) = fixture.wait();
    assert_eq!(
        status.code(),
        Some(graceful::exit::FORCED as i32),
        "{report}"
    );
    assert_eq!(report["result"], "forced");
    let abandoned = report["abandoned"].to_string();
    assert!(abandoned.contains("GET /hang"), "{report}");
    // The engine printed its report, so it ended the shutdown itself (the watchdog of the
    // overall `timeout` exits without one); the drain deadline is the only one that passed.
    let deadlines = report["deadlines"].as_array().expect("deadlines");
    assert_eq!(deadlines.len(), 1, "{report}");
    assert_eq!(deadlines[0]["what"], "drain", "{report}");
    let drain = phase(&report, "draining_connections");
    assert_eq!(drain["within_deadline"], false);
    let client = hung.await.expect("task");
    assert!(client.is_err(), "the hung request was cut: {client:?}");
}

/// 7b. The report lists each request the drain waited for, with how it ended, and its
///     timeline draws one row each inside the drain: the slow one served, the hung one
///     abandoned at the drain deadline (and named as the blocker).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drained_requests_are_listed_and_drawn_one_row_each() {
    let fixture = Fixture::start(&["drain=1s", "timeout=10s"]);
    let addr = fixture.addr;
    let slow = tokio::spawn(async move { get(addr, "/slow?ms=400&secret=1").await });
    let hung = tokio::spawn(async move { get(addr, "/hang").await });
    eventually("both requests run", || async {
        slow_in_flight(&fixture).await == 2
    })
    .await;
    fixture.term();
    let (status, report) = fixture.wait();
    assert_eq!(report["result"], "forced", "{report}");
    assert!(!status.success());
    let slow = slow
        .await
        .expect("task")
        .expect("the slow request is answered");
    assert_eq!(slow.status, 200);
    assert!(
        hung.await.expect("task").is_err(),
        "the hung request was cut"
    );
    let requests = report["requests"].as_array().expect("requests");
    let find = |path: &str| {
        requests
            .iter()
            .find(|r| r["path"] == path)
            .unwrap_or_else(|| panic!("no {path} in {report}"))
    };
    let (served, abandoned) = (find("/slow"), find("/hang"));
    assert_eq!(served["method"], "GET");
    assert_eq!(served["outcome"], "served", "{report}");
    assert_eq!(abandoned["outcome"], "abandoned", "{report}");
    assert!(
        !report["requests"].to_string().contains("secret"),
        "no query string in the report: {report}"
    );
    let ended = |r: &serde_json::Value| r["ended"].as_f64().expect("an end");
    assert!(ended(served) < ended(abandoned), "{report}");
    // Drawn one row each, inside the drain phase.
    let t = graceful::timeline::Timeline::from_value(report.clone()).expect("a timeline");
    let labels: Vec<&str> = t.rows.iter().map(|r| r.label.as_str()).collect();
    let drain = labels
        .iter()
        .position(|l| *l == "draining_connections")
        .expect("drain phase");
    let next_phase = labels
        .iter()
        .position(|l| *l == "saving_state")
        .expect("saving_state");
    for label in ["GET /hang", "GET /slow"] {
        let at = labels
            .iter()
            .position(|l| *l == label)
            .unwrap_or_else(|| panic!("no row {label}: {labels:?}"));
        assert!(drain < at && at < next_phase, "{labels:?}");
    }
    let text = graceful::timeline::text::render(&t, Default::default());
    let row = |label: &str| {
        text.lines()
            .find(|l| l.get(4..).is_some_and(|rest| rest.starts_with(label)))
            .unwrap_or_else(|| panic!("no {label} in\n{text}"))
            .to_string()
    };
    assert!(row("GET /hang").starts_with('!'), "late:\n{text}");
    assert!(row("GET /slow").starts_with(' '), "in time:\n{text}");
}

/// The program holds readiness down (`shutdown.not_ready("warming cache")`): `health_routes`
/// answers 503 naming the hold, and 200 once it drops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_readiness_hold_keeps_health_routes_503_and_names_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let warm = dir.path().join("warm");
    let fixture = Fixture::start(&[&format!("warm={}", warm.display())]);
    let addr = fixture.addr;
    let held = get(addr, "/health/ready").await.expect("ready");
    assert_eq!(held.status, 503);
    let body: serde_json::Value = serde_json::from_slice(&held.body).expect("JSON");
    assert_eq!(
        body["reasons"],
        serde_json::json!(["warming cache"]),
        "{body}"
    );
    assert_eq!(
        get(addr, "/hello").await.expect("hello").status,
        200,
        "it serves"
    );
    std::fs::write(&warm, b"").expect("warm");
    eventually("ready", || async {
        get(addr, "/health/ready")
            .await
            .is_ok_and(|g| g.status == 200)
    })
    .await;
    fixture.term();
    let (status, report) = fixture.wait();
    assert_eq!(status.code(), Some(0), "{report}");
}

/// Optional (feature `tonic`): the gRPC health service answers SERVING, then NOT_SERVING from
/// the moment of SIGTERM (while the server still serves during `readiness_delay`); exit 0.
/// During that window each HTTP/2 connection is sent away (GOAWAY) after the streams it
/// opened, so the client asks on a new connection each time, as gRPC clients reconnect.
#[cfg(feature = "tonic")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_health_turns_not_serving() {
    let fixture = Fixture::start(&["server=grpc", "readiness_delay=2s"]);
    let addr = fixture.addr;
    let (client, conn) = h2_client(addr).await;
    let conn = tokio::spawn(conn);
    assert_eq!(grpc_health_check(&client).await, 1, "SERVING");
    fixture.term();
    eventually("NOT_SERVING", || async {
        let (client, conn) = h2_client(addr).await;
        tokio::spawn(conn);
        grpc_health_check(&client).await == 2
    })
    .await;
    drop(client);
    let _ = tokio::time::timeout(HANG_GUARD, conn).await;
    let (status, report) = fixture.wait();
    assert_eq!(status.code(), Some(0), "{report}");
}

/// The program holds readiness down (`shutdown.not_ready("warming cache")`): gRPC health
/// answers NOT_SERVING until the hold drops, then SERVING.
#[cfg(feature = "tonic")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_health_follows_a_readiness_hold() {
    let dir = tempfile::tempdir().expect("tempdir");
    let warm = dir.path().join("warm");
    let fixture = Fixture::start(&["server=grpc", &format!("warm={}", warm.display())]);
    let (client, conn) = h2_client(fixture.addr).await;
    let conn = tokio::spawn(conn);
    assert_eq!(
        grpc_health_check(&client).await,
        2,
        "NOT_SERVING while held"
    );
    std::fs::write(&warm, b"").expect("warm");
    eventually("SERVING", || async {
        grpc_health_check(&client).await == 1
    })
    .await;
    fixture.term();
    drop(client);
    let _ = tokio::time::timeout(HANG_GUARD, conn).await;
    let (status, report) = fixture.wait();
    assert_eq!(status.code(), Some(0), "{report}");
}

/// `grpc.health.v1.Health/Check` for the overall status, by hand: returns the status enum
/// (1 SERVING, 2 NOT_SERVING).
#[cfg(feature = "tonic")]
async fn grpc_health_check(client: &h2::client::SendRequest<Bytes>) -> u8 {
    let mut c = client.clone().ready().await.expect("h2 ready");
    let req = hyper::Request::post("http://127.0.0.1/grpc.health.v1.Health/Check")
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .expect("request");
    let (res, mut body) = c.send_request(req, false).expect("send");
    // An empty HealthCheckRequest: uncompressed, length 0.
    body.send_data(Bytes::from_static(&[0, 0, 0, 0, 0]), true)
        .expect("body");
    let (status, _, data) = read_h2(res).await.expect("response");
    assert_eq!(status, 200);
    // [0, len(4), 0x08 (field 1, varint), status]
    assert_eq!(&data[..6], &[0, 0, 0, 0, 2, 0x08], "{data:?}");
    data[6]
}

/// 9. With `with_connect_info()`, a handler extracting `ConnectInfo<SocketAddr>` gets the
///    client's address (as `into_make_service_with_connect_info` does under `axum::serve`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_info_gives_the_client_address() {
    let fixture = Fixture::start(&["connect_info=1"]);
    let stream = TcpStream::connect(fixture.addr).await.expect("connect");
    let local = stream.local_addr().expect("local address");
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(conn);
    let req = hyper::Request::get("/peer")
        .header("host", "127.0.0.1")
        .body(http_body_util::Empty::<Bytes>::new())
        .expect("request");
    let res = sender.send_request(req).await.expect("response");
    assert_eq!(res.status(), 200);
    let body = http_body_util::BodyExt::collect(res.into_body())
        .await
        .expect("body")
        .to_bytes();
    assert_eq!(body, local.to_string().as_bytes());
}

/// 10. On a Unix domain socket, `serve` serves and drains as on TCP: a request in flight at
///     SIGTERM completes with `Connection: close`, then the listener is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_socket_serves_and_drains() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("http.sock");
    let path_arg = format!("unix={}", path.display());
    let fixture = Fixture::start(&[&path_arg]);
    let unix_get = |p: &'static str| {
        let path = path.clone();
        async move {
            let stream = tokio::net::UnixStream::connect(&path).await?;
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .map_err(std::io::Error::other)?;
            tokio::spawn(conn);
            let req = hyper::Request::get(p)
                .header("host", "localhost")
                .body(http_body_util::Empty::<Bytes>::new())
                .expect("request");
            let res = sender
                .send_request(req)
                .await
                .map_err(std::io::Error::other)?;
            let (parts, body) = res.into_parts();
            let body = http_body_util::BodyExt::collect(body)
                .await
                .map_err(std::io::Error::other)?
                .to_bytes();
            Ok::<_, std::io::Error>((parts, body))
        }
    };
    let (hello, body) = unix_get("/hello").await.expect("GET /hello");
    assert_eq!(hello.status, 200);
    assert_eq!(body, "hello");
    let held = tokio::spawn(unix_get("/slow?ms=300&hold=1"));
    eventually("the request is in flight", || async {
        unix_get("/stats").await.is_ok_and(|(_, b)| b == "1")
    })
    .await;
    fixture.term();
    let (parts, body) = held.await.expect("task").expect("response");
    assert_eq!(parts.status, 200);
    assert!(full_slow_body(&body), "truncated: {} bytes", body.len());
    assert_eq!(parts.headers["connection"], "close");
    let (status, report) = fixture.wait();
    assert_eq!(status.code(), Some(0), "{report}");
    assert_eq!(report["result"], "completed", "{report}");
    assert!(
        unix_get("/hello").await.is_err(),
        "the listener is closed after the drain"
    );
}

/// 11. `health_routes_at` with `HealthPaths::KUBERNETES`: `/livez` and `/readyz` answer (the
///     default paths do not), and readiness turns 503 when the shutdown starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_routes_at_kubernetes_paths() {
    let fixture = Fixture::start(&["health=k8s", "readiness_delay=3s"]);
    let addr = fixture.addr;
    assert_eq!(get(addr, "/livez").await.expect("livez").status, 200);
    assert_eq!(get(addr, "/readyz").await.expect("readyz").status, 200);
    assert_eq!(
        get(addr, "/health/ready").await.expect("old path").status,
        404
    );
    fixture.term();
    eventually("/readyz turns 503", || async {
        get(addr, "/readyz").await.is_ok_and(|g| g.status == 503)
    })
    .await;
    assert_eq!(get(addr, "/livez").await.expect("livez").status, 200);
    let (status, report) = fixture.wait();
    assert_eq!(status.code(), Some(0), "{report}");
}

/// 12. A long response stream wrapped in `until_drain` ends properly (the last chunk is sent)
///     when the drain starts, although its client would go on: the shutdown completes
///     without waiting for the drain deadline, and nothing is abandoned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_stream_ends_cleanly_when_the_drain_starts() {
    let fixture = Fixture::start(&["drain=30s", "timeout=60s"]);
    let mut s = TcpStream::connect(fixture.addr).await.expect("connect");
    s.write_all(
        b"POST /stream HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n",
    )
    .await
    .expect("write");
    // The echoed chunk arrives: the stream runs, and the request body is still open.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !String::from_utf8_lossy(&buf).contains("hello") {
        let n = tokio::time::timeout(HANG_GUARD, s.read(&mut chunk))
            .await
            .expect("echo")
            .expect("read");
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
    }
    fixture.term();
    let read = tokio::time::timeout(HANG_GUARD, s.read_to_end(&mut buf))
        .await
        .expect("the stream ends before the hang guard");
    read.expect("EOF, not a reset");
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.ends_with("\r\n0\r\n\r\n"),
        "the stream ends with the last chunk: {text:?}"
    );
    let (status, report) = fixture.wait();
    assert_eq!(status.code(), Some(0), "{report}");
    assert_eq!(report["result"], "completed", "{report}");
    let drain = phase(&report, "draining_connections");
    assert_eq!(drain["within_deadline"], true, "{report}");
    assert!(
        report["abandoned"].as_array().is_some_and(|a| a.is_empty()),
        "{report}"
    );
}

/// A panicking handler: the client gets 500 (not a reset), the same keep-alive connection
/// goes on serving, the report counts it, and the exit code stays 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_is_answered_500_counted_and_the_service_keeps_serving() {
    let fixture = Fixture::start(&[]);
    let mut c = h1(fixture.addr).await.expect("connect");
    let got = c.get("/panic").await.expect("a response, not a reset");
    assert_eq!(got.status, 500, "{got:?}");
    assert_eq!(&got.body[..], b"internal server error\n");
    let after = c.get("/hello").await.expect("the connection still serves");
    assert_eq!(after.status, 200);
    drop(c);
    fixture.term();
    let (status, report) = fixture.wait();
    assert_eq!(status.code(), Some(0), "{report}");
    assert_eq!(report["http_panics"], 1, "{report}");
}

/// The ERROR line a panicking handler leaves names the route (method and path) and the panic,
/// so an operator reading the log finds which handler it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_is_logged_with_its_route() {
    let mut fixture = Fixture::start_capturing_stderr(&["log=1"]);
    let stderr = fixture.child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut { stderr }, &mut text);
        text
    });
    let got = get(fixture.addr, "/panic").await.expect("a response");
    assert_eq!(got.status, 500, "{got:?}");
    fixture.term();
    let (status, report) = fixture.wait();
    assert_eq!(status.code(), Some(0), "{report}");
    let stderr = reader.join().expect("stderr reader");
    let line = stderr
        .lines()
        .find(|l| l.contains("request handler panicked"))
        .unwrap_or_else(|| panic!("no panic line on stderr:\n{stderr}"));
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("method=GET"), "{line}");
    assert!(line.contains("path=\"/panic\""), "{line}");
    assert!(line.contains("handler exploded"), "{line}");
}

/// `fatal_panics`: the panic is answered 500, then the shutdown starts and the exit is 69.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_with_fatal_panics_starts_the_shutdown_and_exits_69() {
    let fixture = Fixture::start(&["fatal_panics=1"]);
    let got = get(fixture.addr, "/panic").await.expect("a response");
    assert_eq!(got.status, 500, "{got:?}");
    let (status, report) = fixture.wait();
    assert_eq!(
        status.code(),
        Some(i32::from(graceful::exit::FAILED)),
        "{report}"
    );
    assert_eq!(report["http_panics"], 1, "{report}");
    assert_eq!(report["reason"]["kind"], "resource_failed", "{report}");
    let error = report["reason"]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("GET /panic") && error.contains("handler exploded"),
        "the reason names the route and the panic: {report}"
    );
}
