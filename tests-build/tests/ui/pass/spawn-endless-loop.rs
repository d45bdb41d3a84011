//! A tracked task that never returns (`loop { interval.tick().await; … }`): under edition 2024
//! its output is `!`, and `Shutdown::spawn` accepts it as `tokio::spawn` does.

use std::time::Duration;

use graceful::Shutdown;

fn ticker(shutdown: &Shutdown) -> tokio::task::JoinHandle<impl Send + 'static> {
    shutdown.spawn("ticker", async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        loop {
            every.tick().await;
        }
    })
}

fn builder_ticker(shutdown: &Shutdown) -> tokio::task::JoinHandle<impl Send + 'static> {
    shutdown.task("ticker").fatal(false).spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        loop {
            every.tick().await;
        }
    })
}

#[graceful::main(flavor = "current_thread")]
async fn main(shutdown: Shutdown) {
    // On the current thread the tasks do not start before they are aborted.
    ticker(&shutdown).abort();
    builder_ticker(&shutdown).abort();
}
