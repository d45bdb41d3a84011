//! `#[graceful::main]` with every argument, a resource, and a main that returns at once.

use graceful::{Res, Shutdown};

struct Settings {
    name: &'static str,
}

#[derive(graceful::Close)]
struct Service {
    #[close(method = "stop")]
    settings: Res<Settings>,
}

impl Settings {
    async fn stop(&self) {}
}

#[graceful::resource(priority = 10)]
fn settings() -> Settings {
    Settings { name: "pass" }
}

#[graceful::resource(priority = 5)]
async fn service(settings: Res<Settings>) -> std::io::Result<Service> {
    Ok(Service { settings })
}

#[graceful::main(
    timeout = "20s",
    drain = 5,
    close_timeout = "2s",
    readiness_delay = "0",
    signals = ["TERM", "sigint"],
    flavor = "multi_thread",
    worker_threads = 2,
)]
async fn main(shutdown: Shutdown) -> Result<(), graceful::GetError> {
    let service = graceful::get::<Service>()?;
    assert_eq!(service.settings.name, "pass");
    assert!(!shutdown.is_shutting_down());
    Ok(())
}
