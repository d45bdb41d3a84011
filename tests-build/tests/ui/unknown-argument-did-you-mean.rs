struct Pool;

#[graceful::resource(priorty = 10)]
fn pool() -> Pool {
    Pool
}

fn main() {}
