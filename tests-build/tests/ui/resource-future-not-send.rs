use std::rc::Rc;

struct Pool;

async fn connect() {}

#[graceful::resource(priority = 10)]
async fn pool() -> Pool {
    let counter = Rc::new(0);
    connect().await;
    drop(counter);
    Pool
}

fn main() {}
