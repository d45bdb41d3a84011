//! One parser for the arguments of every attribute: `#[graceful::main(...)]`,
//! `#[graceful::resource(...)]`, `#[graceful::state(...)]` and `#[close(...)]`.
//!
//! An attribute is a [`Table`]: one [`Row`] per argument says its name, the names people
//! write for it by analogy (answered with "did you mean"), what its value is ([`Kind`]) and
//! an example value that every message about it quotes. The parser reads `name = value, …`,
//! keeps each value with the span of its name, and turns a name no row has into an error
//! that lists the accepted ones; [`known`] then reports repeated names at their second
//! occurrence. What a value means is checked afterwards, by each attribute's `valid.rs`.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::{Expr, LitBool, LitInt, LitStr, Token};

use super::duration::DurationLit;
use super::{Errors, check_duplicate, did_you_mean, one_of};

/// What an argument's value is, and so how it is read.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// A bare name with no value: `skip`.
    Flag,
    /// Any expression, checked by validation, which can then say what is wrong with it.
    Expr,
    /// A string literal.
    Str,
    /// A method name as a string literal; an identifier is answered with the quoted form.
    Method,
    /// A whole number.
    Int,
    /// `true` or `false`.
    Bool,
    /// `"30s"`, `30` or `1.5`.
    Duration,
    /// A value with its own grammar, read by the attribute.
    Custom(fn(ParseStream<'_>) -> syn::Result<Value>),
}

/// One argument an attribute accepts.
#[derive(Clone, Copy)]
pub(crate) struct Row<K> {
    /// What the attribute calls it once parsed.
    pub(crate) key: K,
    /// The name as written (`crate` included, although it is a keyword).
    pub(crate) name: &'static str,
    /// Names written for this one by analogy: not accepted, but answered "did you mean".
    pub(crate) aliases: &'static [&'static str],
    /// What the value is.
    pub(crate) kind: Kind,
    /// A value as a user writes it (`10`, `"shutdown"`), quoted in messages.
    pub(crate) example: &'static str,
}

/// An attribute: how to name it in messages, how its arguments are wrapped when shown, and
/// its rows.
pub(crate) struct Table<'r, K> {
    /// How messages name the attribute: "`#[graceful::resource]`".
    pub(crate) what: &'static str,
    /// Written before and after one argument to show it as the user writes it:
    /// `("#[close(", ")]")`, or nothing for the attributes whose arguments are the list.
    pub(crate) wrap: (&'static str, &'static str),
    /// The accepted arguments.
    pub(crate) rows: &'r [Row<K>],
}

/// A value as written.
pub(crate) enum Value {
    /// A [`Kind::Flag`] is present.
    Flag,
    /// A [`Kind::Expr`] value.
    Expr(Expr),
    /// A [`Kind::Str`] or [`Kind::Method`] value.
    Str(LitStr),
    /// A [`Kind::Int`] value.
    Int(LitInt),
    /// A [`Kind::Bool`] value.
    Bool(LitBool),
    /// A [`Kind::Duration`] value.
    Duration(DurationLit),
    /// A list of string literals, read by a [`Kind::Custom`] row.
    Strs(Vec<LitStr>),
    /// A path, read by a [`Kind::Custom`] row.
    Path(syn::Path),
}

/// One argument as written.
pub(crate) enum Arg<K> {
    /// A name of the table, with its value; `span` is the name's.
    Known {
        key: K,
        name: &'static str,
        span: Span,
        value: Value,
    },
    /// A name no row has, with the error that says so.
    Unknown(syn::Error),
}

impl<K: Copy> Table<'_, K> {
    /// `name = example` as the user writes it in this attribute.
    pub(crate) fn show(&self, name: &str, value: &str) -> String {
        let (open, close) = self.wrap;
        if value.is_empty() {
            format!("{open}{name}{close}")
        } else {
            format!("{open}{name} = {value}{close}")
        }
    }

    fn names(&self) -> Vec<&'static str> {
        self.rows.iter().map(|r| r.name).collect()
    }

    /// `name = value, name = value, …` with an optional trailing comma.
    pub(crate) fn parse(&self, input: ParseStream<'_>) -> syn::Result<Vec<Arg<K>>> {
        let mut out = Vec::new();
        while !input.is_empty() {
            out.push(self.parse_one(input)?);
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(out)
    }

    fn parse_one(&self, input: ParseStream<'_>) -> syn::Result<Arg<K>> {
        let span = input.span();
        if !input.peek(syn::Ident::peek_any) {
            return Err(input.error(format!(
                "expected an argument of {}: {}",
                self.what,
                one_of(&self.names())
            )));
        }
        let ident = syn::Ident::parse_any(input)?;
        let text = ident.to_string();
        let Some(row) = self.rows.iter().find(|r| r.name == text) else {
            return Ok(Arg::Unknown(self.unknown(input, &ident)?));
        };
        let value = self.value(input, row)?;
        Ok(Arg::Known {
            key: row.key,
            name: row.name,
            span,
            value,
        })
    }

    /// The error for a name no row has: "unknown argument `x` (did you mean `y`?)". Its value
    /// is skipped so that the other arguments are still checked.
    fn unknown(&self, input: ParseStream<'_>, name: &syn::Ident) -> syn::Result<syn::Error> {
        let text = name.to_string();
        let names = self.names();
        let hint = match self
            .rows
            .iter()
            .find(|r| r.aliases.contains(&text.as_str()))
        {
            Some(row) => format!(" (did you mean `{}`?)", row.name),
            None => did_you_mean(&text, &names),
        };
        let error = syn::Error::new(
            name.span(),
            format!(
                "unknown argument `{name}`{hint} for {}; the accepted arguments are {}",
                self.what,
                one_of(&names)
            ),
        );
        while !input.is_empty() && !input.peek(Token![,]) {
            input.parse::<proc_macro2::TokenTree>()?;
        }
        Ok(error)
    }

    fn value(&self, input: ParseStream<'_>, row: &Row<K>) -> syn::Result<Value> {
        let name = row.name;
        let form = self.show(name, row.example);
        if let Kind::Flag = row.kind {
            if input.peek(Token![=]) {
                return Err(input.error(format!("`{name}` takes no value: write `{form}`")));
            }
            return Ok(Value::Flag);
        }
        if !input.peek(Token![=]) {
            return Err(input.error(format!("expected `=` after `{name}`: `{form}`")));
        }
        input.parse::<Token![=]>()?;
        match row.kind {
            Kind::Flag => Ok(Value::Flag),
            Kind::Expr => input.parse().map(Value::Expr),
            Kind::Custom(parse) => parse(input),
            Kind::Duration => input.parse().map(Value::Duration),
            Kind::Str | Kind::Method if input.peek(LitStr) => input.parse().map(Value::Str),
            Kind::Method if input.peek(syn::Ident) => {
                let ident: syn::Ident = input.fork().parse()?;
                let quoted = self.show(name, &format!("\"{ident}\""));
                Err(input.error(format!(
                    "`{name}` takes the method name as a string: `{quoted}`"
                )))
            }
            Kind::Str | Kind::Method => {
                Err(input.error(format!("`{name}` takes a string literal: `{form}`")))
            }
            Kind::Int if input.peek(LitInt) => input.parse().map(Value::Int),
            Kind::Int => Err(input.error(format!("`{name}` takes a whole number: `{form}`"))),
            Kind::Bool if input.peek(LitBool) => input.parse().map(Value::Bool),
            Kind::Bool => Err(input.error(format!("`{name}` takes `true` or `false`: `{form}`"))),
        }
    }
}

