struct Db;
struct Cache;

#[graceful::resource(priority = 20)]
fn db() -> Db {
    Db
}

#[graceful::resource(priority = 10)]
fn cache(db: &Db) -> Cache {
    let _ = db;
    Cache
}

fn main() {}
