//! The admin listener: its own socket, a connection limit, and header and body timeouts, so
//! a slow or half-open client cannot hold it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::envelope;
use super::router::{self, State};

/// Accepts connections until the task is aborted (or the runtime ends with the process).
pub(crate) async fn serve(listener: TcpListener, state: Arc<State>) {
    let limit = Arc::new(Semaphore::new(state.config.max_connections.value));
    let header_timeout = state.config.header_timeout.value;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!(target: "graceful::admin", "accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream));
            continue;
        };
        let state = state.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _ = stream.set_nodelay(true);
            let service = service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, std::convert::Infallible>(router::handle(state, req, peer).await) }
            });
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_buf_size(16 * 1024)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = conn.await {
                tracing::debug!(target: "graceful::admin", %peer, "admin connection ended: {e}");
            }
        });
    }
}

/// Over the connection limit: answer 503 at once and close, bounded in time.
async fn refuse(mut stream: TcpStream) {
    let bytes = envelope::busy_bytes();
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(&bytes).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// `true` when binding `addr` exposes the listener beyond this machine.
pub(crate) fn is_exposed(addr: SocketAddr) -> bool {
    !addr.ip().is_loopback()
}
