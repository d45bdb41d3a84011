struct Pool;
struct NotAnError;

/// An alias of `Result` whose error is not an error: the message names the error type.
type PoolResult<T> = Result<T, NotAnError>;

#[graceful::resource(priority = 10)]
fn pool() -> PoolResult<Pool> {
    Ok(Pool)
}

fn main() {}
