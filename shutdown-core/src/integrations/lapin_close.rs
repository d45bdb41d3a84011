//! `lapin`: channels, then the connection.
//!
//! ```no_run
//! use graceful::{Graceful, Resource};
//! use lapin::{Connection, ConnectionProperties};
//!
//! # async fn demo() {
//! let amqp = Resource::new("amqp", 80, |_| {
//!     Connection::connect("amqp://guest:guest@127.0.0.1:5672/%2f", ConnectionProperties::default())
//! })
//! .close_trait();
//! let outcome = Graceful::builder()
//!     .resource(amqp)
//!     .build()
//!     .expect("valid configuration")
//!     .run(|_shutdown| async move { /* consume, ack after the work is done */ })
//!     .await;
//! # let _ = outcome;
//! # }
//! ```

use crate::error::BoxError;
use crate::resource::Close;

/// AMQP reply code for a normal close.
const REPLY_SUCCESS: u16 = 200;

/// Waits for outstanding publisher confirms (in confirm mode), then closes the channel with
/// reply code 200. Acks sent before are processed by the broker before the close.
impl Close for lapin::Channel {
    async fn close(&self) -> Result<(), BoxError> {
        if !self.status().connected() {
            return Ok(());
        }
        if self.status().confirm() {
            self.wait_for_confirms().await?;
        }
        lapin::Channel::close(self, REPLY_SUCCESS, "graceful shutdown").await?;
        Ok(())
    }
}

/// Closes the connection with reply code 200 (which closes its channels). Close channels you
/// hold as their own resources first: give them a lower priority.
impl Close for lapin::Connection {
    async fn close(&self) -> Result<(), BoxError> {
        if !self.status().connected() {
            return Ok(());
        }
        lapin::Connection::close(self, REPLY_SUCCESS, "graceful shutdown").await?;
        Ok(())
    }
}
