#[graceful::main(timeout = "10s", drain = "1m")]
async fn main() {}
