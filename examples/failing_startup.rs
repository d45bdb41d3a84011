//! # failing_startup — a constructor that fails
//!
//! The database builds, then the message broker cannot connect. Start-up stops there: the
//! database (the only thing built) is closed, the broker never runs, and the process exits
//! with `graceful::exit::STARTUP_FAILED` (70) after an error that names the resource and the
//! file and line of its constructor.
//!
//! Run it with `cargo run --example failing_startup`; nothing to press. `echo $?` prints 70.

use std::time::Duration;

/// A connection pool that starts fine.
pub struct Database;

impl Database {
    fn close(&self) {
        println!("database: closed");
    }
}

/// A broker client whose connection is refused.
pub struct Broker;

#[graceful::resource(priority = 100, close = "close")]
fn database() -> Database {
    println!("database: connected");
    Database
}

#[graceful::resource(priority = 50)]
async fn broker() -> Result<Broker, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(10)).await;
    Err(std::io::Error::new(
        std::io::ErrorKind::ConnectionRefused,
        "amqp://127.0.0.1:5999: connection refused",
    ))
}

#[graceful::main]
async fn main() {
    println!("main: never printed, because start-up failed");
}
