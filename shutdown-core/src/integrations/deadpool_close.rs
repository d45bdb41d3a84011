//! `deadpool::managed::Pool` (deadpool-postgres, deadpool-redis, … pools).
//!
//! ```no_run
//! use graceful::{Graceful, Resource};
//!
//! # async fn demo() {
//! // deadpool-redis: `deadpool_redis::Pool` is a `deadpool::managed::Pool`.
//! let cache = Resource::new("cache", 90, |_| async {
//!     deadpool_redis::Config::from_url("redis://127.0.0.1:6379/")
//!         .create_pool(Some(deadpool_redis::Runtime::Tokio1))
//! })
//! .close_trait();
//! let outcome = Graceful::builder()
//!     .resource(cache)
//!     .build()
//!     .expect("valid configuration")
//!     .run(|_shutdown| async {})
//!     .await;
//! # let _ = outcome;
//! # }
//! ```

use std::time::Duration;

use deadpool::managed::{Manager, Object, Pool};

use crate::error::BoxError;
use crate::resource::Close;

/// How often close checks whether checked-out objects came back.
const POLL: Duration = Duration::from_millis(5);

/// [`Pool::close`]: idle objects are dropped at once and new `get`s fail; objects still
/// checked out (a request finishing) are dropped when they come back. Returns once the pool
/// holds no object (bounded by the engine's `resource_close_timeout`).
impl<M, W> Close for Pool<M, W>
where
    M: Manager + 'static,
    W: From<Object<M>> + 'static,
    Pool<M, W>: Send + Sync,
{
    async fn close(&self) -> Result<(), BoxError> {
        Pool::close(self);
        while self.status().size > 0 {
            tokio::time::sleep(POLL).await;
        }
        Ok(())
    }
}
