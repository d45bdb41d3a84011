//! `#[graceful::state]`: keeps the type, implements `Snapshot` and registers the saved state.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Ident, LitStr};

use super::valid::{StateConfig, snake_case};

/// The user's type, unchanged, followed by
///
/// ```text
/// impl ::graceful::state::Snapshot for Jobs { const NAME = "jobs"; const VERSION = 1; }
/// const _: () = {
///     fn __graceful_state(g: ::graceful::Graceful) -> ::graceful::Graceful {
///         g.saved_state::<Jobs>(1000)
///     }
///     ::graceful::__private::inventory::submit! { StateRegistration::new(__graceful_state) }
/// };
/// ```
pub(crate) fn state(config: &StateConfig, ident: &Ident, item: TokenStream) -> TokenStream {
    let krate = &config.krate;
    let name = config
        .name
        .clone()
        .unwrap_or_else(|| LitStr::new(&snake_case(ident), ident.span()));
    let version = config.version;
    let priority = config.priority;
    quote! {
        #item

        impl #krate::state::Snapshot for #ident {
            const NAME: &'static str = #name;
            const VERSION: u32 = #version;
        }

        const _: () = {
            fn __graceful_state(__graceful: #krate::Graceful) -> #krate::Graceful {
                __graceful.saved_state::<#ident>(#priority)
            }
            #krate::__private::inventory::submit! {
                #krate::__private::StateRegistration::new(__graceful_state)
            }
        };
    }
}
