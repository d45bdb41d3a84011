struct Cache;

impl Cache {
    fn flush(&self) {}
}

#[derive(graceful::Close)]
struct Store {
    #[close(skip, method = "flush")]
    cache: Cache,
}

fn main() {}
