#[graceful::state(name = "jobs", version = "2")]
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Jobs {
    pending: Vec<u64>,
}

fn main() {}
