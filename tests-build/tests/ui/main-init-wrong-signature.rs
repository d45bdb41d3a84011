// `init` runs before the runtime exists: a plain `fn()`, not an `async fn` or one that
// returns a value.
#[graceful::main(init = setup_logging)]
async fn main() {}

fn setup_logging() -> Result<(), std::io::Error> {
    Ok(())
}
