//! The terminal view of a [`Timeline`]: one line per row on a character time axis.
//!
//! ```text
//! FORCED in 1.0s · longest: p10 stuck_client 1.0s, past its deadline · signal Int
//!   ! resource `stuck_client` (priority 10) did not close: waited 1.0s
//!                          0s                                       1.0s
//!   initiated              =                                                12.2µs
//! ! closing_resources      #############################################      1.0s
//! !   p10 stuck_client     #############################################      1.0s
//!     p100 database                                                    =   145.3µs
//!   deadlines (| where each falls)
//! !   close priority 10                                           1.0s |    MISSED
//! ```
//!
//! The first column flags a row: `!` ran past its deadline, `x` failed, `-` skipped, `>` still
//! running. Each status has its bar character too (`=` in time, `#` late, `x` failed, `.`
//! skipped, `>` running), so the view reads without colour; colour (red for late, yellow for
//! failed) is added only when asked for.

use std::fmt::Write as _;
use std::time::Duration;

use super::model::{Status, Timeline};
use crate::report::readable;

/// How to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextOptions {
    /// Columns available (at least 60 are used).
    pub width: usize,
    /// ANSI colours.
    pub colour: bool,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            width: 80,
            colour: false,
        }
    }
}

/// Label column, including the flag and its space.
const LABEL: usize = 24;
/// Duration column.
const DURATION: usize = 9;

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[33m";
const DIM: &str = "\x1b[2m";
const CYAN: &str = "\x1b[36m";
const GREEN: &str = "\x1b[32m";
const RESET: &str = "\x1b[0m";

/// `timeline` drawn for a terminal: the summary, what ran past its deadline, the axis, one line
/// per row, the deadlines, then the errors. No line is wider than `options.width`.
pub fn render(timeline: &Timeline, options: TextOptions) -> String {
    let width = options.width.max(60);
    let bar = width - LABEL - 1 - DURATION - 1;
    let paint = |code: &'static str, text: &str| {
        if options.colour {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    };
    let mut out = String::new();
    let summary = fit(&timeline.summary(), width);
    let _ = writeln!(
        out,
        "{}",
        if timeline.blockers.is_empty() {
            summary
        } else {
            paint(RED, &summary)
        }
    );
    for b in &timeline.blockers {
        let _ = writeln!(out, "{}", paint(RED, &fit(&format!("  ! {b}"), width)));
    }
    let axis = Axis::new(timeline, bar);
    let end = readable(axis.span);
    let _ = writeln!(
        out,
        "{:LABEL$} 0s{:>w$}",
        "",
        end,
        w = bar.saturating_sub(2)
    );
    for row in &timeline.rows {
        let (flag, ch, code) = look(row.status);
        let indent = if row.is_nested() { "  " } else { "" };
        let label = fit(&format!("{indent}{}", row.label), LABEL - 2);
        let line = axis.bar(row.start, row.end, ch);
        let duration = readable(row.duration());
        let text = format!(
            "{flag} {label:<w$} {line} {duration:>DURATION$}",
            w = LABEL - 2
        );
        let text = match code {
            Some(code) => paint(code, &text),
            None if row.is_nested() => text,
            None => paint(GREEN, &text),
        };
        let _ = writeln!(out, "{text}");
    }
    if !timeline.deadlines.is_empty() {
        let _ = writeln!(out, "{}", paint(DIM, "  deadlines (| where each falls)"));
    }
    for m in &timeline.deadlines {
        let limit = readable(m.limit);
        let mark = if m.at <= axis.span {
            let col = axis.col(m.at).min(bar - 1);
            let mut cells = vec![' '; bar];
            cells[col] = '|';
            // The limit beside the mark, on the side with room.
            let text: Vec<char> = format!(" {limit}").chars().collect();
            if col + text.len() < bar {
                cells[col + 1..col + 1 + text.len()].copy_from_slice(&text);
            } else if col >= text.len() {
                let t: Vec<char> = format!("{limit} ").chars().collect();
                cells[col - t.len()..col].copy_from_slice(&t);
            }
            cells.into_iter().collect::<String>()
        } else {
            format!("{:>bar$}", format!("{limit}, at {} >", readable(m.at)))
        };
        let verdict = if m.met { "met" } else { "MISSED" };
        let label = fit(&format!("  {}", m.what), LABEL - 2);
        let flag = if m.met { ' ' } else { '!' };
        let text = format!(
            "{flag} {label:<w$} {mark} {verdict:>DURATION$}",
            w = LABEL - 2
        );
        let _ = writeln!(
            out,
            "{}",
            if m.met {
                paint(DIM, &text)
            } else {
                paint(RED, &text)
            }
        );
    }
    for row in timeline.rows.iter().filter(|r| r.status == Status::Failed) {
        let text = fit(&format!("  x {}: {}", row.label, row.note), width);
        let _ = writeln!(out, "{}", paint(YELLOW, &text));
    }
    for e in &timeline.errors {
        let _ = writeln!(out, "{}", paint(YELLOW, &fit(&format!("  x {e}"), width)));
    }
    out
}

/// The flag, the bar character and the colour of a status.
fn look(status: Status) -> (char, char, Option<&'static str>) {
    match status {
        Status::Ok => (' ', '=', None),
        Status::Late => ('!', '#', Some(RED)),
        Status::Failed => ('x', 'x', Some(YELLOW)),
        Status::Skipped => ('-', '.', Some(DIM)),
        Status::Running => ('>', '>', Some(CYAN)),
    }
}

/// Maps offsets to columns of the bar area.
struct Axis {
    span: Duration,
    cols: usize,
}

impl Axis {
    fn new(timeline: &Timeline, cols: usize) -> Self {
        Axis {
            span: timeline.span(),
            cols,
        }
    }

    fn col(&self, at: Duration) -> usize {
        let f = at.as_secs_f64() / self.span.as_secs_f64();
        ((f * self.cols as f64).floor() as usize).min(self.cols)
    }

    /// `cols` characters: blanks, then `ch` from `start` to `end` (at least one).
    fn bar(&self, start: Duration, end: Duration, ch: char) -> String {
        let from = self.col(start).min(self.cols - 1);
        let f = end.as_secs_f64() / self.span.as_secs_f64();
        let to = ((f * self.cols as f64).ceil() as usize).clamp(from + 1, self.cols);
        let mut s = String::with_capacity(self.cols);
        s.extend(std::iter::repeat_n(' ', from));
        s.extend(std::iter::repeat_n(ch, to - from));
        s.extend(std::iter::repeat_n(' ', self.cols - to));
        s
    }
}

/// `text` cut to `width` characters, with `…` when cut.
pub(crate) fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
}

#[cfg(test)]
pub(crate) fn visible_width(line: &str) -> usize {
    // ANSI sequences take no columns.
    let mut n = 0;
    let mut in_escape = false;
    for c in line.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => n += 1,
        }
    }
    n
}
