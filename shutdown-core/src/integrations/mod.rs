//! `Close` for the crates services usually hold as resources, each behind a cargo feature
//! named after the crate (so a user pays only for what they enable).
//!
//! With one of these features on, `#[graceful::resource]` on a constructor returning the type
//! needs no `close = "…"`: the engine calls the implementation below at the resource's turn,
//! bounded by `resource_close_timeout`.
//!
//! | type | feature | what `close` does |
//! | --- | --- | --- |
//! | `sqlx::Pool<DB>` (`PgPool`, `MySqlPool`, `SqlitePool`) | `sqlx` | [`Pool::close`](https://docs.rs/sqlx/latest/sqlx/struct.Pool.html#method.close): idle connections closed, then waits for checked-out ones to come back (a transaction in flight commits first) |
//! | `redis::aio::MultiplexedConnection`, `redis::aio::ConnectionManager` | `redis` | waits for the commands already sent (pipelines in flight), then `QUIT`, so the server drops the client at once |
//! | `async_nats::Client` | `nats` | `flush` (buffered publishes and acks reach the server), then `drain` (subscriptions unsubscribed, pending messages delivered), then waits for the connection to close |
//! | `lapin::Connection`, `lapin::Channel` | `lapin` | channel: waits for publisher confirms, then closes it (acks already sent are kept); connection: closes it with reply code 200 |
//! | [`TaskHandle`] (a `tokio::task::JoinHandle`) | none | cancels its token, awaits the task up to its deadline, then aborts it |
//! | [`SyncedFile`] (a `tokio::fs::File`) | `tokio-fs` | `flush` then `sync_all` |
//! | `deadpool::managed::Pool` (deadpool-redis, deadpool-postgres, …) | `deadpool` | `Pool::close`, then waits until every checked-out object came back and was dropped |
//! | `LogFlusher` (a `tracing_appender` `WorkerGuard`) | `tracing-appender` | drops the guard, flushing the queued lines |
//! | `opentelemetry_sdk` `SdkTracerProvider`, `SdkMeterProvider`, `SdkLoggerProvider` | `opentelemetry` | `shutdown()` on a blocking thread: batch processors export what they hold, exporters shut down |

#[cfg(feature = "deadpool")]
mod deadpool_close;
#[cfg(feature = "tokio-fs")]
mod file_close;
mod join_handle;
#[cfg(feature = "lapin")]
mod lapin_close;
#[cfg(feature = "nats")]
mod nats_close;
#[cfg(feature = "opentelemetry")]
mod opentelemetry_close;
#[cfg(feature = "redis")]
mod redis_close;
#[cfg(feature = "sqlx")]
mod sqlx_close;
#[cfg(feature = "tracing-appender")]
mod tracing_appender_close;

#[cfg(feature = "tokio-fs")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio-fs")))]
pub use file_close::SyncedFile;
pub use join_handle::TaskHandle;
#[cfg(feature = "tracing-appender")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing-appender")))]
pub use tracing_appender_close::LogFlusher;

// The integrated crates, at the versions `Close` is implemented for: use them through these
// paths to be sure the types match.
#[cfg(feature = "nats")]
#[cfg_attr(docsrs, doc(cfg(feature = "nats")))]
pub use ::async_nats;
#[cfg(feature = "lapin")]
#[cfg_attr(docsrs, doc(cfg(feature = "lapin")))]
pub use ::lapin;
#[cfg(feature = "opentelemetry")]
#[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry")))]
pub use ::opentelemetry_sdk;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use ::redis;
#[cfg(feature = "sqlx")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlx")))]
pub use ::sqlx;
