//! `serve` in process, over a real socket on 127.0.0.1.

use std::convert::Infallible;
use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

use crate::Graceful;

/// Dropping the future of `serve` ends the connections it serves, including one whose
/// request is still running, and releases their in-flight guards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_serve_ends_its_connections() {
    let graceful = Graceful::builder().signals([]).build().expect("build");
    let shutdown = graceful.shutdown();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let called = Arc::new(Notify::new());
    let service = tower::service_fn({
        let called = called.clone();
        move |_: Request<Incoming>| {
            called.notify_one();
            // A handler that never answers.
            std::future::pending::<Result<Response<String>, Infallible>>()
        }
    });
    let server = tokio::spawn(crate::http::serve(listener, service, &shutdown).into_future());
    let mut client = tokio::net::TcpStream::connect(addr).await.expect("connect");
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write");
    called.notified().await;
    assert_eq!(shutdown.in_flight(), 1, "the connection holds a guard");

    server.abort();
    assert!(server.await.expect_err("aborted").is_cancelled());
    // A guard against hanging for ever if the connection outlived its server, not a measure.
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(60), client.read(&mut buf))
        .await
        .expect("the connection was closed when its server was dropped");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "no response, only the end of the connection: {read:?}"
    );
    // The task drops its guard just after the socket: wait for it (same guard as above).
    tokio::time::timeout(Duration::from_secs(60), async {
        while shutdown.in_flight() != 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("its in-flight guard was released");
}
