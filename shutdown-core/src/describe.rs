//! How the engine puts what went wrong into words for reports, logs and stderr: an error with
//! its chain of sources, and the payload of a caught panic. Used by the build, close, task and
//! supervision code alike, so each says it the same way.

use tokio::task::JoinError;

/// An error and its sources, joined by `: `. A source whose text the message already ends
/// with (an error whose `Display` includes its source, as many do) is not repeated.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

/// The message chain of an error known only by its `Debug` text, as `main`'s error is (`main`
/// may return any `E: Debug`, as Rust's own `main` does): `message: cause: cause`. The
/// report-style `Debug` of `anyhow` and `eyre` (the message, then `Caused by:` with one cause
/// a line, then `Stack backtrace:`, `Location:` …) is reduced to its message and causes, so a
/// log line never carries a backtrace; any other text is kept as it is.
pub(crate) fn debug_message_chain(debug: &str) -> String {
    let mut sections = debug.split("\n\n");
    let mut out = sections.next().unwrap_or_default().trim().to_string();
    for section in sections {
        let Some(causes) = section.trim_start().strip_prefix("Caused by:") else {
            // `Stack backtrace:`, `Location:`, `Backtrace omitted…`: not part of the message.
            break;
        };
        for cause in causes.lines().map(str::trim).filter(|l| !l.is_empty()) {
            // `0: text` when there are several causes.
            let text = match cause.split_once(": ") {
                Some((n, rest)) if n.bytes().all(|b| b.is_ascii_digit()) => rest,
                _ => cause,
            };
            out.push_str(": ");
            out.push_str(text);
        }
    }
    out
}

/// Formats a task's end that was not a return: the panic's payload, or "cancelled".
pub(crate) fn panic_message(join: JoinError) -> String {
    if !join.is_panic() {
        return "cancelled".to_string();
    }
    payload_message(&*join.into_panic())
}

/// Formats a panic payload caught with `catch_unwind`.
pub(crate) fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::{debug_message_chain, error_chain};

    #[test]
    fn a_report_style_debug_keeps_its_causes_and_drops_the_backtrace() {
        let anyhow_like = "cannot reach the queue\n\nCaused by:\n    0: connect failed\n    \
                           1: connection refused\n\nStack backtrace:\n   0: std::backtrace\n   \
                           1: main";
        assert_eq!(
            debug_message_chain(anyhow_like),
            "cannot reach the queue: connect failed: connection refused"
        );
        let one_cause = "cannot reach the queue\n\nCaused by:\n    connection refused";
        assert_eq!(
            debug_message_chain(one_cause),
            "cannot reach the queue: connection refused"
        );
        let eyre_like = "gave up\n\nLocation:\n    src/main.rs:3:5";
        assert_eq!(debug_message_chain(eyre_like), "gave up");
        assert_eq!(debug_message_chain("\"main gave up\""), "\"main gave up\"");
    }

    #[derive(Debug)]
    struct Outer(std::io::Error, bool);

    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            if self.1 {
                write!(f, "outer: {}", self.0)
            } else {
                write!(f, "outer")
            }
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_source_is_named_once() {
        let io = || std::io::Error::other("disk full");
        assert_eq!(error_chain(&Outer(io(), false)), "outer: disk full");
        assert_eq!(
            error_chain(&Outer(io(), true)),
            "outer: disk full",
            "a message that already includes its source does not repeat it"
        );
    }
}
