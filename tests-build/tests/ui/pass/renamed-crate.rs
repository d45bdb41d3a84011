//! `crate = "…"` on every macro, with `graceful` only reachable under another name.

extern crate graceful as gr;

struct Conn;

impl gr::Close for Conn {
    async fn close(&self) -> Result<(), gr::BoxError> {
        Ok(())
    }
}

#[derive(gr::Close)]
#[close(crate = "gr")]
struct Pool {
    conn: Conn,
}

#[gr::resource(priority = 1, crate = "gr")]
fn pool() -> Pool {
    Pool { conn: Conn }
}

#[gr::main(crate = "::gr", flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    assert!(
        gr::get::<Pool>().is_ok(),
        "the renamed-crate resource is registered"
    );
    std::process::ExitCode::SUCCESS
}
