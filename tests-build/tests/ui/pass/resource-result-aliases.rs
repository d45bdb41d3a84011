//! A fallible constructor is recognised by its type, whatever its return type is called:
//! `io::Result<T>`, and an alias of the user's own, register `T`.

use graceful::Res;

#[derive(Debug)]
struct StoreError;

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("store unavailable")
    }
}

impl std::error::Error for StoreError {}

/// An alias such as `redis::RedisResult<T>` or `sqlx::Result<T>`.
type StoreResult<T> = Result<T, StoreError>;

/// The same, under a name that does not end in `Result`.
type Fallible<T> = std::result::Result<T, std::io::Error>;

struct Settings;
struct Store;
struct Index;
struct Search;

#[graceful::resource(priority = 40)]
fn settings() -> std::io::Result<Settings> {
    Ok(Settings)
}

#[graceful::resource(priority = 30)]
async fn store(_settings: Res<Settings>) -> StoreResult<Store> {
    Ok(Store)
}

#[graceful::resource(priority = 20)]
async fn index(_store: Res<Store>) -> Fallible<Index> {
    Ok(Index)
}

#[graceful::resource(priority = 10)]
fn search(_index: Res<Index>) -> Search {
    Search
}

#[graceful::main(flavor = "current_thread")]
async fn main() -> Result<(), graceful::GetError> {
    graceful::get::<Settings>()?;
    graceful::get::<Store>()?;
    graceful::get::<Index>()?;
    graceful::get::<Search>()?;
    Ok(())
}
