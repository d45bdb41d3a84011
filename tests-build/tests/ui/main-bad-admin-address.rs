#[graceful::main(admin = "localhost")]
async fn main() {}
