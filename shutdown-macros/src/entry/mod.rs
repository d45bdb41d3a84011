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
        other => {
            match other {
                Ok(other) => {
                    let (span, what) = item_keyword(&other);
                    errors.at(
                        span,
                        format!("`#[graceful::main]` goes on `async fn main`, not on {what}"),
                    );
                }
                Err(e) => errors.push(e),
            }
            return match errors.into_error() {
                Some(e) => with_error(item, e),
                None => item,
            };
        }
    };
    let mut fn_errors = Errors::default();
    valid::function(&f, &mut fn_errors);
    match (errors.into_error(), fn_errors.into_error()) {
        (None, None) => expand::main(&config, f),
        // Only the arguments are wrong: expand with what was valid, so the body still compiles.
        (Some(e), None) => with_error(expand::main(&config, f), e),
        (args, Some(mut e)) => {
            if let Some(a) = args {
                let mut a = a;
                a.combine(e);
                e = a;
            }
            with_error(expand::fallback(f), e)
        }
    }
}
