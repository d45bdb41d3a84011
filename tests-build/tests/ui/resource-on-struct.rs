#[graceful::resource(priority = 10)]
struct Pool {
    size: usize,
}

fn main() {
    let _ = Pool { size: 1 }.size;
}
