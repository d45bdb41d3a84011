//! `#[graceful::state(...)]`: the arguments as written, every value with its span.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Token};

use crate::common::{parse_list, unknown_argument};

mod kw {
    syn::custom_keyword!(name);
    syn::custom_keyword!(version);
    syn::custom_keyword!(priority);
}

/// Every argument name.
pub(crate) const ARGUMENTS: &[&str] = &["name", "version", "priority", "crate"];

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
    Name,
    Version,
    Priority,
    Crate,
}

impl Key {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Key::Name => "name",
            Key::Version => "version",
            Key::Priority => "priority",
            Key::Crate => "crate",
        }
    }

    fn example(self) -> &'static str {
        match self {
            Key::Name => "name = \"jobs\"",
            Key::Version => "version = 2",
            Key::Priority => "priority = 1000",
            Key::Crate => "crate = \"graceful\"",
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
        let key = if lookahead.peek(kw::name) {
            input.parse::<kw::name>()?;
            Key::Name
        } else if lookahead.peek(kw::version) {
            input.parse::<kw::version>()?;
            Key::Version
        } else if lookahead.peek(kw::priority) {
            input.parse::<kw::priority>()?;
            Key::Priority
        } else if lookahead.peek(Token![crate]) {
            input.parse::<Token![crate]>()?;
            Key::Crate
        } else if input.peek(syn::Ident::peek_any) {
            return unknown_argument(
                input,
                "`#[graceful::state]`",
                ARGUMENTS,
                &[("file", "name"), ("schema", "version")],
            )
            .map(RawArg::Unknown);
        } else {
            return Err(lookahead.error());
        };
        if !input.peek(Token![=]) {
            return Err(input.error(format!(
                "expected `=` after `{}`: `{}`",
                key.as_str(),
                key.example()
            )));
        }
        input.parse::<Token![=]>()?;
        let value = input.parse()?;
        Ok(RawArg::Known { key, span, value })
    }
}
