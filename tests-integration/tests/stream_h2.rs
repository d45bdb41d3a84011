//! `until_drain` over HTTP/2 (h2c): a response stream that would go on ends with `END_STREAM`
//! when the drain starts, never with a reset, and the shutdown does not wait for
//! `drain_timeout`. The same stream over HTTP/1 is `tests/http.rs`'s
//! `long_stream_ends_cleanly_when_the_drain_starts`; over gRPC, `tests/grpc.rs`.
//!
//! ```sh
//! cargo test -p graceful-tests-integration --features axum --test stream_h2
//! ```

mod common_http;

use bytes::Bytes;
use common_http::*;

/// `POST /stream` echoes each chunk of the request body through `until_drain`; the client
/// keeps its request body open, so only the drain can end the response.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_h2_stream_wrapped_in_until_drain_ends_cleanly_at_the_drain() {
    let fixture = Fixture::start(&["drain=30s", "timeout=60s", "readiness_delay=500ms"]);
    let tcp = tokio::net::TcpStream::connect(fixture.addr)
        .await
        .expect("connect");
    let (client, conn) = h2::client::handshake(tcp).await.expect("h2 handshake");
    let conn = tokio::spawn(conn);
    let mut client = client.ready().await.expect("h2 ready");
    let request = hyper::Request::post(format!("http://{}/stream", fixture.addr))
        .body(())
        .expect("request");
    let (response, mut upload) = client.send_request(request, false).expect("send");
    upload
        .send_data(Bytes::from_static(b"hello"), false)
        .expect("first chunk");
    let response = tokio::time::timeout(HANG_GUARD, response)
        .await
        .expect("response in time")
        .expect("response");
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let echoed = tokio::time::timeout(HANG_GUARD, body.data())
        .await
        .expect("echo in time")
        .expect("a chunk")
        .expect("no error");
    assert_eq!(&echoed[..], b"hello");
    let _ = body.flow_control().release_capacity(echoed.len());

    fixture.term();
    // The stream ends: `None` after the last frame (END_STREAM); a reset would be an error.
    let mut rest = Vec::new();
    loop {
        let chunk = tokio::time::timeout(HANG_GUARD, body.data())
            .await
            .expect("the stream ends before the hang guard");
        match chunk {
            None => break,
            Some(Ok(data)) => rest.extend_from_slice(&data),
            Some(Err(e)) => panic!("the stream was reset, not ended: {e}"),
        }
    }
    assert!(rest.is_empty(), "nothing after the echo: {rest:?}");
    drop((client, upload, body));
    let conn = tokio::time::timeout(HANG_GUARD, conn)
        .await
        .expect("the connection closes")
        .expect("connection task");
    assert!(conn.is_ok(), "closed with GOAWAY, not reset: {conn:?}");

    let (status, report) = fixture.wait();
    assert_eq!(status.code(), Some(0), "{report}");
    assert_eq!(
        phase(&report, "draining_connections")["within_deadline"],
        true,
        "{report}"
    );
    assert_eq!(report["abandoned"], serde_json::json!([]), "{report}");
}
