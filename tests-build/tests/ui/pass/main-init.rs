//! `init = path` runs before the resources are built: the resource's constructor sees what
//! `init` set up.

use std::sync::atomic::{AtomicBool, Ordering};

static INIT_RAN: AtomicBool = AtomicBool::new(false);

fn setup() {
    INIT_RAN.store(true, Ordering::SeqCst);
}

pub struct Seen(bool);

#[graceful::resource]
fn seen() -> Seen {
    Seen(INIT_RAN.load(Ordering::SeqCst))
}

#[graceful::main(init = setup)]
async fn main(_shutdown: graceful::Shutdown) {
    let seen = graceful::get::<Seen>().expect("registered");
    assert!(seen.0, "init ran before the constructor");
}
