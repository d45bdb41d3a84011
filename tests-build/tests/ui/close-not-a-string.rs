struct Pool;

impl Pool {
    fn shutdown(&self) {}
}

#[graceful::resource(priority = 10, close = shutdown)]
fn pool() -> Pool {
    Pool
}

fn main() {}
