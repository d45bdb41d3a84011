//! `async_nats::Client`: flush, then drain.
//!
//! ```no_run
//! use graceful::{Graceful, Resource};
//!
//! # async fn demo() {
//! let nats = Resource::new("nats", 80, |_| async_nats::connect("nats://127.0.0.1:4222")).close_trait();
//! let outcome = Graceful::builder()
//!     .resource(nats)
//!     .build()
//!     .expect("valid configuration")
//!     .run(|shutdown| async move {
//!         let nats = shutdown.resources().get::<async_nats::Client>().expect("registered");
//!         // Buffered: close flushes it before the connection goes away.
//!         nats.publish("events", "hello".into()).await.expect("publish");
//!     })
//!     .await;
//! # let _ = outcome;
//! # }
//! ```

use std::time::Duration;

use crate::error::BoxError;
use crate::resource::Close;

/// How often the close checks whether the drained connection has gone.
const POLL: Duration = Duration::from_millis(5);

/// Flushes buffered publishes (and JetStream acks, which are publishes), then drains: every
/// subscription is unsubscribed, messages already received are still delivered, and the
/// connection closes. Returns once the connection is gone (bounded by the engine's
/// `resource_close_timeout`).
impl Close for async_nats::Client {
    async fn close(&self) -> Result<(), BoxError> {
        if self.connection_state() == async_nats::connection::State::Connected {
            self.flush()
                .await
                .map_err(|e| BoxError::from(format!("flush before drain: {e}")))?;
        }
        if let Err(e) = self.drain().await {
            // The connection is already closed: nothing left to flush.
            tracing::debug!(target: "graceful::nats", "drain: {e}");
            return Ok(());
        }
        // `drain` only queues the request; a flush fails once the connection task has exited.
        while self.flush().await.is_ok() {
            tokio::time::sleep(POLL).await;
        }
        Ok(())
    }
}
