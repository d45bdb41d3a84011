//! `gracefulctl timeline` and `gracefulctl watch`: see a shutdown as rows on a time axis.
//!
//! The drawing is the engine's own (`graceful::timeline`): the same rows, the same summary and
//! the same picture as the `last-shutdown.svg` a service writes with `report_svg = true`. This
//! module reads the report file ([`draw`]) or follows a running service's `/events`
//! ([`watch`]), and decides how the terminal is drawn ([`Style`]).

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Context, Result};
use shutdown_core::timeline::{Timeline, svg, text};

pub mod watch;

/// How the terminal is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// ANSI colours: stdout is a terminal and `NO_COLOR` is unset or empty.
    pub colour: bool,
    /// Redraw in place (stdout is a terminal); otherwise one line per event, then the view.
    pub live: bool,
    /// Columns: `COLUMNS` when set (at least 60), else 80.
    pub width: usize,
}

impl Style {
    /// The style of this process's stdout and environment.
    pub fn detect() -> Style {
        Style::new(
            std::io::stdout().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
            std::env::var("COLUMNS").ok().as_deref(),
        )
    }

    /// The style for a stdout that is (or is not) a terminal, `NO_COLOR`'s value and
    /// `COLUMNS`'s value.
    pub fn new(tty: bool, no_colour: Option<&std::ffi::OsStr>, columns: Option<&str>) -> Style {
        // https://no-color.org: set and not empty.
        let no_colour = no_colour.is_some_and(|v| !v.is_empty());
        let width = columns
            .and_then(|c| c.trim().parse::<usize>().ok())
            .unwrap_or(80)
            .max(60);
        Style {
            colour: tty && !no_colour,
            live: tty,
            width,
        }
    }

    /// The options of the engine's text renderer.
    pub fn text(self) -> text::TextOptions {
        text::TextOptions {
            width: self.width,
            colour: self.colour,
        }
    }
}

/// `gracefulctl timeline REPORT [--svg FILE]`: prints the report's timeline; with `svg`, also
/// writes the picture there. Returns the text printed.
///
/// # Errors
/// The report cannot be read or is not a shutdown report; the picture cannot be written.
pub fn draw(report: &Path, svg_file: Option<&Path>, style: Style) -> Result<String> {
    let json = std::fs::read_to_string(report)
        .with_context(|| format!("cannot read the shutdown report {}", report.display()))?;
    let timeline = Timeline::from_json(&json).with_context(|| format!("{}", report.display()))?;
    let mut out = text::render(&timeline, style.text());
    if let Some(file) = svg_file {
        std::fs::write(file, svg::render(&timeline))
            .with_context(|| format!("cannot write the picture to {}", file.display()))?;
        out.push_str(&format!("picture written to {}\n", file.display()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::Style;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(Style::new(true, None, None).colour);
        assert!(Style::new(true, Some(OsStr::new("")), None).colour);
        assert!(!Style::new(true, Some(OsStr::new("1")), None).colour);
        let piped = Style::new(false, None, None);
        assert!(!piped.colour && !piped.live);
        assert_eq!(piped.width, 80);
        assert_eq!(Style::new(false, None, Some("120")).width, 120);
        assert_eq!(Style::new(false, None, Some("20")).width, 60);
        assert_eq!(Style::new(false, None, Some("wide")).width, 80);
    }
}
