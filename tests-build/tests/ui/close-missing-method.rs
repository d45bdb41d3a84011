struct Pool;

impl Pool {
    fn close(&self) {}
}

#[graceful::resource(priority = 10, close = "dispose")]
fn pool() -> Pool {
    Pool
}

fn main() {}
