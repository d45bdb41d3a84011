struct Pool;

#[graceful::resource(priority = "high")]
fn pool() -> Pool {
    Pool
}

fn main() {}
