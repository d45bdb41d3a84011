//! `#[graceful::main(...)]`: the arguments as written, every value with its span.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{LitBool, LitInt, LitStr, Token};

use crate::common::duration::DurationLit;
use crate::common::{parse_list, unknown_argument};

mod kw {
    syn::custom_keyword!(config);
    syn::custom_keyword!(flavor);
    syn::custom_keyword!(worker_threads);
    syn::custom_keyword!(expect_resources);
    syn::custom_keyword!(admin);
    syn::custom_keyword!(init);
}

/// What a configuration argument holds, and so how it is parsed and checked.
pub(crate) use shutdown_grammar::Kind;

/// The engine's core keys, the table the engine reads too: the rows with an `argument` are
/// the arguments that set a configuration key. A key the macro should accept is an
/// `argument` in its row there.
pub(crate) use shutdown_grammar::keys::CORE as SETTINGS;

/// The argument of row `row` of [`SETTINGS`].
pub(crate) fn argument(row: usize) -> &'static str {
    SETTINGS[row].argument.unwrap_or_default()
}

/// The arguments that are not configuration keys.
const OTHER_ARGUMENTS: &[&str] = &[
    "config",
    "flavor",
    "worker_threads",
    "expect_resources",
    "admin",
    "init",
    "crate",
];

/// Every argument name, for "did you mean" and the list of accepted arguments.
pub(crate) fn arguments() -> Vec<&'static str> {
    shutdown_grammar::keys::arguments()
        .chain(OTHER_ARGUMENTS.iter().copied())
        .collect()
}

/// Names of the configuration file and of other crates, and the argument they mean here:
/// those of the configuration arguments come from the key table.
fn aliases() -> Vec<(&'static str, &'static str)> {
    let mut out = shutdown_grammar::keys::argument_aliases();
    out.extend_from_slice(OTHER_ALIASES);
    out
}

/// Other crates' names for the arguments that are not configuration keys.
const OTHER_ALIASES: &[(&str, &str)] = &[
    ("config_file", "config"),
    ("runtime", "flavor"),
    ("threads", "worker_threads"),
    ("setup", "init"),
    ("on_start", "init"),
];

/// The raw arguments, in the order written.
#[derive(Default)]
pub(crate) struct RawArgs(pub(crate) Vec<RawArg>);

impl Parse for RawArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        parse_list(input).map(RawArgs)
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

fn eq(input: ParseStream<'_>) -> syn::Result<()> {
    input.parse::<Token![=]>().map(drop)
}

fn string(input: ParseStream<'_>, key: &str, example: &str) -> syn::Result<LitStr> {
    if input.peek(LitStr) {
        input.parse()
    } else {
        Err(input.error(format!(
            "`{key}` takes a string literal: `{key} = \"{example}\"`"
        )))
    }
}

fn int(input: ParseStream<'_>, key: &str, example: &str) -> syn::Result<LitInt> {
    if input.peek(LitInt) {
        input.parse()
    } else {
        Err(input.error(format!("`{key}` takes a whole number: `{key} = {example}`")))
    }
}

fn boolean(input: ParseStream<'_>, key: &str) -> syn::Result<LitBool> {
    if input.peek(LitBool) {
        input.parse()
    } else {
        Err(input.error(format!("`{key}` takes `true` or `false`: `{key} = false`")))
    }
}

/// `init = path::to::function`: a path, not a string or a closure.
fn function_path(input: ParseStream<'_>) -> syn::Result<syn::Path> {
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
    Ok(path)
}

fn signal_list(input: ParseStream<'_>) -> syn::Result<Vec<LitStr>> {
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
    Ok(out)
}

impl Parse for RawArg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key = input.span();
        let lookahead = input.lookahead1();
        let setting = input
            .fork()
            .call(syn::Ident::parse_any)
            .ok()
            .and_then(|name| {
                SETTINGS
                    .iter()
                    .position(|k| k.argument.is_some_and(|arg| name == arg))
            });
        let value = if let Some(row) = setting {
            let (name, kind) = (argument(row), SETTINGS[row].kind);
            input.call(syn::Ident::parse_any)?;
            eq(input)?;
            let lit = match kind {
                Kind::Duration => SettingLit::Duration(input.parse()?),
                Kind::Signals => SettingLit::Signals(signal_list(input)?),
                Kind::Bool => SettingLit::Bool(boolean(input, name)?),
                _ => {
                    return Err(input.error(format!(
                        "`{name}` cannot be set in `#[graceful::main]`; set `{}` in the configuration file",
                        SETTINGS[row].name
                    )));
                }
            };
            RawValue::Setting(row, lit)
        } else if lookahead.peek(kw::config) {
            input.parse::<kw::config>()?;
            eq(input)?;
            RawValue::Config(string(input, "config", "graceful.toml")?)
        } else if lookahead.peek(kw::flavor) {
            input.parse::<kw::flavor>()?;
            eq(input)?;
            RawValue::Flavor(string(input, "flavor", "multi_thread")?)
        } else if lookahead.peek(kw::worker_threads) {
            input.parse::<kw::worker_threads>()?;
            eq(input)?;
            RawValue::WorkerThreads(int(input, "worker_threads", "4")?)
        } else if lookahead.peek(kw::expect_resources) {
            input.parse::<kw::expect_resources>()?;
            eq(input)?;
            RawValue::ExpectResources(int(input, "expect_resources", "3")?)
        } else if lookahead.peek(kw::admin) {
            input.parse::<kw::admin>()?;
            eq(input)?;
            RawValue::Admin(string(input, "admin", "127.0.0.1:9090")?)
        } else if lookahead.peek(kw::init) {
            input.parse::<kw::init>()?;
            eq(input)?;
            RawValue::Init(function_path(input)?)
        } else if lookahead.peek(Token![crate]) {
            input.parse::<Token![crate]>()?;
            eq(input)?;
            RawValue::Crate(string(input, "crate", "graceful")?)
        } else if input.peek(syn::Ident::peek_any) {
            RawValue::Unknown(unknown_argument(
                input,
                "`#[graceful::main]`",
                &arguments(),
                &aliases(),
            )?)
        } else {
            return Err(lookahead.error());
        };
        Ok(RawArg { key, value })
    }
}
