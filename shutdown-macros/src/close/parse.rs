//! `#[derive(Close)]`: the keys `#[close(...)]` accepts, one row each, and the attributes as
//! written.

use syn::Attribute;

use crate::common::Errors;
use crate::common::args::{Arg, Kind, Row, Table};

/// Which key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    /// `skip` (on a field).
    Skip,
    /// `method = "flush"` (on a field).
    Method,
    /// `with = "shutdown"` (on the type).
    With,
    /// `crate = "graceful"` (on the type).
    Crate,
}

/// Every key `#[close(...)]` accepts somewhere; where each may go is checked by validation.
pub(crate) const TABLE: Table<'static, Key> = Table {
    what: "`#[close(...)]`",
    wrap: ("#[close(", ")]"),
    rows: &[
        Row {
            key: Key::Skip,
            name: "skip",
            aliases: &["ignore"],
            kind: Kind::Flag,
            example: "",
        },
        Row {
            key: Key::Method,
            name: "method",
            aliases: &["call"],
            kind: Kind::Method,
            example: "\"flush\"",
        },
        Row {
            key: Key::With,
            name: "with",
            aliases: &[],
            kind: Kind::Method,
            example: "\"shutdown\"",
        },
        Row {
            key: Key::Crate,
            name: "crate",
            aliases: &[],
            kind: Kind::Str,
            example: "\"graceful\"",
        },
    ],
};

/// Every key of every `#[close(...)]` among `attrs`; syntax errors are collected in `errors`.
pub(crate) fn close_args(attrs: &[Attribute], errors: &mut Errors) -> Vec<Arg<Key>> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("close")) {
        let parsed = match &attr.meta {
            syn::Meta::List(_) => {
                attr.parse_args_with(|input: syn::parse::ParseStream<'_>| TABLE.parse(input))
            }
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
