#[derive(graceful::Close)]
struct View<'a> {
    name: &'a str,
}

fn main() {}
