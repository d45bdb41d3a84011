//! Start-up: builds every resource in descending priority.

use std::any::TypeId;
use std::future::Future;

use crate::error::{Location, LocationText, StartupError};
use crate::resource::{CloseFn, CloseKind, ResourceSpec};
use crate::shutdown::Shutdown;

use super::graph;

/// A resource that was built: what the close phase needs.
pub(crate) struct Built {
    pub(crate) name: String,
    pub(crate) type_name: &'static str,
    pub(crate) type_id: TypeId,
    pub(crate) priority: i32,
    pub(crate) location: Option<Location>,
    pub(crate) close: Option<CloseFn>,
    pub(crate) close_kind: CloseKind,
    pub(crate) needs_drop: bool,
}

/// Why start-up stopped, and what had been built by then (to be closed).
pub(crate) struct StartupFailure {
    pub(crate) error: Option<StartupError>,
    pub(crate) built: Vec<Built>,
}

/// Builds the resources. Stops at the first failure, or when a shutdown is requested during
/// start-up, returning what was built so it can be closed.
pub(crate) async fn build_all(
    shutdown: &Shutdown,
    mut specs: Vec<ResourceSpec>,
) -> Result<Vec<Built>, StartupFailure> {
    if let Err(error) = graph::validate(&specs) {
        return Err(StartupFailure {
            error: Some(error),
            built: Vec::new(),
        });
    }
    graph::build_order(&mut specs);
    let resources = shutdown.resources().clone();
    for spec in &specs {
        resources.declare(spec.type_id, &spec.name, spec.type_name, spec.priority);
    }
    let mut built = Vec::with_capacity(specs.len());
    for spec in specs {
        let ResourceSpec {
            name,
            type_name,
            type_id,
            priority,
            location,
            build,
            close,
            close_kind,
            needs_drop,
            ..
        } = spec;
        let began = tokio::time::Instant::now();
        let mut task = tokio::spawn(build(resources.clone()));
        let (result, stop) = tokio::select! {
            // A constructor that has finished is kept (and so closed), even if the shutdown
            // was requested at the same moment.
            biased;
            r = &mut task => (r, false),
            _ = shutdown.requested() => {
                tracing::warn!(target: "graceful::startup", resource = %name, "shutdown requested during start-up; not building the rest");
                // Cancelled, so that no value is built that nobody would close; one that
                // already finished is kept and closed. Not awaited: a constructor that blocks
                // its thread must not hold up the shutdown.
                task.abort();
                let done = std::future::poll_fn(|cx| {
                    std::task::Poll::Ready(std::pin::Pin::new(&mut task).poll(cx))
                })
                .await;
                match done {
                    std::task::Poll::Ready(r) => (r, true),
                    std::task::Poll::Pending => return Err(StartupFailure { error: None, built }),
                }
            }
        };
        let error = match result {
            Ok(Ok(value)) => {
                resources.insert(type_id, value);
                tracing::info!(target: "graceful::startup", resource = %name, priority, took = %crate::took::Took(began.elapsed()), "resource built");
                built.push(Built {
                    name,
                    type_name,
                    type_id,
                    priority,
                    location,
                    close,
                    close_kind,
                    needs_drop,
                });
                if stop {
                    return Err(StartupFailure { error: None, built });
                }
                continue;
            }
            _ if stop => return Err(StartupFailure { error: None, built }),
            Ok(Err(e)) => e,
            Err(join) => format!(
                "constructor panicked: {}",
                crate::describe::panic_message(join)
            )
            .into(),
        };
        return Err(StartupFailure {
            error: Some(StartupError::Constructor {
                name,
                location: LocationText(location),
                source: error,
            }),
            built,
        });
    }
    Ok(built)
}
