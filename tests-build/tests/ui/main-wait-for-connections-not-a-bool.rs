#[graceful::main(wait_for_connections = "no")]
async fn main() {}
