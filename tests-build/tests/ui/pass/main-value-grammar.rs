//! `#[graceful::main]` reads values with the engine's grammar: decimal seconds, signal
//! numbers, and every configuration key the macro accepts.

#[graceful::main(
    timeout = 1.5,
    drain = "0.5",
    close_timeout = "250ms",
    signals = ["15", "int"],
    wait_for_connections = false
)]
async fn main(shutdown: graceful::Shutdown) {
    let config = shutdown.config();
    assert_eq!(config.timeout.value, std::time::Duration::from_millis(1500));
    assert_eq!(config.drain_timeout.value, std::time::Duration::from_millis(500));
    assert_eq!(
        config.signals.value,
        [graceful::Signal::Term, graceful::Signal::Int]
    );
    assert!(!config.wait_for_connections.value);
}
