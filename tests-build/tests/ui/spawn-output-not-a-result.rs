async fn count(shutdown: graceful::Shutdown) {
    shutdown.spawn("count", async { 42_u64 });
}

fn main() {}
