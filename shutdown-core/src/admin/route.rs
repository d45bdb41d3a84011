//! The admin API's routes: one table. The [`Route`] enum, [`Route::ALL`], each route's key,
//! default path, methods and scope are all generated from the single `routes!` table below,
//! so a route cannot exist in one list and be missing from another (which would answer 404).

use super::auth::Scope;

macro_rules! routes {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident { key: $key:literal, path: $path:literal, methods: [$($m:literal),+], scope: $scope:expr }
    )+) => {
        /// One of the admin API's routes. Its path is `prefix + path`; see
        /// [`AdminConfig::routes`](super::AdminConfig::routes).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Route {
            $( $(#[doc = $doc])* $variant, )+
        }

        impl Route {
            /// Every route, in the table's order.
            pub const ALL: &'static [Route] = &[$(Route::$variant),+];

            /// The key of the route in `[admin.routes]`.
            pub fn key(self) -> &'static str {
                match self { $(Route::$variant => $key,)+ }
            }

            /// The default path (before the prefix).
            pub fn default_path(self) -> &'static str {
                match self { $(Route::$variant => $path,)+ }
            }

            /// The methods the route answers.
            pub fn methods(self) -> &'static [&'static str] {
                match self { $(Route::$variant => &[$($m),+],)+ }
            }

            /// The scope a key needs, or `None` for the probes.
            pub fn scope(self) -> Option<Scope> {
                match self { $(Route::$variant => $scope,)+ }
            }
        }
    };
}

routes! {
    /// `GET /health/live`: 200 while the process runs. No key.
    Live { key: "live", path: "/health/live", methods: ["GET"], scope: None }
    /// `GET /health/ready`: 200 once start-up has finished, while no readiness hold is held
    /// and until the shutdown starts; 503 with the reasons otherwise. No key.
    Ready { key: "ready", path: "/health/ready", methods: ["GET"], scope: None }
    /// `GET /health`: both, plus resource states. No key.
    Health { key: "health", path: "/health", methods: ["GET"], scope: None }
    /// `GET /status`: `status`, phase, uptime, in-flight work, the application's active
    /// operations, what was recovered at start, resources, progress. Scope `read`.
    Status { key: "status", path: "/status", methods: ["GET"], scope: Some(Scope::Read) }
    /// `GET /overview`: status, health, process, the effective configuration's summary and
    /// the previous shutdown in one response. Scope `read`.
    Overview { key: "overview", path: "/overview", methods: ["GET"], scope: Some(Scope::Read) }
    /// `GET /process`: pid, uptime, memory, CPU, threads, open fds. Scope `read`.
    Process { key: "process", path: "/process", methods: ["GET"], scope: Some(Scope::Read) }
    /// `GET /config`: the effective configuration with sources, secrets redacted. Scope `read`.
    Config { key: "config", path: "/config", methods: ["GET"], scope: Some(Scope::Read) }
    /// `GET /metrics`: Prometheus text. Scope `read`.
    Metrics { key: "metrics", path: "/metrics", methods: ["GET"], scope: Some(Scope::Read) }
    /// `GET /events`: Server-Sent Events of phase changes and resource closes. Scope `read`.
    Events { key: "events", path: "/events", methods: ["GET"], scope: Some(Scope::Read) }
    /// `POST /shutdown` starts a graceful shutdown, `DELETE /shutdown` forces one. Scope `system`.
    Shutdown { key: "shutdown", path: "/shutdown", methods: ["POST", "DELETE"], scope: Some(Scope::System) }
    /// `POST /upgrade` starts an in-place upgrade (feature `upgrade`) and answers once the
    /// successor is ready (200 with its pid) or failed (502 with its exit status and last
    /// stderr lines); 409 while another upgrade runs. Scope `system`.
    Upgrade { key: "upgrade", path: "/upgrade", methods: ["POST"], scope: Some(Scope::System) }
}

impl Route {
    /// The route whose `[admin.routes]` key is `key`.
    pub(crate) fn parse(key: &str) -> Option<Route> {
        Route::ALL.iter().copied().find(|r| r.key() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operations_guide_documents_every_route_with_its_methods_and_scope() {
        let docs = include_str!("../../../docs/operations.md");
        for r in Route::ALL {
            let scope = r.scope().map_or("—", |s| s.as_str());
            for m in r.methods() {
                let row = format!("| `{}` | {m} | ", r.default_path());
                let line = docs
                    .lines()
                    .find(|l| l.starts_with(&row))
                    .unwrap_or_else(|| panic!("docs/operations.md has no row `{row}…`"));
                assert!(
                    line.contains(&format!("| {scope} |"))
                        || line.contains(&format!("| `{scope}` |")),
                    "{line}: scope {scope}"
                );
            }
        }
    }

    #[test]
    fn keys_and_paths_are_unique() {
        let mut keys: Vec<_> = Route::ALL.iter().map(|r| r.key()).collect();
        let mut paths: Vec<_> = Route::ALL.iter().map(|r| r.default_path()).collect();
        keys.sort_unstable();
        keys.dedup();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(keys.len(), Route::ALL.len());
        assert_eq!(paths.len(), Route::ALL.len());
        for r in Route::ALL {
            assert_eq!(Route::parse(r.key()), Some(*r));
        }
    }
}
