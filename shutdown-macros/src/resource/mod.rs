//! `#[graceful::resource]`: parse (`parse.rs`) → validate (`valid.rs`) → expand (`expand.rs`).

mod expand;
mod parse;
mod valid;

use proc_macro2::TokenStream;

use crate::common::args::parse_args;
use crate::common::{Errors, item_keyword, with_error};

/// The entry point.
pub(crate) fn resource(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let config = valid::args(parse_args(&parse::TABLE, args, &mut errors), &mut errors);
    let ctor = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Fn(f)) => errors.keep(valid::constructor(f)),
        Ok(other) => {
            let (span, what) = item_keyword(&other);
            errors.at(
                span,
                format!(
                    "`#[graceful::resource]` goes on a function that builds the resource, not on {what}; \
                     write `#[graceful::resource] fn make() -> MyType {{ … }}` (or `async fn`, or `-> Result<MyType, E>`)"
                ),
            );
            None
        }
        Err(e) => {
            errors.push(e);
            None
        }
    };
    match (ctor, errors.into_error()) {
        (Some(ctor), None) => expand::resource(&config, &ctor),
        (_, Some(e)) => with_error(item, e),
        (None, None) => item,
    }
}