/// A known argument: which, where its name is, and its value.
pub(crate) struct Known<K> {
    pub(crate) key: K,
    pub(crate) span: Span,
    pub(crate) value: Value,
}

/// The known arguments, each once, in the order written: an unknown name's error is
/// recorded, and a repeated name is reported at its second occurrence and dropped.
pub(crate) fn known<K>(args: Vec<Arg<K>>, errors: &mut Errors) -> Vec<Known<K>> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for arg in args {
        match arg {
            Arg::Unknown(e) => errors.push(e),
            Arg::Known {
                key,
                name,
                span,
                value,
            } => {
                if !check_duplicate(&mut seen, errors, name, span) {
                    out.push(Known { key, span, value });
                }
            }
        }
    }
    out
}

/// Parses an attribute's argument list; when it does not parse, records the error and
/// returns no arguments, so that validation still runs and the item can still be expanded.
pub(crate) fn parse_args<K: Copy>(
    table: &Table<'_, K>,
    args: proc_macro2::TokenStream,
    errors: &mut Errors,
) -> Vec<Arg<K>> {
    use syn::parse::Parser;
    errors
        .keep((|input: ParseStream<'_>| table.parse(input)).parse2(args))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: Table<'static, u8> = Table {
        what: "`#[x]`",
        wrap: ("#[x(", ")]"),
        rows: &[
            Row {
                key: 0,
                name: "skip",
                aliases: &["ignore"],
                kind: Kind::Flag,
                example: "",
            },
            Row {
                key: 1,
                name: "method",
                aliases: &[],
                kind: Kind::Method,
                example: "\"flush\"",
            },
            Row {
                key: 2,
                name: "crate",
                aliases: &[],
                kind: Kind::Str,
                example: "\"graceful\"",
            },
        ],
    };

    fn parse(tokens: proc_macro2::TokenStream) -> (Vec<u8>, Vec<String>) {
        let mut errors = Errors::default();
        let args = parse_args(&TABLE, tokens, &mut errors);
        let keys = known(args, &mut errors)
            .into_iter()
            .map(|k| k.key)
            .collect();
        let messages = errors
            .into_error()
            .map(|e| e.into_iter().map(|e| e.to_string()).collect())
            .unwrap_or_default();
        (keys, messages)
    }

    #[test]
    fn reads_flags_keywords_and_values_in_order() {
        let (keys, messages) = parse(quote::quote!(method = "flush", skip, crate = "g",));
        assert_eq!(keys, [1, 0, 2]);
        assert!(messages.is_empty(), "{messages:?}");
    }

    #[test]
    fn an_alias_is_answered_with_the_name_it_stands_for() {
        let (keys, messages) = parse(quote::quote!(ignore, method = "flush"));
        assert_eq!(keys, [1], "the other arguments are still read");
        assert_eq!(messages.len(), 1);
        assert!(
            messages[0].starts_with("unknown argument `ignore` (did you mean `skip`?) for `#[x]`"),
            "{messages:?}"
        );
    }

    #[test]
    fn a_repeated_name_is_reported_once_and_dropped() {
        let (keys, messages) = parse(quote::quote!(skip, skip));
        assert_eq!(keys, [0]);
        assert_eq!(
            messages,
            ["`skip` is given more than once; keep only one `skip = …`"]
        );
    }

    #[test]
    fn messages_show_the_argument_as_written_in_the_attribute() {
        let (_, messages) = parse(quote::quote!(method, skip));
        assert_eq!(
            messages,
            ["expected `=` after `method`: `#[x(method = \"flush\")]`"]
        );
        let (_, messages) = parse(quote::quote!(method = flush));
        assert_eq!(
            messages,
            ["`method` takes the method name as a string: `#[x(method = \"flush\")]`"]
        );
        let (_, messages) = parse(quote::quote!(skip = true));
        assert_eq!(messages, ["`skip` takes no value: write `#[x(skip)]`"]);
    }
}
