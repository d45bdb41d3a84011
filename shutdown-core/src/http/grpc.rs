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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;
    use crate::Graceful;

    use ServingStatus::{NotServing, ServiceUnknown, Serving};

    async fn next(stream: &mut WatchStream) -> Option<ServingStatus> {
        let item = tokio::time::timeout(
            Duration::from_secs(60),
            std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)),
        )
        .await
        .expect("a message or the end within the hang guard")?;
        let status = item.expect("no error").status;
        Some(ServingStatus::try_from(status).expect("a status"))
    }

    async fn watch(health: &ReadinessHealth, service: &str) -> WatchStream {
        let request = Request::new(HealthCheckRequest {
            service: service.into(),
        });
        health.watch(request).await.expect("Watch").into_inner()
    }

    async fn check(health: &ReadinessHealth, service: &str) -> Result<ServingStatus, Status> {
        let request = Request::new(HealthCheckRequest {
            service: service.into(),
        });
        let status = health.check(request).await?.into_inner().status;
        Ok(ServingStatus::try_from(status).expect("a status"))
    }

    /// One Watch across a readiness hold and a shutdown, and the answers during the drain
    /// (`main` is tracked, so the drain lasts until it returns).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn watch_follows_readiness_then_ends_at_the_drain_and_stays_not_serving() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let outcome = Graceful::builder()
            .signals([])
            .drain_timeout(Duration::from_secs(30))
            .build()
            .expect("build")
            .run(move |shutdown| async move {
                let record = |what: &'static str, got| log.lock().expect("log").push((what, got));
                let health = ReadinessHealth {
                    shutdown: shutdown.clone(),
                    services: Arc::from(vec!["a.B".to_string()]),
                };
                let mut open = watch(&health, "").await;
                let mut unknown = watch(&health, "no.Such").await;
                record("ready", next(&mut open).await);
                record("unknown", next(&mut unknown).await);
                let hold = shutdown.not_ready("warming");
                record("held", next(&mut open).await);
                drop(hold);
                record("released", next(&mut open).await);
                shutdown.trigger("test");
                record("trigger", next(&mut open).await);
                shutdown.drain_started().await;
                record("drain", next(&mut open).await);
                record("unknown at the drain", next(&mut unknown).await);
                record("check during the drain", check(&health, "a.B").await.ok());
                let mut late = watch(&health, "").await;
                record("new watch", next(&mut late).await);
                record("new watch then", next(&mut late).await);
            })
            .await;
        assert_eq!(
            outcome.report.result,
            Phase::Completed,
            "{}",
            outcome.report
        );
        assert_eq!(
            *seen.lock().expect("log"),
            [
                ("ready", Some(Serving)),
                ("unknown", Some(ServiceUnknown)),
                ("held", Some(NotServing)),
                ("released", Some(Serving)),
                ("trigger", Some(NotServing)),
                ("drain", None),
                ("unknown at the drain", None),
                ("check during the drain", Some(NotServing)),
                ("new watch", Some(NotServing)),
                ("new watch then", None),
            ]
        );
    }

    #[tokio::test]
    async fn check_of_an_unknown_name_lists_the_known_ones() {
        let shutdown = Graceful::builder().build().expect("build").shutdown();
        let health = ReadinessHealth {
            shutdown,
            services: Arc::from(vec!["a.B".to_string()]),
        };
        let e = check(&health, "no.Such").await.expect_err("unknown");
        assert_eq!(e.code(), tonic::Code::NotFound);
        assert!(e.message().contains("`no.Such`"), "{e:?}");
        assert!(e.message().contains("a.B"), "{e:?}");
    }
}
