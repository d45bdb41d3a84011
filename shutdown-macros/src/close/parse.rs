//! `#[derive(Close)]`: the `#[close(...)]` attributes as written, every value with its span.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, LitStr, Token};

use crate::common::{parse_list, unknown_argument};

mod kw {
    syn::custom_keyword!(skip);
    syn::custom_keyword!(method);
    syn::custom_keyword!(with);
}

/// Every key `#[close(...)]` accepts somewhere.
pub(crate) const KEYS: &[&str] = &["skip", "method", "with", "crate"];

/// One key of a `#[close(...)]` attribute.
pub(crate) enum CloseArg {
    /// `skip` (on a field).
    Skip(Span),
    /// `method = "flush"` (on a field).
    Method(Span, LitStr),
    /// `with = "shutdown"` (on the type).
    With(Span, LitStr),
    /// `crate = "graceful"` (on the type).
    Crate(Span, LitStr),
    /// A key we do not know, with its error.
    Unknown(syn::Error),
}

impl CloseArg {
    /// The key and where it is.
    pub(crate) fn key(&self) -> Option<(&'static str, Span)> {
        match self {
            CloseArg::Skip(s) => Some(("skip", *s)),
            CloseArg::Method(s, _) => Some(("method", *s)),
            CloseArg::With(s, _) => Some(("with", *s)),
            CloseArg::Crate(s, _) => Some(("crate", *s)),
            CloseArg::Unknown(_) => None,
        }
    }
}

fn string(input: ParseStream<'_>, key: &str, example: &str) -> syn::Result<LitStr> {
    if !input.peek(Token![=]) {
        return Err(input.error(format!(
            "expected `=` after `{key}`: `#[close({key} = \"{example}\")]`"
        )));
    }
    input.parse::<Token![=]>()?;
    if input.peek(LitStr) {
        input.parse()
    } else if input.peek(syn::Ident) {
        let ident: syn::Ident = input.fork().parse()?;
        Err(input.error(format!(
            "`{key}` takes the method name as a string: `#[close({key} = \"{ident}\")]`"
        )))
    } else {
        Err(input.error(format!(
            "`{key}` takes a string literal: `#[close({key} = \"{example}\")]`"
        )))
    }
}

impl Parse for CloseArg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let span = input.span();
        let lookahead = input.lookahead1();
        if lookahead.peek(kw::skip) {
            input.parse::<kw::skip>()?;
            if input.peek(Token![=]) {
                return Err(input.error("`skip` takes no value: write `#[close(skip)]`"));
            }
            Ok(CloseArg::Skip(span))
        } else if lookahead.peek(kw::method) {
            input.parse::<kw::method>()?;
            Ok(CloseArg::Method(span, string(input, "method", "flush")?))
        } else if lookahead.peek(kw::with) {
            input.parse::<kw::with>()?;
            Ok(CloseArg::With(span, string(input, "with", "shutdown")?))
        } else if lookahead.peek(Token![crate]) {
            input.parse::<Token![crate]>()?;
            Ok(CloseArg::Crate(span, string(input, "crate", "graceful")?))
        } else if input.peek(syn::Ident::peek_any) {
            unknown_argument(
                input,
                "`#[close(...)]`",
                KEYS,
                &[("ignore", "skip"), ("call", "method")],
            )
            .map(CloseArg::Unknown)
        } else {
            Err(lookahead.error())
        }
    }
}

/// Every key of every `#[close(...)]` among `attrs`; syntax errors are collected in `errors`.
pub(crate) fn close_args(attrs: &[Attribute], errors: &mut crate::common::Errors) -> Vec<CloseArg> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("close")) {
        let parsed = match &attr.meta {
            syn::Meta::List(_) => attr.parse_args_with(parse_list::<CloseArg>),
            _ => Err(syn::Error::new_spanned(
                attr,
                "write the options in parentheses: `#[close(skip)]`, `#[close(method = \"flush\")]` or `#[close(with = \"shutdown\")]`",
            )),
        };
        if let Some(args) = errors.keep(parsed) {
            out.extend(args);
        }
    }
    out
}
