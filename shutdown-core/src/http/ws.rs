//! WebSockets that end well: tracked as in-flight work while open, and closed with code 1001
//! ("going away") when the drain starts.

use std::future::Future;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::response::Response;
use tokio::sync::watch;

use super::serve::reached;
use crate::phase::Phase;
use crate::shutdown::Shutdown;
use crate::tracker::TrackGuard;

/// How long [`GracefulSocket::close_going_away`] waits for the client to answer the close
/// frame before dropping the connection.
pub const CLOSE_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(1);

/// Upgrades the request and runs `handler` with a [`GracefulSocket`]. The socket counts as
/// in-flight work from this call until the handler returns.
///
/// ```
/// use axum::extract::ws::{Message, WebSocketUpgrade};
/// use axum::response::Response;
///
/// async fn echo(ws: WebSocketUpgrade, shutdown: graceful::Shutdown) -> Response {
///     graceful::http::ws::upgrade(ws, &shutdown, |mut socket| async move {
///         // `recv` returns `None` when the client left or the drain started; in the second
///         // case the client has been sent a close frame with code 1001.
///         while let Some(Ok(msg)) = socket.recv().await {
///             if let Message::Text(t) = msg {
///                 if socket.send(Message::Text(t)).await.is_err() {
///                     break;
///                 }
///             }
///         }
///     })
/// }
///
/// let app: axum::Router = axum::Router::new().route("/ws", axum::routing::get(echo));
/// # drop(app);
/// ```
pub fn upgrade<F, Fut>(ws: WebSocketUpgrade, shutdown: &Shutdown, handler: F) -> Response
where
    F: FnOnce(GracefulSocket) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let guard = shutdown.track();
    let shutdown = shutdown.clone();
    ws.on_upgrade(move |socket| async move {
        let socket = GracefulSocket::with_guard(socket, &shutdown, guard);
        handler(socket).await;
    })
}

/// A [`WebSocket`] that knows about the shutdown.
///
/// [`recv`](GracefulSocket::recv) ends (returns `None`) when the drain starts, after sending
/// the client a close frame with code 1001; handlers that mostly send select on
/// [`draining`](GracefulSocket::draining) and call
/// [`close_going_away`](GracefulSocket::close_going_away).
pub struct GracefulSocket {
    socket: WebSocket,
    phase: watch::Receiver<Phase>,
    closed: bool,
    _guard: TrackGuard,
}

impl std::fmt::Debug for GracefulSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GracefulSocket")
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl GracefulSocket {
    /// Wraps an upgraded socket (for handlers that call `on_upgrade` themselves). Tracked as
    /// in-flight work from now until dropped.
    pub fn new(socket: WebSocket, shutdown: &Shutdown) -> Self {
        Self::with_guard(socket, shutdown, shutdown.track())
    }

    fn with_guard(socket: WebSocket, shutdown: &Shutdown, guard: TrackGuard) -> Self {
        GracefulSocket {
            socket,
            phase: shutdown.phase(),
            closed: false,
            _guard: guard,
        }
    }

    /// The next message. `None` when the client closed, or when the drain started — then the
    /// close handshake with code 1001 has been done.
    pub async fn recv(&mut self) -> Option<Result<Message, axum::Error>> {
        if self.closed {
            return None;
        }
        tokio::select! {
            biased;
            _ = wait_drain(&mut self.phase) => {
                self.close_going_away().await;
                None
            }
            msg = self.socket.recv() => {
                if matches!(msg, None | Some(Ok(Message::Close(_)))) {
                    self.closed = true;
                }
                msg
            }
        }
    }

    /// Sends a message.
    pub async fn send(&mut self, msg: Message) -> Result<(), axum::Error> {
        self.socket.send(msg).await
    }

    /// Resolves when the drain starts (at once if it already has).
    pub async fn draining(&mut self) {
        wait_drain(&mut self.phase).await
    }

    /// Sends a close frame with code 1001 ("going away") and waits, at most
    /// [`CLOSE_HANDSHAKE_TIMEOUT`], for the client's close frame. Does nothing if the socket
    /// is already closed.
    pub async fn close_going_away(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        let frame = CloseFrame {
            code: close_code::AWAY,
            reason: "server shutting down".into(),
        };
        if self.socket.send(Message::Close(Some(frame))).await.is_err() {
            return;
        }
        let _ = tokio::time::timeout(CLOSE_HANDSHAKE_TIMEOUT, async {
            while let Some(Ok(msg)) = self.socket.recv().await {
                if matches!(msg, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }

    /// The underlying socket.
    pub fn socket_mut(&mut self) -> &mut WebSocket {
        &mut self.socket
    }
}

/// Resolves when the drain starts, or the engine is gone (treated as draining).
async fn wait_drain(phase: &mut watch::Receiver<Phase>) {
    reached(phase, |p| p >= Phase::DrainingConnections).await
}
