//! Durations: the grammar is `shutdown_grammar::duration`, shared with the macros and
//! `gracefulctl`; [`value::duration`](super::value::duration) reads it from every source.

pub(crate) use shutdown_grammar::duration::ACCEPTED_FORMS;
pub use shutdown_grammar::duration::{DurationError, parse_duration};

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::{Input, value};

    #[test]
    fn toml_numbers_and_strings_are_one_grammar() {
        let v =
            |t: &str| super::super::toml::parse(&format!("v = {t}")).expect("toml")["v"].clone();
        let d = |t: &str| value::duration(Input::File(&v(t)));
        assert_eq!(d("30"), Ok(Duration::from_secs(30)));
        assert_eq!(d("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(d("\"1.5\""), Ok(Duration::from_millis(1500)));
        assert_eq!(d("\"1m30s\""), Ok(Duration::from_secs(90)));
        assert!(d("-1").is_err_and(|e| e.contains("negative")));
        assert!(d("true").is_err_and(|e| e.contains("found boolean")));
        assert_eq!(
            value::duration(Input::Text("1.5")),
            Ok(Duration::from_millis(1500)),
            "the environment reads the same grammar"
        );
    }
}
