//! `sqlx::Pool<DB>`: [`Pool::close`](sqlx::Pool::close).
//!
//! ```no_run
//! use graceful::{Graceful, Resource};
//! use sqlx::PgPool;
//!
//! # async fn demo() {
//! let db = Resource::new("db", 100, |_| PgPool::connect("postgres://postgres@127.0.0.1/test")).close_trait();
//! let outcome = Graceful::builder()
//!     .resource(db)
//!     .build()
//!     .expect("valid configuration")
//!     .run(|shutdown| async move {
//!         let db = shutdown.resources().get::<PgPool>().expect("registered");
//!         sqlx::query("SELECT 1").execute(&*db).await.expect("query");
//!     })
//!     .await;
//! # let _ = outcome;
//! # }
//! ```

use crate::error::BoxError;
use crate::resource::Close;

/// Closes the pool: idle connections are closed at once, connections still checked out (a
/// request finishing its transaction) are closed when they come back. The engine bounds the
/// wait by `resource_close_timeout`.
impl<DB: sqlx::Database> Close for sqlx::Pool<DB> {
    async fn close(&self) -> Result<(), BoxError> {
        sqlx::Pool::close(self).await;
        Ok(())
    }
}
