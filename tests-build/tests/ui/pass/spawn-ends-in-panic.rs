//! A tracked task whose body ends in `panic!`: under edition 2024 its output is `!`, and
//! `Shutdown::spawn` accepts it as `tokio::spawn` does.

use graceful::Shutdown;

fn worker(shutdown: &Shutdown) -> tokio::task::JoinHandle<impl Send + 'static> {
    shutdown.spawn("worker", async move {
        let jobs: Vec<u32> = Vec::new();
        for job in jobs {
            let _ = job;
        }
        panic!("the worker's queue closed")
    })
}

fn builder_worker(shutdown: &Shutdown) -> tokio::task::JoinHandle<impl Send + 'static> {
    shutdown.task("worker").fatal(false).spawn(async move {
        unimplemented!("not written yet")
    })
}

#[graceful::main(flavor = "current_thread")]
async fn main(shutdown: Shutdown) {
    // On the current thread the tasks do not start before they are aborted.
    worker(&shutdown).abort();
    builder_worker(&shutdown).abort();
}
