struct Cache;

#[derive(graceful::Close)]
struct Store {
    #[close(skipp)]
    cache: Cache,
}

fn main() {}
