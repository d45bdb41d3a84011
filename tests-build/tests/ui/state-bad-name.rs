#[graceful::state(name = "jobs/2024")]
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Jobs {
    pending: Vec<u64>,
}

fn main() {}
