#[graceful::state]
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Jobs<T> {
    pending: Vec<T>,
}

fn main() {}
