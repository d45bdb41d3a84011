#[graceful::resource(priority = 10)]
async fn warm_up() {}

fn main() {}
