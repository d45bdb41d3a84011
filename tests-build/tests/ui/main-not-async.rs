#[graceful::main]
fn main() {}
