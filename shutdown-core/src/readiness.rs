//! Readiness: the one answer that the admin API's `/health/ready`,
//! The public items are re-exported at the crate root; their docs say how they work.

use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::ids::IdList;
use crate::phase::Phase;
use crate::shutdown::Extension;
use crate::shutdown::Shutdown;
use crate::sync::lock;

/// The readiness answer: whether the service should get traffic, and if not, why.
///
/// [`health_routes`](crate::http::health_routes), gRPC health and the `graceful_ready` metric
/// all read.
///
/// A service is ready when start-up has finished (every resource is built and `main` runs),
/// no shutdown was requested, and the program holds no [`ReadinessHold`]. A hold is how a
/// program says "not yet" (a cache still warming, a consumer still catching up) or "not now"
/// (a dependency is down): `let _hold = shutdown.not_ready("warming cache");` — readiness
/// comes back when the last hold drops. Each hold's name is part of the answer, so an
/// operator reading `/health/ready` sees why a pod gets no traffic.
///
/// Cost: reading readiness takes one uncontended lock; holds are for rare state changes, not
/// per request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Readiness {
    /// `true` when the service should get traffic.
    pub ready: bool,
    /// Every reason it should not, in order: [`Readiness::STARTING`],
    /// [`Readiness::SHUTTING_DOWN`], then the names of the [`ReadinessHold`]s held, oldest
    /// first. Empty when ready.
    pub reasons: Vec<String>,
}

impl Readiness {
    /// Why the service is not ready while start-up runs.
    pub const STARTING: &str = "starting";
    /// Why the service is not ready once a shutdown was requested.
    pub const SHUTTING_DOWN: &str = "shutting down";
}

/// The holds of one engine.
pub(crate) struct Holds {
    held: Mutex<IdList<String>>,
    /// Bumped whenever a hold is taken or released.
    changed: watch::Sender<u64>,
}

impl Default for Holds {
    fn default() -> Self {
        Holds {
            held: Mutex::new(IdList::new()),
            changed: watch::channel(0).0,
        }
    }
}

impl Holds {
    fn names(&self) -> Vec<String> {
        lock(&self.held).values().cloned().collect()
    }

    fn is_empty(&self) -> bool {
        lock(&self.held).is_empty()
    }

    fn bump(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// Holds contribute nothing to progress or the report: readiness is their whole effect.
impl Extension for Holds {}

/// Keeps the service not ready until dropped; from [`Shutdown::not_ready`].
#[must_use = "readiness comes back as soon as the hold is dropped"]
pub struct ReadinessHold {
    holds: Arc<Holds>,
    id: u64,
}

impl std::fmt::Debug for ReadinessHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = lock(&self.holds.held).get(self.id).cloned();
        f.debug_struct("ReadinessHold")
            .field("name", &name)
            .finish()
    }
}

impl Drop for ReadinessHold {
    fn drop(&mut self) {
        let released = lock(&self.holds.held).remove(self.id);
        if let Some(name) = released {
            tracing::info!(target: "graceful::readiness", hold = %name, "readiness hold released");
            self.holds.bump();
        }
    }
}

impl Shutdown {
    /// Holds readiness down until the returned guard drops: `/health/ready`,
    /// [`health_routes`](crate::http::health_routes) and gRPC health answer "not ready", naming
    /// `why`. Use it for work that must finish before traffic should come (warming a cache,
    /// replaying a log) or while a dependency is unavailable. Liveness is not affected.
    ///
    /// ```
    /// # #[allow(dead_code)]
    /// # async fn demo(shutdown: graceful::Shutdown) {
    /// let warming = shutdown.not_ready("warming cache");
    /// // … fill the cache …
    /// drop(warming); // ready (unless something else still holds it down)
    /// # }
    /// ```
    pub fn not_ready(&self, why: impl Into<String>) -> ReadinessHold {
        let holds = self.extension::<Holds>();
        let why = why.into();
        tracing::info!(target: "graceful::readiness", hold = %why, "readiness held down");
        let id = lock(&holds.held).insert(why);
        holds.bump();
        ReadinessHold { holds, id }
    }

    /// Readiness: `true` once start-up has finished, while no shutdown was requested and no
    /// [`ReadinessHold`] is held. [`readiness`](Shutdown::readiness) also says why not.
    pub fn is_ready(&self) -> bool {
        self.is_started()
            && !self.is_shutting_down()
            && self.current_phase() == Phase::Running
            && self.extension::<Holds>().is_empty()
    }

    /// The readiness answer with its reasons, as the health endpoints give it.
    pub fn readiness(&self) -> Readiness {
        let mut reasons = Vec::new();
        if !self.is_started() && !self.is_shutting_down() {
            reasons.push(Readiness::STARTING.to_string());
        }
        if self.is_shutting_down() || self.current_phase() != Phase::Running {
            reasons.push(Readiness::SHUTTING_DOWN.to_string());
        }
        reasons.extend(self.extension::<Holds>().names());
        Readiness {
            ready: reasons.is_empty(),
            reasons,
        }
    }

    /// Resolves at the next change of readiness holds (for integrations that send readiness
    /// as it changes, like gRPC health's `Watch`). Start-up finishing and the shutdown starting
    /// are awaited through [`started`](Shutdown::started) and [`requested`](Shutdown::requested).
    // Only gRPC health's `Watch` follows the changes.
    #[cfg_attr(not(feature = "tonic"), allow(dead_code))]
    pub(crate) fn readiness_changes(&self) -> watch::Receiver<u64> {
        self.extension::<Holds>().changed.subscribe()
    }
}
