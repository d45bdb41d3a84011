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
    use super::error_chain;

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
