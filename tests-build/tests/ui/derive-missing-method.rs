struct Cache;

#[derive(graceful::Close)]
struct Store {
    #[close(method = "persist")]
    cache: Cache,
}

fn main() {}
