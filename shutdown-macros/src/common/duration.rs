//! Durations written in macro arguments, checked at compile time with the same rules the
//! engine applies to configuration files and environment variables.

use std::time::Duration;

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;
use syn::parse::{Parse, ParseStream};

/// The accepted forms, quoted in every error.
pub(crate) const ACCEPTED: &str = "a whole number of seconds (`\"30\"` or `30`) or a duration like `\"30s\"`, `\"1m30s\"`, `\"250ms\"`, `\"2h\"`";

/// A duration as written: `"30s"` or `30`.
#[derive(Clone)]
pub(crate) enum DurationLit {
    /// `"30s"`.
    Str(syn::LitStr),
    /// `30` (seconds).
    Int(syn::LitInt),
}

impl Parse for DurationLit {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let lookahead = input.lookahead1();
        if lookahead.peek(syn::LitStr) {
            input.parse().map(DurationLit::Str)
        } else if lookahead.peek(syn::LitInt) {
            input.parse().map(DurationLit::Int)
        } else {
            Err(lookahead.error())
        }
    }
}

impl DurationLit {
    /// Where the literal is.
    pub(crate) fn span(&self) -> Span {
        match self {
            DurationLit::Str(s) => s.span(),
            DurationLit::Int(i) => i.span(),
        }
    }

    /// The value, or an error spanned on the literal that lists the accepted forms.
    pub(crate) fn value(&self, key: &str) -> syn::Result<Duration> {
        match self {
            DurationLit::Str(s) => parse(&s.value()).map_err(|why| {
                syn::Error::new(
                    s.span(),
                    format!("`{key} = {:?}` {why}; expected {ACCEPTED}", s.value()),
                )
            }),
            DurationLit::Int(i) => {
                if !i.suffix().is_empty() {
                    return Err(syn::Error::new(
                        i.span(),
                        format!(
                            "`{key} = {i}` has a type suffix; write plain seconds (`{key} = 30`) or a string like `{key} = \"30s\"`"
                        ),
                    ));
                }
                i.base10_parse::<u64>()
                    .map(Duration::from_secs)
                    .map_err(|_| {
                        syn::Error::new(
                            i.span(),
                            format!("`{key} = {i}` is too large; expected {ACCEPTED}"),
                        )
                    })
            }
        }
    }
}

/// Parses like the engine does: a bare number is seconds, anything else goes through
/// `humantime`. The error says what was wrong (without the accepted forms).
pub(crate) fn parse(input: &str) -> Result<Duration, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err("is empty".to_string());
    }
    if s.starts_with('-') {
        return Err("is negative; durations are zero or more".to_string());
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| "is too large".to_string());
    }
    humantime::parse_duration(s).map_err(|e| format!("is not a duration ({e})"))
}

/// `::std::time::Duration::new(secs, nanos)`: exact, and usable in `const` context.
pub(crate) fn to_tokens(d: Duration, span: Span) -> TokenStream {
    let secs = d.as_secs();
    let nanos = d.subsec_nanos();
    quote_spanned!(span=> ::std::time::Duration::new(#secs, #nanos))
}

/// `1m30s` style (an accepted input), for messages; rounded to milliseconds.
pub(crate) fn display(d: Duration) -> String {
    let d = Duration::from_millis(d.as_millis().try_into().unwrap_or(u64::MAX));
    humantime::format_duration(d).to_string().replace(' ', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_the_engine_accepts() {
        assert_eq!(parse("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn displays_as_an_accepted_input() {
        assert_eq!(display(Duration::from_secs(90)), "1m30s");
        assert_eq!(display(Duration::from_millis(2500)), "2s500ms");
        assert_eq!(
            parse(&display(Duration::from_millis(2500))),
            Ok(Duration::from_millis(2500))
        );
    }

    #[test]
    fn rejects_with_a_reason() {
        assert!(parse("30x").expect_err("30x").contains("unknown time unit"));
        assert!(parse("-5s").expect_err("-5s").contains("negative"));
        assert!(parse("").expect_err("").contains("empty"));
        assert!(parse("1.5").is_err());
    }
}
