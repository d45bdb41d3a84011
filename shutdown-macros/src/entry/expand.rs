//! `#[graceful::main]`: writes the synchronous `main` that runs the user's `async fn`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, ReturnType};

use super::valid::{Flavor, MainConfig, Typed};

/// ```text
/// fn main() -> ::std::process::ExitCode {
///     async fn __graceful_main(shutdown: Shutdown) -> R { body }
///     let __graceful_args = ::graceful::MainArgs {
///         settings: vec![("timeout", ArgValue::Duration(Duration::new(30, 0))), …],
///         …
///     };
///     ::graceful::Entry::from_args(__graceful_args).run(__graceful_main)
/// }
/// ```
///
/// Only public API: the entry is the engine's composition root, which builder-path programs
/// call too.
pub(crate) fn main(config: &MainConfig, f: ItemFn) -> TokenStream {
    let krate = &config.krate;
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
        ..
    } = f;
    let ident = &sig.ident;
    let output = &sig.output;
    let inputs = &sig.inputs;
    let fn_token = sig.fn_token;

    // Typed values: a duration reaches the engine as the `Duration` the macro checked.
    let settings = config.settings.iter().map(|(key, value, span)| {
        let value = match value {
            Typed::Duration(d) => {
                let (secs, nanos) = (d.as_secs(), d.subsec_nanos());
                quote!(#krate::ArgValue::Duration(::std::time::Duration::new(#secs, #nanos)))
            }
            Typed::Bool(b) => quote!(#krate::ArgValue::Bool(#b)),
            Typed::Signals(names) => quote!(#krate::ArgValue::Signals(&[#(#names),*])),
        };
        quote_spanned!(*span=> (#key, #value))
    });
    let config_path = match &config.config {
        Some(lit) => quote!(::std::option::Option::Some(#lit)),
        None => quote!(::std::option::Option::None),
    };
    let flavor = match config.flavor {
        Some((Flavor::CurrentThread, span)) => {
            quote_spanned!(span=> #krate::Flavor::CurrentThread)
        }
        Some((Flavor::MultiThread, span)) => {
            quote_spanned!(span=> #krate::Flavor::MultiThread)
        }
        None => quote!(#krate::Flavor::MultiThread),
    };
    let worker_threads = match config.worker_threads {
        Some((n, span)) => quote_spanned!(span=> ::std::option::Option::Some(#n)),
        None => quote!(::std::option::Option::None),
    };
    let admin = match &config.admin {
        Some(lit) => quote_spanned!(lit.span()=> ::std::option::Option::Some(#lit)),
        None => quote!(::std::option::Option::None),
    };
    // The path is coerced to `fn()` where the user wrote it, so a function with another
    // signature is reported on the path.
    let init = match &config.init {
        Some(path) => quote_spanned!(path.span()=> ::std::option::Option::Some({
            let __graceful_init: fn() = #path;
            __graceful_init
        })),
        None => quote!(::std::option::Option::None),
    };
    let expect_resources = match config.expect_resources {
        Some((n, span)) => quote_spanned!(span=> #n),
        None => quote!(0),
    };

    // A return type `main` cannot have is reported on the return type, not on the attribute:
    // the closure is the argument that carries the type, so it gets the type's span.
    let output_span = match output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => proc_macro2::Span::call_site(),
    };
    let call = if inputs.iter().any(|i| matches!(i, FnArg::Typed(_))) {
        // The function item itself is the `FnOnce(Shutdown) -> Fut` (a closure around it
        // would trip clippy's `redundant_closure` in the user's crate).
        quote_spanned!(output_span=> __graceful_main)
    } else {
        quote_spanned!(output_span=> |_| __graceful_main())
    };
    let run_main = {
        let krate = krate.spanned(output_span);
        quote_spanned!(output_span=> #krate::Entry::from_args(__graceful_args).run(#call))
    };
    let inner = quote_spanned!(sig.span()=> async #fn_token __graceful_main(#inputs) #output);

    quote! {
        #(#attrs)*
        #vis fn #ident() -> ::std::process::ExitCode {
            #inner #block
            // `..Default::default()` keeps this expansion valid when MainArgs gains fields.
            #[allow(clippy::needless_update)]
            let __graceful_args = #krate::MainArgs {
                    settings: ::std::vec![#(#settings),*],
                    config: #config_path,
                    flavor: #flavor,
                    worker_threads: #worker_threads,
                    expect_resources: #expect_resources,
                    admin: #admin,
                    init: #init,
                    ..::std::default::Default::default()
            };
            #run_main
        }
    }
}

/// What is emitted next to the errors when the function itself is wrong: a `fn` with the
/// same name, holding the user's function so that mistakes in its body are still reported,
/// without the cascade of "`main` cannot be async" errors.
pub(crate) fn fallback(f: ItemFn) -> TokenStream {
    if f.sig.asyncness.is_none() {
        return quote!(#f);
    }
    let ItemFn {
        attrs, vis, sig, ..
    } = &f;
    let ident = &sig.ident;
    if sig.inputs.iter().any(|i| matches!(i, FnArg::Receiver(_))) {
        return quote!(#(#attrs)* #vis fn #ident() {});
    }
    let mut inner = f.clone();
    inner.attrs.clear();
    inner.vis = syn::Visibility::Inherited;
    quote! {
        #(#attrs)*
        #vis fn #ident() {
            #[allow(dead_code, unused)]
            #inner
        }
    }
}
