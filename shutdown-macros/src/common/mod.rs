//! Pieces every macro shares: error collection, "did you mean", the runtime path, durations.

pub(crate) mod args;
pub(crate) mod duration;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::{Expr, ExprLit, Lit, LitStr};

/// Collects every error of one macro invocation so the user sees all of them at once
/// (serde's `Ctxt`).
#[derive(Default)]
pub(crate) struct Errors {
    first: Option<syn::Error>,
}

impl Errors {
    /// Records an error.
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.first {
            Some(first) => first.combine(error),
            None => self.first = Some(error),
        }
    }

    /// Records an error spanned on `span`.
    pub(crate) fn at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    /// Records an error spanned on `tokens`.
    pub(crate) fn spanned(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Keeps the error of `result`, if any, and hands back its value.
    pub(crate) fn keep<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.push(e);
                None
            }
        }
    }

    /// `Err` with every recorded error, or `Ok(value)`.
    pub(crate) fn finish<T>(self, value: T) -> syn::Result<T> {
        match self.first {
            Some(e) => Err(e),
            None => Ok(value),
        }
    }

    /// The recorded errors, if any.
    pub(crate) fn into_error(self) -> Option<syn::Error> {
        self.first
    }
}

/// ` (did you mean `x`?)` when a candidate is close to `word`, else empty: the shared rule
/// of `shutdown_grammar::suggest`, so the macros suggest what the engine suggests.
pub(crate) use shutdown_grammar::hint as did_you_mean;

/// `` `a`, `b` and `c` `` for error messages.
pub(crate) fn one_of(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

/// The path generated code uses to reach the runtime: `::graceful`, or what `crate = "…"`
/// says.
#[derive(Clone)]
pub(crate) struct CratePath(pub(crate) TokenStream);

impl Default for CratePath {
    fn default() -> Self {
        CratePath(quote!(::graceful))
    }
}

impl CratePath {
    /// Parses the value of `crate = "…"`.
    pub(crate) fn parse(lit: &syn::LitStr) -> syn::Result<Self> {
        let path: syn::Path = lit.parse().map_err(|_| {
            syn::Error::new(
                lit.span(),
                format!(
                    "`crate = {:?}` is not a path; write the name under which `graceful` is a dependency, \
                     for example `crate = \"graceful\"` or `crate = \"::my_graceful\"`",
                    lit.value()
                ),
            )
        })?;
        Ok(CratePath(path.into_token_stream()))
    }
}

impl CratePath {
    /// The path with every token at `span` (the default `::graceful`) so that an error about
    /// a call through it lands on `span`; a path the user wrote keeps its own spans.
    pub(crate) fn spanned(&self, span: Span) -> TokenStream {
        self.0
            .clone()
            .into_iter()
            .map(|mut t| {
                t.set_span(t.span().resolved_at(Span::call_site()).located_at(span));
                t
            })
            .collect()
    }
}

impl ToTokens for CratePath {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.0.to_tokens(tokens);
    }
}

/// The user's item followed by the errors: the item still exists, so one mistake does not
/// cascade into "cannot find" errors everywhere it is used.
pub(crate) fn with_error(item: TokenStream, error: syn::Error) -> TokenStream {
    let error = error.into_compile_error();
    quote!(#item #error)
}

/// Parses a macro's arguments; when they do not parse, records the error and returns none
/// so that validation still runs and the item can still be expanded.
pub(crate) fn parse_args<A: syn::parse::Parse + Default>(
    args: TokenStream,
    errors: &mut Errors,
) -> A {
    errors.keep(syn::parse2(args)).unwrap_or_default()
}

/// Reports `key` when it was already given: the error is at the second occurrence.
pub(crate) fn check_duplicate<'a>(
    seen: &mut Vec<(&'a str, Span)>,
    errors: &mut Errors,
    key: &'a str,
    span: Span,
) -> bool {
    if seen.iter().any(|(k, _)| *k == key) {
        errors.at(
            span,
            format!("`{key}` is given more than once; keep only one `{key} = …`"),
        );
        true
    } else {
        seen.push((key, span));
        false
    }
}

/// The keyword of an item that is not a function, and how to name it in a message
/// ("a struct"), so that "goes on a function" errors point at `struct`, `impl`, ….
pub(crate) fn item_keyword(item: &syn::Item) -> (Span, &'static str) {
    use syn::Item;
    use syn::spanned::Spanned;
    match item {
        Item::Struct(i) => (i.struct_token.span, "a struct"),
        Item::Enum(i) => (i.enum_token.span, "an enum"),
        Item::Union(i) => (i.union_token.span, "a union"),
        Item::Const(i) => (i.const_token.span, "a constant"),
        Item::Static(i) => (i.static_token.span, "a static"),
        Item::Impl(i) => (i.impl_token.span, "an `impl` block"),
        Item::Trait(i) => (i.trait_token.span, "a trait"),
        Item::TraitAlias(i) => (i.trait_token.span, "a trait alias"),
        Item::Mod(i) => (i.mod_token.span, "a module"),
        Item::Type(i) => (i.type_token.span, "a type alias"),
        Item::Use(i) => (i.use_token.span, "a `use` declaration"),
        Item::ExternCrate(i) => (i.extern_token.span, "an `extern crate` declaration"),
        Item::ForeignMod(i) => (i.abi.extern_token.span, "an `extern` block"),
        Item::Macro(i) => (i.mac.path.span(), "a macro invocation"),
        Item::Fn(i) => (i.sig.fn_token.span, "a function"),
        other => (other.span(), "this item"),
    }
}

/// The method named by `key = "name"`, as an identifier spanned on the string, so that
/// "no method named …" lands on the user's literal.
pub(crate) fn method_name(key: &str, lit: &syn::LitStr) -> syn::Result<syn::Ident> {
    let text = lit.value();
    match syn::parse_str::<syn::Ident>(&text) {
        Ok(ident) => Ok(syn::Ident::new(&ident.to_string(), lit.span())),
        Err(_) => {
            let hint = text
                .trim()
                .trim_end_matches("()")
                .trim_start_matches('.')
                .trim();
            let suggestion = match syn::parse_str::<syn::Ident>(hint) {
                Ok(_) => format!("write just the method name: `{key} = \"{hint}\"`"),
                Err(_) => format!("write the name of a method, such as `{key} = \"shutdown\"`"),
            };
            Err(syn::Error::new(
                lit.span(),
                format!("`{key} = {text:?}` is not a method name; {suggestion}"),
            ))
        }
    }
}

/// The expression inside any parentheses or invisible groups.
pub(crate) fn unparen(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => unparen(&p.expr),
        Expr::Group(g) => unparen(&g.expr),
        other => other,
    }
}

/// The string literal `key = "…"` takes, or an error showing `key = "example"`.
pub(crate) fn string(value: &Expr, key: &str, example: &str) -> syn::Result<LitStr> {
    match unparen(value) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s.clone()),
        _ => Err(syn::Error::new_spanned(
            value,
            format!("`{key}` takes a string literal: `{key} = \"{example}\"`"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_alternatives() {
        assert_eq!(one_of(&["a", "b", "c"]), "`a`, `b` or `c`");
        assert_eq!(one_of(&["a"]), "`a`");
    }
}
