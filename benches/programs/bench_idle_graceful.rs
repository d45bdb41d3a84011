//! The graceful side of the idle-shutdown benchmark (`benches/idle_shutdown.rs`): a program
//! with 100 registered no-op resources in 10 priority classes, built with
//! `Graceful::builder()` on a multi-thread runtime (what `#[graceful::main]` builds). It
//! prints `ready` once every resource is built and the signal handlers are installed, then
//! waits; SIGTERM walks every phase and closes the 100 resources.
//!
//! ```text
//! cargo run -p graceful-benches --release --bin bench_idle_graceful   # then: kill -TERM <pid>
//! ```

use std::io::Write;
use std::process::ExitCode;

use graceful::{Graceful, GracefulBuilder, Resource};

/// Declares one no-op resource type per name and a function registering all of them.
macro_rules! resources {
    ($($name:ident)*) => {
        $(
            #[allow(dead_code)] // the value only has to exist
            struct $name(u32);
        )*

        fn register(mut builder: GracefulBuilder) -> GracefulBuilder {
            let mut i = 0_i32;
            $(
                builder = builder.resource(Resource::from_value(
                    stringify!($name),
                    i % 10,
                    $name(i as u32),
                ));
                i += 1;
            )*
            let _ = i;
            builder
        }
    };
}

resources! {
    R00 R01 R02 R03 R04 R05 R06 R07 R08 R09 R10 R11 R12 R13 R14 R15 R16 R17 R18 R19
    R20 R21 R22 R23 R24 R25 R26 R27 R28 R29 R30 R31 R32 R33 R34 R35 R36 R37 R38 R39
    R40 R41 R42 R43 R44 R45 R46 R47 R48 R49 R50 R51 R52 R53 R54 R55 R56 R57 R58 R59
    R60 R61 R62 R63 R64 R65 R66 R67 R68 R69 R70 R71 R72 R73 R74 R75 R76 R77 R78 R79
    R80 R81 R82 R83 R84 R85 R86 R87 R88 R89 R90 R91 R92 R93 R94 R95 R96 R97 R98 R99
}

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let graceful = register(Graceful::builder())
        .process_owner(true)
        .build()
        .expect("valid configuration");
    let outcome = runtime.block_on(graceful.run(|shutdown| async move {
        ready();
        shutdown.requested().await;
    }));
    outcome.exit_code()
}

/// Tells the harness that the program is ready for its signal.
fn ready() {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "ready");
    let _ = out.flush();
}
