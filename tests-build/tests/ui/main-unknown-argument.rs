#[graceful::main(timeout = "30s", drain_timeout = "10s")]
async fn main() {}
