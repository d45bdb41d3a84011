//! [`health_routes`]: liveness and readiness for the application's own router, at
//! `/health/live` and `/health/ready` or at paths of your choosing ([`health_routes_at`]).

use std::borrow::Cow;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json};
use axum::routing::get;

use crate::shutdown::Shutdown;

/// `/health/live` and `/health/ready`, to merge into the application's router, for services
/// that don't run the separate admin listener.
///
/// - `GET /health/live` → `200 {"status":"live","phase":…}` while the process runs.
/// - `GET /health/ready` → `200 {"status":"ready","phase":"running","reasons":[]}` when
///   [`Shutdown::readiness`] says ready; `503 {"status":"not_ready","phase":…,"reasons":[…]}`
///   while start-up runs (`"starting"`), while the program holds readiness down
///   ([`Shutdown::not_ready`], named in `reasons`), and from the moment a shutdown starts
///   (`"shutting down"`) — during `readiness_delay` the server still serves, so load balancers
///   have time to notice. The admin API and gRPC health give the same answer.
///
/// ```
/// use axum::{Router, routing::get};
///
/// # fn main() -> Result<(), graceful::ConfigError> {
/// let shutdown = graceful::Graceful::builder().build()?.shutdown();
/// let app: Router = Router::new()
///     .route("/", get(|| async { "hello" }))
///     .merge(graceful::http::health_routes(&shutdown));
/// # drop(app);
/// # Ok(())
/// # }
/// ```
pub fn health_routes<S>(shutdown: &Shutdown) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    health_routes_at(shutdown, &HealthPaths::DEFAULT)
}

/// [`health_routes`] at other paths, for example Kubernetes' own `/livez` and `/readyz`:
///
/// ```
/// use graceful::http::{HealthPaths, health_routes_at};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let shutdown = graceful::Graceful::builder().build()?.shutdown();
/// let k8s: axum::Router = health_routes_at(&shutdown, &HealthPaths::KUBERNETES);
/// let own: axum::Router = health_routes_at(&shutdown, &HealthPaths::new("/alive", "/ok")?);
/// # drop((k8s, own));
/// # Ok(())
/// # }
/// ```
pub fn health_routes_at<S>(shutdown: &Shutdown, paths: &HealthPaths) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let live = shutdown.clone();
    let ready = shutdown.clone();
    Router::new()
        .route(
            &paths.live,
            get(move || {
                let phase = live.current_phase();
                async move { Json(serde_json::json!({ "status": "live", "phase": phase })) }
            }),
        )
        .route(
            &paths.ready,
            get(move || {
                let answer = ready.readiness();
                let phase = ready.current_phase();
                async move {
                    let (code, status) = if answer.ready {
                        (StatusCode::OK, "ready")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "not_ready")
                    };
                    let body = serde_json::json!({
                        "status": status,
                        "phase": phase,
                        "reasons": answer.reasons,
                    });
                    (code, Json(body)).into_response()
                }
            }),
        )
}

/// Where [`health_routes_at`] answers liveness and readiness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthPaths {
    live: Cow<'static, str>,
    ready: Cow<'static, str>,
}

impl HealthPaths {
    /// `/health/live` and `/health/ready` (what [`health_routes`] uses).
    pub const DEFAULT: HealthPaths = HealthPaths {
        live: Cow::Borrowed("/health/live"),
        ready: Cow::Borrowed("/health/ready"),
    };

    /// `/livez` and `/readyz`, Kubernetes' own convention.
    pub const KUBERNETES: HealthPaths = HealthPaths {
        live: Cow::Borrowed("/livez"),
        ready: Cow::Borrowed("/readyz"),
    };

    /// Two route paths of your choosing: each starts with `/`, has more than that, no
    /// trailing `/`, no whitespace, `?`, `#` or `{` (no path parameters), and they differ.
    pub fn new(live: &str, ready: &str) -> Result<HealthPaths, HealthPathError> {
        let live = check_path("live", live)?;
        let ready = check_path("ready", ready)?;
        if live == ready {
            return Err(HealthPathError {
                which: "ready",
                path: ready,
                problem: "is also the liveness path; the two must differ",
            });
        }
        Ok(HealthPaths {
            live: Cow::Owned(live),
            ready: Cow::Owned(ready),
        })
    }

    /// The liveness path.
    pub fn live(&self) -> &str {
        &self.live
    }

    /// The readiness path.
    pub fn ready(&self) -> &str {
        &self.ready
    }
}

fn check_path(which: &'static str, raw: &str) -> Result<String, HealthPathError> {
    let fail = |problem| HealthPathError {
        which,
        path: raw.to_string(),
        problem,
    };
    if !raw.starts_with('/') || raw.len() < 2 {
        return Err(fail("must start with `/` and name a path, like \"/livez\""));
    }
    if raw.ends_with('/') {
        return Err(fail("must not end with `/`"));
    }
    if raw.contains(|c: char| c.is_whitespace() || matches!(c, '?' | '#' | '{' | '}')) {
        return Err(fail(
            "must be a plain path: no whitespace, query (`?`), fragment (`#`) or parameter (`{…}`)",
        ));
    }
    Ok(raw.to_string())
}

/// A health path given to [`HealthPaths::new`] that cannot be routed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("health {which} path `{path}` {problem}")]
pub struct HealthPathError {
    which: &'static str,
    path: String,
    problem: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_paths_and_explains_bad_ones() {
        assert_eq!(
            HealthPaths::new("/alive", "/ok")
                .map(|p| (p.live().to_string(), p.ready().to_string())),
            Ok(("/alive".to_string(), "/ok".to_string()))
        );
        for (live, ready, says) in [
            (
                "livez",
                "/readyz",
                "health live path `livez` must start with `/`",
            ),
            ("/livez/", "/readyz", "must not end with `/`"),
            (
                "/livez",
                "/ready?x",
                "health ready path `/ready?x` must be a plain path",
            ),
            ("/{id}", "/readyz", "parameter"),
            ("/same", "/same", "must differ"),
        ] {
            let e = HealthPaths::new(live, ready).expect_err(live).to_string();
            assert!(e.contains(says), "{e}");
        }
    }
}
