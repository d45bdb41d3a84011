//! `#[graceful::state]`: parse (`parse.rs`) → validate (`valid.rs`) → expand (`expand.rs`).

mod expand;
mod parse;
mod valid;

use proc_macro2::TokenStream;

use crate::common::args::parse_args;
use crate::common::{Errors, item_keyword, with_error};

/// The entry point.
pub(crate) fn state(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let config = valid::args(parse_args(&parse::TABLE, args, &mut errors), &mut errors);
    let target = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Struct(s)) => errors.keep(valid::target(s.ident, &s.generics)),
        Ok(syn::Item::Enum(e)) => errors.keep(valid::target(e.ident, &e.generics)),
        Ok(other) => {
            let (span, what) = item_keyword(&other);
            errors.at(
                span,
                format!(
                    "`#[graceful::state]` goes on the struct or enum that holds the state, not on {what}; \
                     write `#[graceful::state(name = \"jobs\")] #[derive(Default, Serialize, Deserialize)] struct Jobs {{ … }}`"
                ),
            );
            None
        }
        Err(e) => {
            errors.push(e);
            None
        }
    };
    match (target, errors.into_error()) {
        (Some(ident), None) => expand::state(&config, &ident, item),
        (_, Some(e)) => with_error(item, e),
        (None, None) => item,
    }
}

/// What `#[graceful::state]` becomes when the facade's `state` feature is off: the item, and
/// an error that says which feature to turn on (instead of "could not find `state`").
pub(crate) fn without_feature(item: TokenStream) -> TokenStream {
    let error = syn::Error::new(
        proc_macro2::Span::call_site(),
        "`#[graceful::state]` needs the `state` feature of graceful: \
         `gracefully = { version = \"0.1\", features = [\"state\"] }` in Cargo.toml",
    );
    with_error(item, error)
}
