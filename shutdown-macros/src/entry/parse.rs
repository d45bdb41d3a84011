//! `#[graceful::main(...)]`: the arguments as written, every value with its span.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::{LitBool, LitInt, LitStr, Token};

use crate::common::args::{self, Arg, Row, Table, Value};
use crate::common::duration::DurationLit;

pub(crate) use shutdown_grammar::Kind;

/// The engine's core keys, the table the engine reads too: the rows with an `argument` are
/// the arguments that set a configuration key. A key the macro should accept is an
/// `argument` in its row there.
pub(crate) use shutdown_grammar::keys::CORE as SETTINGS;

/// The argument of row `row` of [`SETTINGS`].
pub(crate) fn argument(row: usize) -> &'static str {
    SETTINGS[row].argument.unwrap_or_default()
}

/// Which argument, once its name is read.
#[derive(Clone, Copy)]
enum Key {
    /// A configuration argument: its row in [`SETTINGS`].
    Setting(usize),
    Config,
    Flavor,
    WorkerThreads,
    ExpectResources,
    Admin,
    Init,
    Crate,
}

/// The arguments that are not configuration keys.
const OTHER_ARGUMENTS: &[Row<Key>] = &[
    Row {
        key: Key::Config,
        name: "config",
        aliases: &["config_file"],
        kind: args::Kind::Str,
        example: "\"graceful.toml\"",
    },
    Row {
        key: Key::Flavor,
        name: "flavor",
        aliases: &["runtime"],
        kind: args::Kind::Str,
        example: "\"multi_thread\"",
    },
    Row {
        key: Key::WorkerThreads,
        name: "worker_threads",
        aliases: &["threads"],
        kind: args::Kind::Int,
        example: "4",
    },
    Row {
        key: Key::ExpectResources,
        name: "expect_resources",
        aliases: &[],
        kind: args::Kind::Int,
        example: "3",
    },
    Row {
        key: Key::Admin,
        name: "admin",
        aliases: &[],
        kind: args::Kind::Str,
        example: "\"127.0.0.1:9090\"",
    },
    Row {
        key: Key::Init,
        name: "init",
        aliases: &["setup", "on_start"],
        kind: args::Kind::Custom(function_path),
        example: "setup_logging",
    },
    Row {
        key: Key::Crate,
        name: "crate",
        aliases: &[],
        kind: args::Kind::Str,
        example: "\"graceful\"",
    },
];

/// Every argument: one row per configuration argument of [`SETTINGS`] (the keys with an
/// argument whose value a literal can hold), then the others.
fn rows() -> Vec<Row<Key>> {
    let settings = SETTINGS.iter().enumerate().filter_map(|(i, key)| {
        let name = key.argument?;
        let (kind, example) = match key.kind {
            Kind::Duration => (args::Kind::Duration, "\"30s\""),
            Kind::Signals => (args::Kind::Custom(signal_list), "[\"SIGTERM\", \"SIGINT\"]"),
            Kind::Bool => (args::Kind::Bool, "false"),
            _ => return None,
        };
        Some(Row {
            key: Key::Setting(i),
            name,
            aliases: key.aliases,
            kind,
            example,
        })
    });
    settings.chain(OTHER_ARGUMENTS.iter().copied()).collect()
}

/// The raw arguments, in the order written.
#[derive(Default)]
pub(crate) struct RawArgs(pub(crate) Vec<RawArg>);

impl Parse for RawArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let rows = rows();
        let table = Table {
            what: "`#[graceful::main]`",
            wrap: ("", ""),
            rows: &rows,
        };
        let args = table.parse(input)?;
        Ok(RawArgs(
            args.into_iter().filter_map(RawArg::from_arg).collect(),
        ))
    }
}

/// One argument; `key` is the span of its name.
pub(crate) struct RawArg {
    pub(crate) key: Span,
    pub(crate) value: RawValue,
}

/// The value of a configuration argument, as written.
pub(crate) enum SettingLit {
    Duration(DurationLit),
    Signals(Vec<LitStr>),
    Bool(LitBool),
}

/// The value of one argument, not yet checked.
pub(crate) enum RawValue {
    /// A configuration argument: its row in [`SETTINGS`] and its value.
    Setting(usize, SettingLit),
    Config(LitStr),
    Flavor(LitStr),
    WorkerThreads(LitInt),
    ExpectResources(LitInt),
    Admin(LitStr),
    /// `init = path::to::function`.
    Init(syn::Path),
    Crate(LitStr),
    /// An argument name we do not know; the error is reported by validation.
    Unknown(syn::Error),
}

