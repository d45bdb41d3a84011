//! gRPC health (feature `tonic`): the standard `grpc.health.v1.Health` service reports
//! `NOT_SERVING` from the moment a shutdown starts.

use tonic_health::ServingStatus;
use tonic_health::pb::health_server::{Health, HealthServer};

use crate::shutdown::Shutdown;

/// The `grpc.health.v1.Health` service of this process: `SERVING` while running,
/// `NOT_SERVING` from the moment a shutdown starts (readiness turns false), for the overall
/// status (`""`) and for each name in `services`.
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
/// registered as `SERVING` by that task, so a check in the first instant may answer
/// `NOT_FOUND` for them.
pub fn grpc_health(shutdown: &Shutdown, services: &[&str]) -> HealthServer<impl Health> {
    let (reporter, server) = tonic_health::server::health_reporter();
    let names: Vec<String> = services.iter().map(|s| s.to_string()).collect();
    let requested = shutdown.requested();
    tokio::spawn(async move {
        for name in &names {
            reporter
                .set_service_status(name, ServingStatus::Serving)
                .await;
        }
        requested.await;
        reporter
            .set_service_status("", ServingStatus::NotServing)
            .await;
        for name in &names {
            reporter
                .set_service_status(name, ServingStatus::NotServing)
                .await;
        }
        tracing::debug!(target: "graceful::http", "gRPC health: NOT_SERVING");
    });
    server
}
