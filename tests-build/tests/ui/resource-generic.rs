#[graceful::resource(priority = 10)]
fn pool<T: Default + Send + Sync + 'static>() -> T {
    T::default()
}

fn main() {}
