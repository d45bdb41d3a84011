struct Pool;

#[graceful::resource(priority = 10, name = "pool", priority = 20)]
fn pool() -> Pool {
    Pool
}

fn main() {}
