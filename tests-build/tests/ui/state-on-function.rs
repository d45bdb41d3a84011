#[graceful::state(name = "jobs")]
fn jobs() -> Vec<u64> {
    Vec::new()
}

fn main() {}
