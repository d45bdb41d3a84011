//! `#[graceful::state]` implements `Snapshot` with the type's name in snake case and version 1.

use graceful::state::Snapshot;

#[graceful::state]
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct JobQueue {
    pending: Vec<u64>,
}

#[graceful::state(name = "timers", version = 3, priority = 500)]
#[derive(Default, serde::Serialize, serde::Deserialize)]
enum Timers {
    #[default]
    None,
}

fn main() {
    assert_eq!(JobQueue::NAME, "job_queue");
    assert_eq!(JobQueue::VERSION, 1);
    assert_eq!(Timers::NAME, "timers");
    assert_eq!(Timers::VERSION, 3);
}
