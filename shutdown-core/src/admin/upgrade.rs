//! `POST /upgrade`: an in-place upgrade, answered once the successor is ready or failed.

use std::net::SocketAddr;

use http::{Response, StatusCode};

use super::envelope::{ApiError, Body};
use crate::shutdown::Shutdown;

#[cfg(all(feature = "upgrade", unix))]
pub(super) async fn upgrade(
    shutdown: &Shutdown,
    peer: SocketAddr,
    id: &str,
) -> Result<Response<Body>, ApiError> {
    use super::envelope;
    use crate::upgrade::UpgradeError;
    use serde_json::json;
    tracing::info!(target: "graceful::admin", %peer, request_id = %id, "upgrade requested");
    match crate::upgrade::upgrade(shutdown).await {
        Ok(successor) => Ok(envelope::ok(
            StatusCode::OK,
            json!({
                "successor_pid": successor.pid,
                "pid": std::process::id(),
                "ready_after_seconds": successor.ready_after.as_secs_f64(),
                "message": format!("pid {} is serving; this process drains and exits", successor.pid),
            }),
            id,
        )),
        Err(e) => {
            let (status, code) = match &e {
                UpgradeError::InProgress { .. } => (StatusCode::CONFLICT, "UPGRADE_IN_PROGRESS"),
                UpgradeError::ShuttingDown => (StatusCode::CONFLICT, "SHUTTING_DOWN"),
                UpgradeError::Unavailable { .. } => (StatusCode::CONFLICT, "UPGRADE_UNAVAILABLE"),
                _ => (StatusCode::BAD_GATEWAY, "UPGRADE_FAILED"),
            };
            Err(ApiError::new(status, code, e.to_string()).details(json!({
                "successor_pid": e.successor(),
                "exit_status": e.exit_status(),
                "stderr": e.stderr(),
                "still_serving": std::process::id(),
            })))
        }
    }
}

#[cfg(not(all(feature = "upgrade", unix)))]
pub(super) async fn upgrade(
    _shutdown: &Shutdown,
    _peer: SocketAddr,
    _id: &str,
) -> Result<Response<Body>, ApiError> {
    Err(ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "UPGRADE_UNAVAILABLE",
        "this build has no in-place upgrades: enable graceful's `upgrade` feature (Unix)",
    ))
}
