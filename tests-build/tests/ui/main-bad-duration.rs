#[graceful::main(timeout = "30x")]
async fn main() {}
