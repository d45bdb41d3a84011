struct Pool;
struct NotAnError;

#[graceful::resource(priority = 10)]
fn pool() -> Result<Pool, NotAnError> {
    Ok(Pool)
}

fn main() {}
