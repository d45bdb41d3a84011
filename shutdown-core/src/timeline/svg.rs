//! The picture of a [`Timeline`]: a self-contained SVG (no script, no external font or
//! stylesheet) with the same rows as the terminal view and a `<title>` on each bar, which
//! browsers show on hover, holding the exact duration and offsets.
//!
//! Each row is a `<g class="row …">` holding its `<title>`, its bar (`<rect>`) and its two
//! labels; a row that ran past its deadline has class `late`, a red bar with an outline and
//! a bold red label. Deadlines are dashed vertical lines (`class="deadline met|missed"`).

use std::fmt::Write as _;
use std::time::Duration;

use super::model::{Row, RowKind, Status, Timeline};
use crate::report::readable;

const WIDTH: u32 = 800;
const LABEL_X: u32 = 12;
const BAR_X: u32 = 250;
const BAR_W: u32 = 460;
const ROW_H: u32 = 22;
const FONT: &str = "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace";

/// `timeline` as a standalone SVG document.
pub fn render(timeline: &Timeline) -> String {
    let span = timeline.span();
    let x = |d: Duration| -> f64 {
        f64::from(BAR_X) + f64::from(BAR_W) * (d.as_secs_f64() / span.as_secs_f64()).min(1.0)
    };
    let head = 30 + 18 * timeline.blockers.len() as u32 + 28;
    let rows_h = ROW_H * timeline.rows.len() as u32;
    let marks_h = 18 * timeline.deadlines.len() as u32;
    let errors_h = 18 * timeline.errors.len() as u32;
    let height = head + rows_h + 16 + marks_h + errors_h + 16;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="{FONT}" font-size="12">"#
    );
    let _ = writeln!(
        s,
        "<title>{}</title>",
        escape(&format!("shutdown timeline: {}", timeline.summary()))
    );
    let _ = writeln!(
        s,
        r##"<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>"##
    );
    let colour = if timeline.blockers.is_empty() {
        "#1a1a1a"
    } else {
        "#b3261e"
    };
    let _ = writeln!(
        s,
        r#"<text class="summary" x="{LABEL_X}" y="22" font-size="14" font-weight="bold" fill="{colour}">{}</text>"#,
        escape(&timeline.summary())
    );
    let mut y = 30;
    for b in &timeline.blockers {
        y += 18;
        let _ = writeln!(
            s,
            r##"<text class="blocker" x="{LABEL_X}" y="{y}" fill="#b3261e">! {}</text>"##,
            escape(b)
        );
    }
    // The axis: five ticks from 0 to the span.
    let axis_y = y + 24;
    for i in 0..=4u32 {
        let at = span.mul_f64(f64::from(i) / 4.0);
        let tx = x(at);
        let anchor = match i {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        let _ = writeln!(
            s,
            r##"<text class="tick" x="{tx:.1}" y="{}" fill="#666666" text-anchor="{anchor}">{}</text>"##,
            axis_y - 6,
            escape(&readable(at))
        );
        let _ = writeln!(
            s,
            r##"<line x1="{tx:.1}" y1="{axis_y}" x2="{tx:.1}" y2="{}" stroke="#eeeeee"/>"##,
            axis_y + rows_h
        );
    }
    let mut y = axis_y;
    for row in &timeline.rows {
        row_svg(&mut s, row, y, &x);
        y += ROW_H;
    }
    let rows_end = y;
    y += 16;
    for m in &timeline.deadlines {
        let (class, stroke) = if m.met {
            ("met", "#5f6368")
        } else {
            ("missed", "#b3261e")
        };
        let verdict = if m.met { "met" } else { "missed" };
        let label = format!("deadline {} ({}): {verdict}", m.what, readable(m.limit));
        let title = format!(
            "deadline {}: {:?} allowed, falls at {:?} after the trigger; {verdict}",
            m.what, m.limit, m.at
        );
        let _ = writeln!(
            s,
            r#"<g class="deadline {class}"><title>{}</title>"#,
            escape(&title)
        );
        if m.at <= span {
            let mx = x(m.at);
            let _ = writeln!(
                s,
                r#"<line x1="{mx:.1}" y1="{axis_y}" x2="{mx:.1}" y2="{rows_end}" stroke="{stroke}" stroke-width="1.5" stroke-dasharray="4 3"/>"#
            );
        }
        let where_ = if m.at <= span {
            String::new()
        } else {
            format!(" at {}, beyond the axis", readable(m.at))
        };
        let _ = writeln!(
            s,
            r#"<text x="{LABEL_X}" y="{}" fill="{stroke}">{}</text></g>"#,
            y + 12,
            escape(&format!("{label}{where_}"))
        );
        y += 18;
    }
    for e in &timeline.errors {
        let _ = writeln!(
            s,
            r##"<text class="error" x="{LABEL_X}" y="{}" fill="#b06000">x {}</text>"##,
            y + 12,
            escape(e)
        );
        y += 18;
    }
    s.push_str("</svg>\n");
    s
}

fn row_svg(s: &mut String, row: &Row, y: u32, x: &impl Fn(Duration) -> f64) {
    let (class, fill) = match (row.status, row.kind) {
        (Status::Ok, RowKind::Phase) => ("ok", "#1a73e8"),
        (Status::Ok, _) => ("ok", "#8ab4f8"),
        (Status::Late, _) => ("late", "#d93025"),
        (Status::Failed, _) => ("failed", "#f29900"),
        (Status::Skipped, _) => ("skipped", "#bdc1c6"),
        (Status::Running, _) => ("running", "#12a4af"),
    };
    let kind = match row.kind {
        RowKind::Phase => "phase",
        RowKind::Drain => "drain",
        RowKind::Abandoned => "abandoned",
        RowKind::Request => "request",
        RowKind::Close => "close",
        RowKind::Hook => "hook",
    };
    let x1 = x(row.start);
    let w = (x(row.end) - x1).max(2.0);
    let indent = if row.is_nested() { 16 } else { 0 };
    let note = if row.note.is_empty() {
        String::new()
    } else {
        format!("; {}", row.note)
    };
    let title = format!(
        "{}: {:?} (from {:?} to {:?} after the trigger){note}",
        row.label,
        row.duration(),
        row.start,
        row.end
    );
    let (weight, text_fill) = if row.status == Status::Late {
        ("bold", "#b3261e")
    } else {
        ("normal", "#1a1a1a")
    };
    let outline = if row.status == Status::Late {
        r##" stroke="#7f0000" stroke-width="1.5""##
    } else {
        ""
    };
    let _ = writeln!(
        s,
        r#"<g class="row {kind} {class}"><title>{}</title>"#,
        escape(&title)
    );
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" font-weight="{weight}" fill="{text_fill}">{}</text>"#,
        LABEL_X + indent,
        y + 15,
        escape(&super::text::fit(&row.label, 34 - indent as usize / 8))
    );
    let _ = writeln!(
        s,
        r#"<rect x="{x1:.1}" y="{}" width="{w:.1}" height="{}" rx="2" fill="{fill}"{outline}/>"#,
        y + 4,
        ROW_H - 8
    );
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="end" font-weight="{weight}" fill="{text_fill}">{}</text></g>"#,
        WIDTH - 12,
        y + 15,
        escape(&readable(row.duration()))
    );
}

/// `text` with XML's special characters escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if c.is_control() && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
