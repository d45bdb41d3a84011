//! `#[graceful::main]`: parse (`parse.rs`) → validate (`valid.rs`) → expand (`expand.rs`).

mod expand;
mod parse;
mod valid;

use proc_macro2::TokenStream;

use crate::common::{Errors, item_keyword, parse_args, with_error};

/// The entry point.
pub(crate) fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let config = valid::args(parse_args(args, &mut errors), &mut errors);
    let f = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Fn(f)) => f,
        Ok(other) => {
            let (span, what) = item_keyword(&other);
            errors.at(
                span,
                format!("`#[graceful::main]` goes on `async fn main`, not on {what}"),
            );
            return finish(item, errors);
        }
        Err(e) => {
            errors.push(e);
            return finish(item, errors);
        }
    };
    let mut fn_errors = Errors::default();
    valid::function(&f, &mut fn_errors);
    let out = match fn_errors.into_error() {
        // Only the arguments are wrong: expand with what was valid, so the body still compiles.
        None => expand::main(&config, f),
        Some(e) => {
            errors.push(e);
            expand::fallback(f)
        }
    };
    finish(out, errors)
}

/// `out`, followed by the recorded errors if there are any.
fn finish(out: TokenStream, errors: Errors) -> TokenStream {
    match errors.into_error() {
        Some(e) => with_error(out, e),
        None => out,
    }
}
