//! gRPC health (feature `tonic`): the standard `grpc.health.v1.Health` service follows
//! [`Shutdown::readiness`], and its `Watch` streams end when the drain starts.
//!
//! The status is computed from the engine, not pushed into a table: `SERVING` while
//! [`Shutdown::is_ready`], `NOT_SERVING` otherwise, and it stays `NOT_SERVING` from the
//! trigger on, for every name (readiness never comes back once a shutdown started, so the
//! status is frozen, as gRPC's own servers do when they go away). A `Watch` sends the status
//! at once and at every change. When the drain starts ([`Phase::DrainingConnections`]) it
//! sends `NOT_SERVING` if that was not the last message, then ends with status `OK`: a client
//! doing client-side health checking fails over, and the HTTP/2 connection, which received
//! GOAWAY, has no stream left to wait for, so the drain ends without waiting for
//! `drain_timeout`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use tokio::sync::watch;
use tonic::{Request, Response, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_server::{Health, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

use crate::phase::Phase;
use crate::shutdown::Shutdown;

/// The `grpc.health.v1.Health` service of this process: `SERVING` while
/// [`Shutdown::is_ready`], `NOT_SERVING` otherwise — until start-up finishes, while a
/// [`Shutdown::not_ready`] hold is held, and from the moment a shutdown starts — for the
/// overall status (`""`) and for each name in `services`. `Check` of another name answers
/// `NOT_FOUND`; `Watch` of another name sends `SERVICE_UNKNOWN`, as the protocol says.
///
/// A `Watch` (what gRPC's client-side health checking keeps open on every connection) gets
/// `NOT_SERVING` at the trigger, and when the drain starts the stream ends with status `OK`,
/// so the client moves to another server and the drain does not wait for the stream.
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
pub fn grpc_health(shutdown: &Shutdown, services: &[&str]) -> HealthServer<impl Health> {
    HealthServer::new(ReadinessHealth {
        shutdown: shutdown.clone(),
        services: services.iter().map(|s| s.to_string()).collect(),
    })
}

/// `grpc.health.v1.Health` answered from the engine's readiness.
struct ReadinessHealth {
    shutdown: Shutdown,
    /// The names answered besides the overall status `""`.
    services: Arc<[String]>,
}

impl ReadinessHealth {
    fn knows(&self, service: &str) -> bool {
        service.is_empty() || self.services.iter().any(|s| s == service)
    }
}

#[tonic::async_trait]
impl Health for ReadinessHealth {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        let service = &request.get_ref().service;
        if !self.knows(service) {
            return Err(Status::not_found(format!(
                "no health status for service `{service}`; this server reports the overall \
                 status (\"\") and {:?}",
                self.services
            )));
        }
        Ok(Response::new(response(status(&self.shutdown, true))))
    }

    type WatchStream = WatchStream;

    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<WatchStream>, Status> {
        let watcher = Watcher {
            known: self.knows(&request.get_ref().service),
            holds: self.shutdown.readiness_changes(),
            phase: self.shutdown.phase(),
            shutdown: self.shutdown.clone(),
            sent: None,
        };
        Ok(Response::new(WatchStream {
            next: Some(Box::pin(watcher.next())),
        }))
    }
}

/// The status of a service this server reports (`known`), or `SERVICE_UNKNOWN`.
fn status(shutdown: &Shutdown, known: bool) -> ServingStatus {
    match (known, shutdown.is_ready()) {
        (false, _) => ServingStatus::ServiceUnknown,
        (true, true) => ServingStatus::Serving,
        (true, false) => ServingStatus::NotServing,
    }
}

fn response(status: ServingStatus) -> HealthCheckResponse {
    HealthCheckResponse {
        status: status as i32,
    }
}

/// What one `Watch` call has sent, and what it waits on.
struct Watcher {
    shutdown: Shutdown,
    known: bool,
    holds: watch::Receiver<u64>,
    phase: watch::Receiver<Phase>,
    sent: Option<ServingStatus>,
}

impl Watcher {
    /// The next status to send, or `None` when the stream ends: the drain has started and
    /// the last status sent is the frozen one.
    async fn next(mut self) -> Option<(ServingStatus, Watcher)> {
        loop {
            self.holds.borrow_and_update();
            let draining = *self.phase.borrow_and_update() >= Phase::DrainingConnections;
            let now = status(&self.shutdown, self.known);
            if self.sent != Some(now) {
                self.sent = Some(now);
                return Some((now, self));
            }
            if draining {
                return None;
            }
            let shutdown = self.shutdown.clone();
            let changed = tokio::select! {
                changed = self.holds.changed() => changed.is_ok(),
                changed = self.phase.changed() => changed.is_ok(),
                // Start-up finishing and the trigger move readiness without a phase change.
                () = shutdown.started(), if !shutdown.is_started() => true,
                () = shutdown.requested(), if !shutdown.is_shutting_down() => true,
            };
            if !changed {
                // The engine is gone: nothing will change or drain any more.
                return None;
            }
        }
    }
}

type Next = Pin<Box<dyn Future<Output = Option<(ServingStatus, Watcher)>> + Send>>;

/// The response stream of `Watch`: the status now, then each change, until the drain.
struct WatchStream {
    /// `None` once the stream has ended.
    next: Option<Next>,
}

impl std::fmt::Debug for WatchStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchStream")
            .field("ended", &self.next.is_none())
            .finish()
    }
}

impl Stream for WatchStream {
    type Item = Result<HealthCheckResponse, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let Some(next) = self.next.as_mut() else {
            return Poll::Ready(None);
        };
        match next.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some((status, watcher))) => {
                tracing::debug!(target: "graceful::http", ?status, "gRPC health watch");
                self.next = Some(Box::pin(watcher.next()));
                Poll::Ready(Some(Ok(response(status))))
            }
            Poll::Ready(None) => {
                self.next = None;
                Poll::Ready(None)
            }
        }
    }
}
