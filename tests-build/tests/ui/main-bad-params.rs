#[graceful::main]
async fn main(shutdown: graceful::Shutdown, port: u16) {
    let _ = (shutdown, port);
}
