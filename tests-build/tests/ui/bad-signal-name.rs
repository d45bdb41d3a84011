#[graceful::main(signals = ["SIGTERM", "SIGTREM"])]
async fn main() {}
