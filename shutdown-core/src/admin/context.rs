//! What every connection of the admin API shares: the engine's handle, the configuration, the
//! route table and the figures the handlers read.

use std::sync::Arc;

use super::config::{AdminConfig, Route};
use super::operations::{Operations, Recovered};
use super::report::PreviousShutdown;
use super::sse;
use crate::shutdown::Shutdown;

/// What every connection shares.
pub(crate) struct State {
    pub(crate) shutdown: Shutdown,
    pub(crate) config: AdminConfig,
    /// Full path → route.
    pub(crate) table: Vec<(String, Route)>,
    /// The report the previous process left in the state directory.
    pub(crate) previous: Option<PreviousShutdown>,
    /// The application's named counts of active operations.
    pub(crate) operations: Operations,
    /// A listener whose routes need no key (the metrics-only listener).
    pub(crate) open: bool,
    /// Recent CPU samples, for the CPU percentage and its threshold.
    pub(crate) cpu: Arc<super::load::CpuWindow>,
    /// What the application recovered at start.
    pub(crate) recovered: std::sync::Mutex<Vec<Recovered>>,
    /// Event streams still being delivered.
    pub(crate) streams: Arc<sse::OpenStreams>,
    #[cfg(feature = "metrics")]
    pub(crate) prometheus: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The standard `process_*` metrics, read at each scrape.
    #[cfg(feature = "metrics")]
    pub(crate) process_metrics: metrics_process::Collector,
}

impl State {
    pub(crate) fn new(
        shutdown: Shutdown,
        config: AdminConfig,
        previous: Option<PreviousShutdown>,
    ) -> Self {
        let table = Route::ALL
            .iter()
            .copied()
            .map(|r| (config.path(r), r))
            .collect();
        State {
            shutdown,
            config,
            table,
            previous,
            operations: Operations::default(),
            cpu: Arc::default(),
            open: false,
            recovered: std::sync::Mutex::new(Vec::new()),
            streams: sse::OpenStreams::new(),
            #[cfg(feature = "metrics")]
            prometheus: None,
            #[cfg(feature = "metrics")]
            process_metrics: metrics_process::Collector::default(),
        }
    }
}
