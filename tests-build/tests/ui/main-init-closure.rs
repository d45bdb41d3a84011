#[graceful::main(init = || println!("hi"))]
async fn main() {}
