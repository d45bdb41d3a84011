//! # derive_close — close a value field by field with `#[derive(graceful::Close)]`
//!
//! Three resources built by `#[graceful::resource]` constructors, each closed by a derived
//! `Close` impl: a `Store` whose fields close in declaration order (one by its own `Close`
//! impl, one through `#[close(method = "flush")]`, one left alone with `#[close(skip)]`), an
//! `Uploader` enum that closes only the variant it holds, and a `Peers` client whose whole
//! close is one method (`#[close(with = "goodbye")]`). Resources close in ascending
//! priority: `peers` (10), then `uploader` (50), then `store` (100), which the others use.
//!
//! Run it with `cargo run --example derive_close`, wait for the `ready` line, then press
//! Ctrl-C (or run `kill -TERM <pid>` from another terminal). Every close is printed in the
//! order it happens, and the process exits 0.

use std::sync::Arc;

use graceful::{Close, Res, Shutdown};

/// A search index with a hand-written `Close` impl.
struct Index {
    documents: usize,
}

impl Close for Index {
    async fn close(&self) -> Result<(), graceful::BoxError> {
        tokio::task::yield_now().await;
        println!("close: store.index saved {} documents", self.documents);
        Ok(())
    }
}

/// A write-ahead log.
struct Wal {
    path: &'static str,
}

impl Close for Wal {
    async fn close(&self) -> Result<(), graceful::BoxError> {
        println!("close: store.wal synced {}", self.path);
        Ok(())
    }
}

/// An in-memory cache with a synchronous `flush` and no `Close` impl.
struct Cache {
    dirty: usize,
}

impl Cache {
    fn flush(&self) -> Result<(), std::io::Error> {
        println!("close: store.cache flushed {} dirty entries", self.dirty);
        Ok(())
    }
}

/// The storage layer, closed field by field in declaration order.
#[derive(Close)]
struct Store {
    index: Index,
    wal: Wal,
    #[close(method = "flush")]
    cache: Cache,
    /// Shared with a reporting task that closes it itself.
    #[close(skip)]
    #[allow(dead_code)]
    audit: Arc<Wal>,
    /// Not `Close`: left alone, dropped with the store.
    name: String,
}

/// A background upload queue.
struct Queue {
    pending: usize,
}

impl Close for Queue {
    async fn close(&self) -> Result<(), graceful::BoxError> {
        println!(
            "close: uploader.queue drained {} pending uploads",
            self.pending
        );
        Ok(())
    }
}

/// Uploads are optional; only the active variant's fields are closed.
#[derive(Close)]
#[allow(dead_code)]
enum Uploader {
    Disabled,
    Enabled { queue: Queue, target: String },
}

/// Connections to peers, closed by one method that says goodbye to all of them.
#[derive(Close)]
#[close(with = "goodbye")]
struct Peers {
    count: usize,
}

impl Peers {
    async fn goodbye(&self) -> Result<(), std::io::Error> {
        tokio::task::yield_now().await;
        println!("close: peers said goodbye to {} peers", self.count);
        Ok(())
    }
}

#[graceful::resource(priority = 100)]
async fn store() -> Store {
    Store {
        index: Index { documents: 1200 },
        wal: Wal {
            path: "data/wal.log",
        },
        cache: Cache { dirty: 3 },
        audit: Arc::new(Wal {
            path: "data/audit.log",
        }),
        name: "main".to_string(),
    }
}

#[graceful::resource(priority = 50)]
fn uploader(store: Res<Store>) -> Uploader {
    Uploader::Enabled {
        queue: Queue { pending: 2 },
        target: format!("s3://backups/{}", store.name),
    }
}

#[graceful::resource(priority = 10)]
fn peers() -> Peers {
    Peers { count: 4 }
}

#[graceful::main(timeout = "10s", drain = "2s", signals = ["SIGTERM", "SIGINT"])]
async fn main(shutdown: Shutdown) {
    let pid = std::process::id();
    println!("ready (pid {pid}): press Ctrl-C or run `kill -TERM {pid}`");
    shutdown.requested().await;
    println!("shutdown requested: closing peers (10), uploader (50), store (100)");
}
