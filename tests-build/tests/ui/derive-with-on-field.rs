struct Cache;

impl Cache {
    fn flush(&self) {}
}

#[derive(graceful::Close)]
struct Store {
    #[close(with = "flush")]
    cache: Cache,
}

fn main() {}
