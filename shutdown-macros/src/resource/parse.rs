//! `#[graceful::resource(...)]`: the accepted arguments, one row each.
//!
//! Values are kept as expressions so that validation can say what is wrong with them
//! ("`priority` must be an integer", "write the method name as a string").

use crate::common::args::{Kind, Row, Table};

/// Which argument.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Priority,
    Close,
    Name,
    Crate,
}

/// The arguments of `#[graceful::resource]`.
pub(crate) const TABLE: Table<'static, Key> = Table {
    what: "`#[graceful::resource]`",
    wrap: ("", ""),
    rows: &[
        Row {
            key: Key::Priority,
            name: "priority",
            aliases: &["order"],
            kind: Kind::Expr,
            example: "10",
        },
        Row {
            key: Key::Close,
            name: "close",
            aliases: &["close_with", "on_close"],
            kind: Kind::Expr,
            example: "\"shutdown\"",
        },
        Row {
            key: Key::Name,
            name: "name",
            aliases: &[],
            kind: Kind::Expr,
            example: "\"db\"",
        },
        Row {
            key: Key::Crate,
            name: "crate",
            aliases: &[],
            kind: Kind::Expr,
            example: "\"graceful\"",
        },
    ],
};
