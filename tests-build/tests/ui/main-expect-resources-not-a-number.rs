#[graceful::main(expect_resources = "three")]
async fn main() {}
