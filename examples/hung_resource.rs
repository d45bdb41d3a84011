//! # hung_resource — a close that never finishes
//!
//! A resource's close hangs. The engine waits `close_timeout` (1 s) for it, records it as
//! timed out, closes the next priority class anyway, and finishes as `Forced`: the process
//! exits with `graceful::exit::FORCED` (124), well before the overall `timeout` (5 s), and the
//! report names the resource that hung.
//!
//! Run it with `cargo run --example hung_resource`, wait for `ready`, press Ctrl-C;
//! `echo $?` prints 124.

/// A client whose goodbye never returns.
pub struct StuckClient;

impl StuckClient {
    async fn goodbye(&self) {
        println!("stuck client: saying goodbye (this never ends)");
        std::future::pending::<()>().await;
    }
}

/// Closed after the stuck client, on time.
pub struct Database;

impl Database {
    fn close(&self) {
        println!("database: closed");
    }
}

#[graceful::resource(priority = 100, close = "close")]
fn database() -> Database {
    Database
}

#[graceful::resource(priority = 10, close = "goodbye")]
fn stuck_client() -> StuckClient {
    StuckClient
}

#[graceful::main(timeout = "5s", drain = "2s", close_timeout = "1s")]
async fn main(shutdown: graceful::Shutdown) {
    println!("ready: press Ctrl-C");
    shutdown.requested().await;
    // When the shutdown is forced, graceful prints what missed its deadline on stderr.
}
