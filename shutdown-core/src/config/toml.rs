//! The configuration file's values: TOML's data model, read without serde.
//!
//! The file is parsed with [`toml_span`] (a TOML parser that keeps each value's place in the
//! text, without serde) and turned into the small owned tree below, which the key tables
//! walk. A default build compiles no serde and no derive for it. A parse error names the line
//! and the column, says what was wrong and quotes the text it stopped at.
//!
//! TOML's date-times are not read: no key of the file takes one, and a value written as one
//! is refused with its line like any other value the parser cannot read.

use std::collections::BTreeMap;

use toml_span::value::ValueInner;

/// A table of the file, by key (iterated in key order).
pub(crate) type Table = BTreeMap<String, Value>;

/// One value of the file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// A string.
    String(String),
    /// An integer (TOML integers are 64-bit).
    Integer(i64),
    /// A float.
    Float(f64),
    /// `true` or `false`.
    Boolean(bool),
    /// An array.
    Array(Vec<Value>),
    /// A table (`[name]`, an inline table, or an entry of `[[name]]`).
    Table(Table),
}

impl Value {
    /// The string, if this is one.
    #[cfg_attr(
        not(feature = "admin"),
        allow(dead_code, reason = "read by `[admin]` only")
    )]
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The table, if this is one.
    #[cfg_attr(
        not(feature = "admin"),
        allow(dead_code, reason = "read by `[admin]` only")
    )]
    pub(crate) fn as_table(&self) -> Option<&Table> {
        match self {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    /// `true` for an array.
    pub(crate) fn is_array(&self) -> bool {
        matches!(self, Value::Array(_))
    }

    /// The name of the value's type, as TOML calls it (`string`, `integer`, `table` …).
    pub(crate) fn type_str(&self) -> &'static str {
        match self {
            Value::String(_) => "string",
            Value::Integer(_) => "integer",
            Value::Float(_) => "float",
            Value::Boolean(_) => "boolean",
            Value::Array(_) => "array",
            Value::Table(_) => "table",
        }
    }
}

/// Parses a TOML document. The error names the line and the column, says what was wrong
/// and quotes the text the parser stopped at (an integer that does not fit in 64 bits is one
/// it cannot read).
pub(crate) fn parse(text: &str) -> Result<Table, String> {
    let mut doc = toml_span::parse(text).map_err(|e| located(text, &e))?;
    Ok(match doc.take() {
        ValueInner::Table(t) => table(t),
        // The parser's top level is always a table.
        _ => Table::new(),
    })
}

fn table(t: toml_span::value::Table<'_>) -> Table {
    t.into_iter()
        .map(|(k, mut v)| (k.name.into_owned(), value(v.take())))
        .collect()
}

fn value(v: ValueInner<'_>) -> Value {
    match v {
        ValueInner::String(s) => Value::String(s.into_owned()),
        ValueInner::Integer(i) => Value::Integer(i),
        ValueInner::Float(x) => Value::Float(x),
        ValueInner::Boolean(b) => Value::Boolean(b),
        ValueInner::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|mut item| value(item.take()))
                .collect(),
        ),
        ValueInner::Table(t) => Value::Table(table(t)),
    }
}

/// `line L, column C: <what the parser said>` and, when the parser points at some text on
/// that line, the text.
fn located(text: &str, e: &toml_span::Error) -> String {
    let at = e.span.start.min(text.len());
    let before = text.get(..at).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before
        .get(line_start..)
        .map_or(1, |s| s.chars().count() + 1);
    let written = text
        .get(at..e.span.end.min(text.len()))
        .map(str::trim)
        .filter(|s| !s.is_empty() && !s.contains('\n'));
    let message = e.to_string();
    match written {
        Some(w) if !message.contains(&format!("`{w}`")) => {
            format!("line {line}, column {column}: {message}: `{w}`")
        }
        _ => format!("line {line}, column {column}: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_toml_type_is_read() {
        let t = parse(
            "s = \"a\"\ni = 0x10\nf = 1_000.5\nb = true\na = [1, \"x\"]\n\
             [t]\nk = 1\n[[list]]\nn = 2\n",
        )
        .expect("valid");
        assert_eq!(t["s"], Value::String("a".into()));
        assert_eq!(t["i"], Value::Integer(16));
        assert_eq!(t["f"], Value::Float(1000.5));
        assert_eq!(t["b"], Value::Boolean(true));
        assert_eq!(
            t["a"],
            Value::Array(vec![Value::Integer(1), Value::String("x".into())])
        );
        assert_eq!(t["t"].as_table().map(|t| &t["k"]), Some(&Value::Integer(1)));
        let list = Value::Array(vec![Value::Table(Table::from([(
            "n".to_string(),
            Value::Integer(2),
        )]))]);
        assert_eq!(t["list"], list);
        assert_eq!(t["list"].type_str(), "array");
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("a = 1\nb = \n").expect_err("invalid");
        assert!(e.contains("line 2"), "{e}");
        let e = parse("a = 1\nb = 1\nb = 2\n").expect_err("duplicate");
        assert_eq!(e, "line 3, column 1: duplicate key: `b`");
        let e = parse("a = 1\nbig = 99999999999999999999\n").expect_err("too big");
        assert!(
            e.starts_with("line 2, column 7: ") && e.ends_with("`99999999999999999999`"),
            "{e}"
        );
        let e = parse("a = 1\n  d = 1979-05-27\n").expect_err("a date-time");
        assert!(
            e.starts_with("line 2, column 7: ") && e.ends_with("`1979-05-27`"),
            "{e}"
        );
    }
}
