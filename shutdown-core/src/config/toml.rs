//! The configuration file's values: TOML's data model, read without serde.
//!
//! The file is parsed with the `toml` crate's own parser ([`::toml::de::DeTable`], its
//! `parse` feature) and turned into the small owned tree below, which the key tables walk.
//! The crate's serde layer (`toml::Value`, `toml::from_str`) is not used, so a default build
//! compiles neither serde nor its derive; the parser's errors (with the line, the column and
//! the offending text) are the same ones `toml::from_str` gives.

use std::borrow::Cow;
use std::collections::BTreeMap;

use ::toml::Spanned;
use ::toml::de::{DeTable, DeValue};

/// A table of the file, by key (iterated in key order).
pub type Table = BTreeMap<String, Value>;

/// One value of the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string.
    String(String),
    /// An integer (TOML integers are 64-bit).
    Integer(i64),
    /// A float.
    Float(f64),
    /// `true` or `false`.
    Boolean(bool),
    /// An offset or local date-time, date or time, as written.
    Datetime(String),
    /// An array.
    Array(Vec<Value>),
    /// A table (`[name]`, an inline table, or an entry of `[[name]]`).
    Table(Table),
}

impl Value {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The table, if this is one.
    pub fn as_table(&self) -> Option<&Table> {
        match self {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    /// `true` for an array.
    pub fn is_array(&self) -> bool {
        matches!(self, Value::Array(_))
    }

    /// The name of the value's type, as TOML calls it (`string`, `integer`, `table` …).
    pub fn type_str(&self) -> &'static str {
        match self {
            Value::String(_) => "string",
            Value::Integer(_) => "integer",
            Value::Float(_) => "float",
            Value::Boolean(_) => "boolean",
            Value::Datetime(_) => "datetime",
            Value::Array(_) => "array",
            Value::Table(_) => "table",
        }
    }
}

/// Parses a TOML document. The error is the parser's message (it quotes the line, the column
/// and the text), or names the line of an integer that does not fit in 64 bits.
pub fn parse(text: &str) -> Result<Table, String> {
    let doc = DeTable::parse(text).map_err(|e| e.to_string().trim_end().to_string())?;
    table(text, doc.into_inner())
}

fn table(text: &str, t: DeTable<'_>) -> Result<Table, String> {
    t.into_iter()
        .map(|(k, v)| Ok((k.into_inner().into_owned(), value(text, v)?)))
        .collect()
}

fn value(text: &str, v: Spanned<DeValue<'_>>) -> Result<Value, String> {
    let span = v.span();
    Ok(match v.into_inner() {
        DeValue::String(s) => Value::String(Cow::into_owned(s)),
        DeValue::Integer(i) => Value::Integer(
            i64::from_str_radix(i.as_str(), i.radix())
                .map_err(|_| out_of_range(text, span.start, "integer", i.as_str()))?,
        ),
        DeValue::Float(x) => Value::Float(
            x.as_str()
                .parse()
                .map_err(|_| out_of_range(text, span.start, "float", x.as_str()))?,
        ),
        DeValue::Boolean(b) => Value::Boolean(b),
        DeValue::Datetime(d) => Value::Datetime(d.to_string()),
        DeValue::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| value(text, item))
                .collect::<Result<_, _>>()?,
        ),
        DeValue::Table(t) => Value::Table(table(text, t)?),
    })
}

fn out_of_range(text: &str, at: usize, what: &str, written: &str) -> String {
    let line = text
        .get(..at)
        .map_or(1, |before| before.lines().count().max(1));
    format!("line {line}: {what} `{written}` does not fit in 64 bits")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_toml_type_is_read() {
        let t = parse(
            "s = \"a\"\ni = 0x10\nf = 1_000.5\nb = true\nd = 1979-05-27\na = [1, \"x\"]\n\
             [t]\nk = 1\n[[list]]\nn = 2\n",
        )
        .expect("valid");
        assert_eq!(t["s"], Value::String("a".into()));
        assert_eq!(t["i"], Value::Integer(16));
        assert_eq!(t["f"], Value::Float(1000.5));
        assert_eq!(t["b"], Value::Boolean(true));
        assert_eq!(t["d"], Value::Datetime("1979-05-27".into()));
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
        assert!(e.contains("line 3") && e.contains("duplicate"), "{e}");
        let e = parse("a = 1\nbig = 99999999999999999999\n").expect_err("too big");
        assert!(e.starts_with("line 2: integer"), "{e}");
    }
}
