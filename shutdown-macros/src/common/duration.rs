//! Durations written in macro arguments, checked at compile time by the grammar the engine
//! applies to configuration files and environment variables (`shutdown_grammar::duration`).

use std::time::Duration;

use proc_macro2::Span;
use shutdown_grammar::duration::{format_duration, parse_duration};
use syn::parse::{Parse, ParseStream};

/// The accepted forms, quoted in every error.
pub(crate) const ACCEPTED: &str = "a number of seconds (`\"30\"`, `30` or `1.5`) or a duration like `\"30s\"`, `\"1m30s\"`, `\"250ms\"`, `\"2h\"`";

/// A duration as written: `"30s"`, `30` or `1.5`.
#[derive(Clone)]
pub(crate) enum DurationLit {
    /// `"30s"`.
    Str(syn::LitStr),
    /// `30` (seconds).
    Int(syn::LitInt),
    /// `1.5` (seconds).
    Float(syn::LitFloat),
}

impl Parse for DurationLit {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let lookahead = input.lookahead1();
        if lookahead.peek(syn::LitStr) {
            input.parse().map(DurationLit::Str)
        } else if lookahead.peek(syn::LitInt) {
            input.parse().map(DurationLit::Int)
        } else if lookahead.peek(syn::LitFloat) {
            input.parse().map(DurationLit::Float)
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
            DurationLit::Float(f) => f.span(),
        }
    }

    /// The value, or an error spanned on the literal that lists the accepted forms.
    pub(crate) fn value(&self, key: &str) -> syn::Result<Duration> {
        let (text, shown, suffix) = match self {
            DurationLit::Str(s) => (s.value(), format!("{:?}", s.value()), ""),
            DurationLit::Int(i) => (i.base10_digits().to_string(), i.to_string(), i.suffix()),
            DurationLit::Float(f) => (f.base10_digits().to_string(), f.to_string(), f.suffix()),
        };
        if !suffix.is_empty() {
            return Err(syn::Error::new(
                self.span(),
                format!(
                    "`{key} = {shown}` has a type suffix; write plain seconds (`{key} = 30`) or a string like `{key} = \"30s\"`"
                ),
            ));
        }
        // Numbers go through the same grammar as strings: `1.5` is one and a half seconds.
        parse_duration(&text).map_err(|e| {
            syn::Error::new(
                self.span(),
                format!("`{key} = {shown}` {}; expected {ACCEPTED}", e.reason()),
            )
        })
    }
}

/// `1m30s` style (an accepted input), for messages; rounded to milliseconds.
pub(crate) fn display(d: Duration) -> String {
    format_duration(Duration::from_millis(
        d.as_millis().try_into().unwrap_or(u64::MAX),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(tokens: &str) -> DurationLit {
        syn::parse_str(tokens).expect("a literal")
    }

    #[test]
    fn accepts_what_the_engine_accepts() {
        assert_eq!(
            lit("\"1m30s\"").value("t").ok(),
            Some(Duration::from_secs(90))
        );
        assert_eq!(lit("30").value("t").ok(), Some(Duration::from_secs(30)));
        assert_eq!(
            lit("1.5").value("t").ok(),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            lit("\"1.5\"").value("t").ok(),
            Some(Duration::from_millis(1500))
        );
        assert!(lit("30u8").value("t").is_err());
        assert!(
            lit("\"-5s\"")
                .value("t")
                .is_err_and(|e| e.to_string().contains("negative"))
        );
    }

    #[test]
    fn displays_as_an_accepted_input() {
        assert_eq!(display(Duration::from_secs(90)), "1m30s");
        assert_eq!(display(Duration::from_millis(2500)), "2s500ms");
    }
}
