//! gRPC health (feature `tonic`): the standard `grpc.health.v1.Health` service follows
//! [`Shutdown::readiness`]: `NOT_SERVING` until start-up finishes, while the program holds
//! readiness down, and from the moment a shutdown starts.

use tonic_health::ServingStatus;
use tonic_health::pb::health_server::{Health, HealthServer};

use crate::shutdown::Shutdown;

/// The `grpc.health.v1.Health` service of this process: `SERVING` while
/// [`Shutdown::is_ready`], `NOT_SERVING` otherwise — until start-up finishes, while a
/// [`Shutdown::not_ready`] hold is held, and from the moment a shutdown starts — for the
/// overall status (`""`) and for each name in `services`.
///
/// Serve it next to your services with [`serve`](crate::http::serve), which speaks HTTP/2
/// (h2c) and drains with the same deadlines as any HTTP service:
///
/// ```no_run
/// # async fn demo(shutdown: graceful::Shutdown) -> std::io::Result<()> {
/// let health = graceful::http::grpc_health(&shutdown, &["my.package.MyService"]);
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:50051").await?;
/// // With more services: tonic::service::Routes::new(health).add_service(my_service)
/// graceful::http::serve(listener, health, &shutdown).await
/// # }
/// # fn main() { let _ = demo; }
/// ```
///
/// Call it inside a tokio runtime: a task updates the statuses. Names in `services` are
/// registered by that task, so a check in the first instant may answer
/// `NOT_FOUND` for them.
pub fn grpc_health(shutdown: &Shutdown, services: &[&str]) -> HealthServer<impl Health> {
    let (reporter, server) = tonic_health::server::health_reporter();
    let names: Vec<String> = services.iter().map(|s| s.to_string()).collect();
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        let mut holds = shutdown.readiness_changes();
        loop {
            holds.borrow_and_update();
            let status = if shutdown.is_ready() {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            reporter.set_service_status("", status).await;
            for name in &names {
                reporter.set_service_status(name, status).await;
            }
            tracing::debug!(target: "graceful::http", ?status, "gRPC health");
            if shutdown.is_shutting_down() {
                return;
            }
            tokio::select! {
                changed = holds.changed() => if changed.is_err() { return },
                _ = shutdown.started(), if !shutdown.is_started() => {}
                _ = shutdown.requested() => {}
            }
        }
    });
    server
}