impl RawValue {
    /// The argument's name.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            RawValue::Setting(row, _) => argument(*row),
            RawValue::Config(_) => "config",
            RawValue::Flavor(_) => "flavor",
            RawValue::WorkerThreads(_) => "worker_threads",
            RawValue::ExpectResources(_) => "expect_resources",
            RawValue::Admin(_) => "admin",
            RawValue::Init(_) => "init",
            RawValue::Crate(_) => "crate",
            RawValue::Unknown(_) => "",
        }
    }
}

/// `init = path::to::function`: a path, not a string or a closure.
fn function_path(input: ParseStream<'_>) -> syn::Result<Value> {
    const FORM: &str = "`init` takes the path of a function `fn()` that runs before \
                        anything else, such as installing the `tracing` subscriber: \
                        `init = setup_logging`";
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "`init = {:?}` is a string; {FORM} (without quotes)",
                lit.value()
            ),
        ));
    }
    if input.peek(Token![|]) || input.peek(Token![||]) || input.peek(Token![move]) {
        return Err(input.error(
            "`init` takes the path of a function, not a closure: write `fn setup_logging() { … }` \
             and `init = setup_logging`",
        ));
    }
    let path: syn::Path = input.parse().map_err(|e| syn::Error::new(e.span(), FORM))?;
    if !input.is_empty() && !input.peek(Token![,]) {
        return Err(input.error(format!("expected `,` after the path; {FORM}")));
    }
    Ok(Value::Path(path))
}

fn signal_list(input: ParseStream<'_>) -> syn::Result<Value> {
    if input.peek(LitStr) {
        return Err(input.error(
            "`signals` takes a list in square brackets: `signals = [\"SIGTERM\", \"SIGINT\"]`",
        ));
    }
    if !input.peek(syn::token::Bracket) {
        return Err(
            input.error("expected a list of signal names: `signals = [\"SIGTERM\", \"SIGINT\"]`")
        );
    }
    let content;
    syn::bracketed!(content in input);
    let mut out = Vec::new();
    while !content.is_empty() {
        if !content.peek(LitStr) {
            return Err(content
                .error("each signal is a string literal: `signals = [\"SIGTERM\", \"SIGINT\"]`"));
        }
        out.push(content.parse()?);
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(Value::Strs(out))
}

impl RawArg {
    /// The argument in the form validation reads; `None` for a value of another kind than
    /// its row's, which the parser never produces.
    fn from_arg(arg: Arg<Key>) -> Option<Self> {
        let (key, span, value) = match arg {
            Arg::Unknown(e) => {
                return Some(RawArg {
                    key: e.span(),
                    value: RawValue::Unknown(e),
                });
            }
            Arg::Known {
                key, span, value, ..
            } => (key, span, value),
        };
        let value = match (key, value) {
            (Key::Setting(row), Value::Duration(d)) => {
                RawValue::Setting(row, SettingLit::Duration(d))
            }
            (Key::Setting(row), Value::Strs(s)) => RawValue::Setting(row, SettingLit::Signals(s)),
            (Key::Setting(row), Value::Bool(b)) => RawValue::Setting(row, SettingLit::Bool(b)),
            (Key::Config, Value::Str(s)) => RawValue::Config(s),
            (Key::Flavor, Value::Str(s)) => RawValue::Flavor(s),
            (Key::WorkerThreads, Value::Int(i)) => RawValue::WorkerThreads(i),
            (Key::ExpectResources, Value::Int(i)) => RawValue::ExpectResources(i),
            (Key::Admin, Value::Str(s)) => RawValue::Admin(s),
            (Key::Init, Value::Path(p)) => RawValue::Init(p),
            (Key::Crate, Value::Str(s)) => RawValue::Crate(s),
            _ => return None,
        };
        Some(RawArg { key: span, value })
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    #[test]
    fn main_reads_its_arguments_from_one_table_with_the_settings_as_rows() {
        let item = quote!(
            async fn main() {}
        );
        let out = crate::entry::main(quote!(timeout, shutdown_timeout = "5s", 42), item.clone())
            .to_string();
        assert!(
            out.contains("expected `=` after `timeout`: `timeout = \\\"30s\\\"`"),
            "a setting's example comes from its kind: {out}"
        );
        let out = crate::entry::main(
            quote!(shutdown_timeout = "5s", drain_timeout = 3),
            item.clone(),
        )
        .to_string();
        assert!(
            out.contains("`shutdown_timeout` (did you mean `timeout`?)"),
            "{out}"
        );
        assert!(
            out.contains("`drain_timeout` (did you mean `drain`?)"),
            "{out}"
        );
        let out = crate::entry::main(quote!(42), item).to_string();
        assert!(
            out.contains("expected an argument of `#[graceful::main]`: `timeout`, `drain`"),
            "every argument is listed, the settings first: {out}"
        );
    }
}
