//! Memory and CPU against the configured thresholds: `/health` and the metrics report the
//! service as `degraded`, with the reason, while one is exceeded. CPU is measured as a
//! percentage of one core over a recent window (a sample a second, the last ten seconds),
//! not only as cumulative seconds.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::config::AdminConfig;
use super::process_info;

/// How often the sampler reads the process's CPU time.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);
/// The window the CPU percentage covers.
const WINDOW: usize = 10;

/// Recent CPU samples: (when, cumulative CPU seconds).
#[derive(Debug, Default)]
pub(crate) struct CpuWindow {
    samples: Mutex<VecDeque<(Instant, f64)>>,
}

impl CpuWindow {
    /// Records one sample now.
    pub(crate) fn sample(&self) {
        let Some(total) = process_info::cpu_total_seconds() else {
            return;
        };
        let mut s = crate::sync::lock(&self.samples);
        s.push_back((Instant::now(), total));
        while s.len() > WINDOW + 1 {
            s.pop_front();
        }
    }

    /// CPU use in percent of one core over the window, and the window's length; `None`
    /// until two samples exist.
    pub(crate) fn percent(&self) -> Option<(f64, Duration)> {
        let s = crate::sync::lock(&self.samples);
        let (t0, c0) = *s.front()?;
        let (t1, c1) = *s.back()?;
        let span = t1.checked_duration_since(t0)?;
        if span.is_zero() {
            return None;
        }
        Some(((c1 - c0) / span.as_secs_f64() * 100.0, span))
    }

    /// Samples every second until the task is dropped (with the admin server).
    pub(crate) async fn run(self: std::sync::Arc<Self>) {
        let mut tick = tokio::time::interval(SAMPLE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.sample();
        }
    }
}

/// Why the service is degraded now (empty: it is not).
pub(crate) fn degraded(config: &AdminConfig, cpu: &CpuWindow) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(limit) = config.memory_threshold_mb.value
        && let Some(rss) = process_info::rss_bytes()
    {
        let mb = rss as f64 / (1024.0 * 1024.0);
        if mb > limit as f64 {
            out.push(json!({
                "reason": "memory",
                "message": format!("resident memory {mb:.1} MB is over the threshold of {limit} MB (admin.memory_threshold_mb)"),
                "value": mb,
                "threshold": limit,
            }));
        }
    }
    if let Some(limit) = config.cpu_threshold_percent.value
        && let Some((pct, span)) = cpu.percent()
        && pct > limit
    {
        out.push(json!({
            "reason": "cpu",
            "message": format!(
                "CPU use {pct:.1}% over the last {:.0}s is over the threshold of {limit}% (admin.cpu_threshold_percent)",
                span.as_secs_f64()
            ),
            "value": pct,
            "threshold": limit,
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_over_a_tiny_threshold_is_degraded() {
        let mut c = AdminConfig::default();
        assert!(degraded(&c, &CpuWindow::default()).is_empty());
        c.memory_threshold_mb
            .set(Some(1), crate::config::Source::Builder);
        let d = degraded(&c, &CpuWindow::default());
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0]["reason"], "memory");
    }

    #[test]
    fn cpu_percent_needs_two_samples() {
        let w = CpuWindow::default();
        assert!(w.percent().is_none());
        w.sample();
        std::thread::sleep(Duration::from_millis(20));
        w.sample();
        let (pct, span) = w.percent().expect("two samples");
        assert!(pct >= 0.0 && !span.is_zero());
    }
}
