//! [`Listener`]: what [`serve`](crate::http::serve) accepts connections from.
//!
//! With the `axum` feature this is `axum::serve::Listener` itself, so whatever `axum::serve`
//! takes (`TcpListener`, `UnixListener`, `listener.tap_io(…)`, a TLS acceptor wrapped as a
//! listener) `graceful::http::serve` takes too. Without it, a trait of the same shape is
//! implemented for tokio's TCP and Unix listeners; code implementing it keeps compiling
//! when the `axum` feature is turned on.

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use axum::serve::Listener;

#[cfg(not(feature = "axum"))]
pub use own::Listener;

#[cfg(not(feature = "axum"))]
mod own {
    use std::future::Future;
    use std::io;
    use std::time::Duration;

    use tokio::io::{AsyncRead, AsyncWrite};

    /// A source of connections: the same shape as `axum::serve::Listener`.
    pub trait Listener: Send + 'static {
        /// The connection type.
        type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;
        /// The peer's address.
        type Addr: Send;
        /// The next connection. Errors are handled inside (logged, retried after a pause),
        /// so this only returns connections.
        fn accept(&mut self) -> impl Future<Output = (Self::Io, Self::Addr)> + Send;
        /// The address this listener is bound to.
        fn local_addr(&self) -> io::Result<Self::Addr>;
    }

    impl Listener for tokio::net::TcpListener {
        type Io = tokio::net::TcpStream;
        type Addr = std::net::SocketAddr;

        async fn accept(&mut self) -> (Self::Io, Self::Addr) {
            loop {
                match tokio::net::TcpListener::accept(self).await {
                    Ok(accepted) => return accepted,
                    Err(e) => accept_error(e).await,
                }
            }
        }

        fn local_addr(&self) -> io::Result<Self::Addr> {
            tokio::net::TcpListener::local_addr(self)
        }
    }

    #[cfg(unix)]
    impl Listener for tokio::net::UnixListener {
        type Io = tokio::net::UnixStream;
        type Addr = tokio::net::unix::SocketAddr;

        async fn accept(&mut self) -> (Self::Io, Self::Addr) {
            loop {
                match tokio::net::UnixListener::accept(self).await {
                    Ok(accepted) => return accepted,
                    Err(e) => accept_error(e).await,
                }
            }
        }

        fn local_addr(&self) -> io::Result<Self::Addr> {
            tokio::net::UnixListener::local_addr(self)
        }
    }

    /// A peer that left before `accept` returned is nothing to report; anything else (out of
    /// file descriptors) is logged and retried after a pause instead of spinning.
    async fn accept_error(e: io::Error) {
        if matches!(
            e.kind(),
            io::ErrorKind::ConnectionRefused
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::ConnectionReset
        ) {
            return;
        }
        tracing::error!(target: "graceful::http", "accept failed: {e}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
