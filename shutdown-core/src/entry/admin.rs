//! The admin API the entry starts before `main` (`#[graceful::main(admin = "…")]`,
//! [`Entry::admin`](super::Entry::admin)).

use std::time::Instant;

use crate::shutdown::Shutdown;

/// Keeps the admin API alive until the process exits.
#[cfg(feature = "admin")]
pub(super) type Handle = Option<crate::admin::AdminHandle>;
/// Without the `admin` feature there is nothing to keep.
#[cfg(not(feature = "admin"))]
pub(super) type Handle = Option<()>;

/// Starts the admin API on `addr`. The address is set as the builder would, so `[admin]` in
/// the file and `GRACEFUL_ADMIN_*` still override it.
#[cfg(feature = "admin")]
pub(super) fn start(
    runtime: &tokio::runtime::Runtime,
    shutdown: &Shutdown,
    addr: Option<&str>,
) -> Result<Handle, String> {
    let Some(addr) = addr else { return Ok(None) };
    let addr: std::net::SocketAddr = addr.parse().map_err(|e| {
        format!("`admin = {addr:?}` is not a socket address ({e}); use e.g. \"127.0.0.1:9090\"")
    })?;
    let handle = runtime
        .block_on(crate::admin::Admin::builder().addr(addr).spawn(shutdown))
        .map_err(|e| format!("cannot start the admin API: {e}"))?;
    eprintln!("graceful: admin API on http://{}", handle.local_addr());
    Ok(Some(handle))
}

/// Keeps the admin API answering for its configured `linger` after the shutdown (`[admin]
/// linger`, `GRACEFUL_ADMIN_LINGER`), so that a client polling the status reads `STOPPED`;
/// never past `deadline`, the process's own.
#[cfg(feature = "admin")]
pub(super) fn linger(runtime: &tokio::runtime::Runtime, admin: &Handle, deadline: Instant) {
    if let Some(admin) = admin {
        let left = deadline.saturating_duration_since(Instant::now());
        runtime.block_on(async {
            let _ = tokio::time::timeout(left, admin.linger()).await;
        });
    }
}

/// Without the `admin` feature there is no API to keep.
#[cfg(not(feature = "admin"))]
pub(super) fn linger(_runtime: &tokio::runtime::Runtime, _admin: &Handle, _deadline: Instant) {}

/// Without the `admin` feature, asking for the admin API is a start-up error that says how
/// to get it.
#[cfg(not(feature = "admin"))]
pub(super) fn start(
    _runtime: &tokio::runtime::Runtime,
    _shutdown: &Shutdown,
    addr: Option<&str>,
) -> Result<Handle, String> {
    match addr {
        None => Ok(None),
        Some(addr) => Err(format!(
            "`admin = {addr:?}` needs graceful's `admin` feature: \
             graceful = {{ version = \"0.1\", features = [\"admin\"] }}"
        )),
    }
}
