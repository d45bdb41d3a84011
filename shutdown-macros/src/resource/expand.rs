//! `#[graceful::resource]`: keeps the constructor and registers a `Resource` built from it.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{LitStr, ReturnType};

use super::valid::{Constructor, ResourceConfig};

/// The user's function, unchanged, followed by
///
/// ```text
/// const _: () = {
///     fn __graceful_make() -> ::graceful::ResourceSpec { … Resource::new(…) … .into_spec() }
///     ::graceful::__private::inventory::submit! { Registration::new(__graceful_make) }
/// };
/// ```
pub(crate) fn resource(config: &ResourceConfig, ctor: &Constructor) -> TokenStream {
    let krate = &config.krate;
    let item = &ctor.item;
    let ident = &item.sig.ident;
    let name = config
        .name
        .clone()
        .unwrap_or_else(|| LitStr::new(ident.to_string().trim_start_matches("r#"), ident.span()));
    let priority = config.priority;
    // Errors about the constructor's types (a future that is not `Send`, an error type that
    // is not an error) point at the user's signature.
    let sig_span = item.sig.span();
    let output_span = match &item.sig.output {
        ReturnType::Type(_, t) => t.span(),
        ReturnType::Default => sig_span,
    };

    let dep_names: Vec<_> = (0..ctor.deps.len())
        .map(|i| format_ident!("__dep{}", i))
        .collect();
    let deps = &ctor.deps;
    let mut call = quote_spanned!(ident.span()=> #ident(#(#dep_names),*));
    if item.sig.asyncness.is_some() {
        call = quote_spanned!(ident.span()=> #call.await);
    }
    // Whether the constructor can fail is read from its type, not from how the return type is
    // spelled: `Result<T, E>` and every alias of it (`io::Result<T>`, `redis::RedisResult<T>`,
    // a user's own) register `T`; anything else registers itself. `Resource::new` infers `T`
    // from this value.
    let value = quote_spanned! {output_span=>
        #[allow(unused_imports)]
        use #krate::__private::{Fallible as _, Infallible as _};
        let __out = #call;
        (&__out).__graceful_constructed().into_resource(__out)
    };
    let close = match &config.close {
        Some((method, lit)) => {
            let method_name = method.to_string();
            quote_spanned! {lit.span()=>
                let __graceful_resource = #krate::__private::close_method(
                    __graceful_resource.close_owned(|__v| async move {
                        #[allow(unused_imports)]
                        use #krate::__private::{FutureKind as _, ValueKind as _};
                        #[allow(unused_mut)]
                        let mut __v = __v;
                        #[allow(clippy::let_unit_value)]
                        let __out = __v.#method();
                        (&__out).__graceful_kind().resolve(__out).await
                    }),
                    #method_name,
                );
            }
        }
        None => quote! {
            let __graceful_resource = {
                #[allow(unused_imports)]
                use #krate::__private::{ViaClose as _, ViaDrop as _};
                (&#krate::__private::DefaultClose::of(&__graceful_resource)).__graceful_default_close(__graceful_resource)
            };
        },
    };
    // The future that builds the resource carries the constructor's span, so "future cannot
    // be sent between threads safely" points at the user's function.
    let build_span = item.sig.asyncness.map_or(ident.span(), |a| a.span);
    let build = quote_spanned! {build_span=>
        |__res: #krate::Resources| async move {
            #(let #dep_names = #krate::__private::dependency::<#deps>(&__res)?;)*
            let _ = &__res;
            #value
        }
    };
    let cfgs = item.attrs.iter().filter(|a| a.path().is_ident("cfg"));
    let new = {
        let krate = krate.spanned(sig_span);
        quote_spanned!(sig_span=> #krate::Resource::new(#name, #priority, #build))
    };
    let at = quote_spanned!(ident.span()=> .at(::core::file!(), ::core::line!()));

    quote! {
        #item

        #(#cfgs)*
        const _: () = {
            fn __graceful_make() -> #krate::ResourceSpec {
                let __graceful_resource = #new
                #(.depends_on::<#deps>())*
                #at;
                #close
                __graceful_resource.into_spec()
            }
            #krate::__private::inventory::submit! {
                #krate::__private::Registration::new(__graceful_make)
            }
        };
    }
}
