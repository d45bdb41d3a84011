//! `#[graceful::main]`: parse (`parse.rs`) → validate (`valid.rs`) → expand (`expand.rs`).

mod expand;
mod parse;
mod valid;

use proc_macro2::TokenStream;

use crate::common::{Errors, with_error};

/// The entry point.
pub(crate) fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let config = match syn::parse2::<parse::RawArgs>(args) {
        Ok(raw) => valid::args(raw, &mut errors),
        Err(e) => {
            errors.push(e);
            valid::args(parse::RawArgs(Vec::new()), &mut errors)
        }
    };
    let f = match syn::parse2::<syn::ItemFn>(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let e = syn::Error::new(
                proc_macro2::Span::call_site(),
                "`#[graceful::main]` goes on `async fn main() { … }`; this item is not a function",
            );
            errors.push(e);
            let e = errors
                .into_error()
                .unwrap_or_else(|| syn::Error::new(proc_macro2::Span::call_site(), "invalid item"));
            return with_error(item, e);
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
