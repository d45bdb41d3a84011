//! See a shutdown: its phases, drain, closes, hooks and deadlines as rows on one time axis,
//! drawn for a terminal ([`text`]) or as a picture ([`svg`]). Inside the drain, each HTTP
//! request it waited for or refused is a row of its own (abandoned ones first, at most
//! [`REQUEST_ROWS`], then one `+N more requests` row).
//!
//! ```
//! use graceful::timeline::{Timeline, text, svg};
//!
//! # let json = r#"{"result":"completed","total":0.2,"phases":[{"phase":"closing_resources","started":0.0,"duration":0.2}]}"#;
//! // `json` is a `last-shutdown.json` the service wrote to its `state_dir`.
//! let timeline = Timeline::from_json(json)?;
//! println!("{}", text::render(&timeline, text::TextOptions::default()));
//! std::fs::write(std::env::temp_dir().join("last-shutdown.svg"), svg::render(&timeline))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `gracefulctl timeline REPORT.json [--svg FILE]` draws a report, `gracefulctl watch`
//! follows a running shutdown; with `report_svg = true` the service writes
//! [`LAST_SVG_FILE`] beside the report itself. Feature `timeline`.

mod model;
pub mod svg;
#[cfg(test)]
mod tests;
pub mod text;

pub use model::{Marker, REQUEST_ROWS, ReadError, Row, RowKind, Status, Timeline};

/// The picture of the last shutdown, written beside
/// [`LAST_REPORT_FILE`](crate::report::LAST_REPORT_FILE) when `report_svg` is on.
pub const LAST_SVG_FILE: &str = "last-shutdown.svg";

// The timeline as a feature of the engine: with `report_svg` on (and a state directory, which
// the configuration requires with it), the picture is drawn as the engine's end-of-run work.
inventory::submit! {
    crate::shutdown::Feature {
        name: "timeline",
        start,
    }
}

/// Where the picture of this engine's shutdown goes, when `report_svg` is on.
#[derive(Default)]
struct Picture(std::sync::OnceLock<std::path::PathBuf>);

impl crate::shutdown::Extension for Picture {
    fn end_of_run(&self, report: &crate::report::ShutdownReport) {
        if let Some(dir) = self.0.get() {
            write_svg(dir, report);
        }
    }
}

/// Registers the picture when the configuration asks for it.
fn start(shutdown: &crate::Shutdown) {
    let config = shutdown.config();
    if let (true, Some(dir)) = (config.report_svg.value, &config.state_dir.value) {
        let _ = shutdown.extension::<Picture>().0.set(dir.clone());
    }
}

/// Writes `report`'s picture to `dir`/[`LAST_SVG_FILE`] (atomically); a failure is logged.
fn write_svg(dir: &std::path::Path, report: &crate::report::ShutdownReport) {
    let path = dir.join(LAST_SVG_FILE);
    let svg = svg::render(&Timeline::from_report(report));
    match crate::fs::atomic_write(&path, svg.as_bytes()) {
        Ok(()) => {
            tracing::debug!(target: "graceful::report", path = %path.display(), "timeline picture written")
        }
        Err(e) => {
            tracing::error!(target: "graceful::report", path = %path.display(), "cannot write the timeline picture: {e}")
        }
    }
}
