//! `#[graceful::resource(...)]`: the arguments as written, every value with its span.
//!
//! Values are kept as expressions so that validation can say what is wrong with them
//! ("`priority` must be an integer", "write the method name as a string").

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Token};

use crate::common::{parse_list, unknown_argument};

mod kw {
    syn::custom_keyword!(priority);
    syn::custom_keyword!(close);
    syn::custom_keyword!(name);
}

/// Every argument name.
pub(crate) const ARGUMENTS: &[&str] = &["priority", "close", "name", "crate"];

/// The raw arguments, in the order written.
#[derive(Default)]
pub(crate) struct RawArgs(pub(crate) Vec<RawArg>);

impl Parse for RawArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        parse_list(input).map(RawArgs)
    }
}

/// Which argument.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Priority,
    Close,
    Name,
    Crate,
}

impl Key {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Key::Priority => "priority",
            Key::Close => "close",
            Key::Name => "name",
            Key::Crate => "crate",
        }
    }
}

/// One argument: `key = value`, or a name we do not know (with its error).
pub(crate) enum RawArg {
    Known { key: Key, span: Span, value: Expr },
    Unknown(syn::Error),
}

impl Parse for RawArg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let span = input.span();
        let lookahead = input.lookahead1();
        let key = if lookahead.peek(kw::priority) {
            input.parse::<kw::priority>()?;
            Key::Priority
        } else if lookahead.peek(kw::close) {
            input.parse::<kw::close>()?;
            Key::Close
        } else if lookahead.peek(kw::name) {
            input.parse::<kw::name>()?;
            Key::Name
        } else if lookahead.peek(Token![crate]) {
            input.parse::<Token![crate]>()?;
            Key::Crate
        } else if input.peek(syn::Ident::peek_any) {
            return unknown_argument(
                input,
                "`#[graceful::resource]`",
                ARGUMENTS,
                &[
                    ("order", "priority"),
                    ("close_with", "close"),
                    ("on_close", "close"),
                ],
            )
            .map(RawArg::Unknown);
        } else {
            return Err(lookahead.error());
        };
        if !input.peek(Token![=]) {
            let k = key.as_str();
            let example = match key {
                Key::Priority => "priority = 10",
                Key::Close => "close = \"shutdown\"",
                Key::Name => "name = \"db\"",
                Key::Crate => "crate = \"graceful\"",
            };
            return Err(input.error(format!("expected `=` after `{k}`: `{example}`")));
        }
        input.parse::<Token![=]>()?;
        let value = input.parse()?;
        Ok(RawArg::Known { key, span, value })
    }
}
