#[graceful::main(init = "setup_logging")]
async fn main() {}

fn setup_logging() {}
