//! Progress output: a live spinner on a terminal (indicatif), plain lines otherwise.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Where progress goes.
#[derive(Debug)]
pub enum Progress {
    /// A live display on a terminal.
    Live(ProgressBar),
    /// Plain lines (pipes, files, CI).
    Plain,
}

impl Progress {
    /// A live display if stdout is a terminal, plain lines otherwise.
    pub fn new(steps: usize) -> Progress {
        if !std::io::stdout().is_terminal() {
            return Progress::Plain;
        }
        let bar = ProgressBar::new(steps as u64);
        let style = ProgressStyle::with_template("{spinner} [{pos}/{len}] {elapsed:>4} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(100));
        Progress::Live(bar)
    }

    /// Prints a line that stays (above the live display, if any).
    pub fn line(&self, text: &str) {
        match self {
            Progress::Live(bar) => bar.println(text),
            Progress::Plain => println!("{text}"),
        }
    }

    /// Updates the transient status text (live display only).
    pub fn status(&self, text: &str) {
        if let Progress::Live(bar) = self {
            bar.set_message(text.to_owned());
        }
    }

    /// One step done.
    pub fn step_done(&self) {
        if let Progress::Live(bar) = self {
            bar.inc(1);
        }
    }

    /// Removes the live display.
    pub fn finish(&self) {
        if let Progress::Live(bar) = self {
            bar.finish_and_clear();
        }
    }
}
