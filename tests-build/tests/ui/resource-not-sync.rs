use std::cell::RefCell;

struct Counter(RefCell<u32>);

#[graceful::resource(priority = 10)]
fn counter() -> std::io::Result<Counter> {
    Ok(Counter(RefCell::new(0)))
}

fn main() {}
