//! `#[graceful::state(...)]`: the accepted arguments, one row each.

use crate::common::args::{Kind, Row, Table};

/// Which argument.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Name,
    Version,
    Priority,
    Crate,
}

/// The arguments of `#[graceful::state]`.
pub(crate) const TABLE: Table<'static, Key> = Table {
    what: "`#[graceful::state]`",
    wrap: ("", ""),
    rows: &[
        Row {
            key: Key::Name,
            name: "name",
            aliases: &["file"],
            kind: Kind::Expr,
            example: "\"jobs\"",
        },
        Row {
            key: Key::Version,
            name: "version",
            aliases: &["schema"],
            kind: Kind::Expr,
            example: "2",
        },
        Row {
            key: Key::Priority,
            name: "priority",
            aliases: &[],
            kind: Kind::Expr,
            example: "1000",
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
