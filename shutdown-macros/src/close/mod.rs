//! `#[derive(Close)]`: parse (`parse.rs`) → validate (`valid.rs`) → expand (`expand.rs`).

mod expand;
mod parse;
mod valid;

use proc_macro2::TokenStream;

/// The entry point.
pub(crate) fn derive(item: TokenStream) -> TokenStream {
    let input = match syn::parse2::<syn::DeriveInput>(item) {
        Ok(i) => i,
        Err(e) => return e.into_compile_error(),
    };
    let fallback = valid::fallback_parts(&input);
    match valid::input(input) {
        Ok(input) => expand::derive(&input),
        Err(e) => {
            let mut out = e.into_compile_error();
            if let Some((ident, generics, krate)) = fallback {
                out.extend(expand::fallback(&krate, &ident, &generics));
            }
            out
        }
    }
}
