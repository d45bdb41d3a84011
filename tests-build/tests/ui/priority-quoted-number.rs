struct Pool;

#[graceful::resource(priority = "10")]
fn pool() -> Pool {
    Pool
}

fn main() {}
