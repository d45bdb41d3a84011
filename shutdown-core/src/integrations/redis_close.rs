//! `redis`: a multiplexed connection or a `ConnectionManager`.
//!
//! ```no_run
//! use graceful::{Graceful, Resource};
//! use redis::aio::MultiplexedConnection;
//!
//! # async fn demo() {
//! let cache = Resource::new("cache", 90, |_| async {
//!     let client = redis::Client::open("redis://127.0.0.1:6379/")?;
//!     client.get_multiplexed_async_connection().await
//! })
//! .close_trait();
//! let outcome = Graceful::builder()
//!     .resource(cache)
//!     .build()
//!     .expect("valid configuration")
//!     .run(|shutdown| async move {
//!         let cache = shutdown.resources().get::<MultiplexedConnection>().expect("registered");
//!         let mut con = (*cache).clone();
//!         let _: () = redis::cmd("SET").arg("greeting").arg("hello").query_async(&mut con).await.expect("SET");
//!     })
//!     .await;
//! # let _ = outcome;
//! # }
//! ```

use crate::error::BoxError;
use crate::resource::Close;

/// Sends `QUIT` on a clone of the connection. Commands are answered in order on a multiplexed
/// connection, so every command sent before (a pipeline in flight) has its reply first; the
/// server then closes the connection, so `CLIENT LIST` no longer shows it.
async fn quit<C: redis::aio::ConnectionLike + Send>(mut con: C) -> Result<(), BoxError> {
    match redis::cmd("QUIT").query_async::<()>(&mut con).await {
        Ok(()) => Ok(()),
        // The server may close the socket before the reply is read: that is the goal.
        Err(e) if e.is_io_error() || e.is_connection_dropped() || e.is_unrecoverable_error() => {
            Ok(())
        }
        Err(e) => Err(Box::new(e)),
    }
}

/// `QUIT`: replies to commands already sent arrive first, then the server drops the client.
impl Close for redis::aio::MultiplexedConnection {
    async fn close(&self) -> Result<(), BoxError> {
        quit(self.clone()).await
    }
}

/// `QUIT` on the current connection: replies to commands already sent arrive first. A later
/// command through another clone would reconnect, so close it last among its users.
impl Close for redis::aio::ConnectionManager {
    async fn close(&self) -> Result<(), BoxError> {
        quit(self.clone()).await
    }
}
