//! `#[derive(Close)]`: writes `impl Close`, closing fields in declaration order.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::{Ident, Member};

use super::valid::{Action, Body, Field, Input};
use crate::common::CratePath;

/// ```text
/// const _: () = {
///     impl ::graceful::Close for X {
///         async fn close(&self) -> Result<(), ::graceful::BoxError> {
///             let mut __errors = Errors::new();
///             __errors.push("a", (&FieldProbe(&self.a)).__graceful_field_close().await);
///             …
///             __errors.finish()
///         }
///     }
/// };
/// ```
pub(crate) fn derive(input: &Input) -> TokenStream {
    let krate = &input.krate;
    let body = match &input.body {
        Body::With(method) => quote_spanned! {method.span()=>
            #[allow(clippy::let_unit_value)]
            let __out = self.#method();
            return (&__out).__graceful_kind().resolve(__out).await;
        },
        Body::Struct(fields) => {
            let closes = fields.iter().map(|f| {
                let member = &f.member;
                close_field(krate, f, quote!(self.#member), &member_name(&f.member))
            });
            quote!(#(#closes)*)
        }
        Body::Enum(variants) if variants.is_empty() => quote!(match *self {}),
        Body::Enum(variants) => {
            let arms = variants.iter().map(|v| {
                let ident = &v.ident;
                let bindings: Vec<Ident> = (0..v.fields.len())
                    .map(|i| format_ident!("__f{}", i))
                    .collect();
                let pattern = if v.named {
                    let members = v.fields.iter().map(|f| &f.member);
                    quote!(Self::#ident { #(#members: #bindings),* })
                } else if v.fields.is_empty() {
                    quote!(Self::#ident { .. })
                } else {
                    quote!(Self::#ident(#(#bindings),*))
                };
                let closes = v.fields.iter().zip(&bindings).map(|(f, b)| {
                    let name = format!("{}.{}", ident, member_name(&f.member));
                    close_field(krate, f, quote!((*#b)), &name)
                });
                quote!(#pattern => { #(#closes)* })
            });
            quote! {
                #[allow(unused_variables)]
                match self { #(#arms)* }
            }
        }
    };
    let ident = &input.ident;
    let generics = bounded(input);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    quote! {
        #[allow(non_local_definitions)]
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #krate::Close for #ident #ty_generics #where_clause {
                #[allow(unused_mut, unreachable_code, clippy::needless_return)]
                async fn close(&self) -> ::std::result::Result<(), #krate::BoxError> {
                    #[allow(unused_imports)]
                    use #krate::__private::{FieldClose as _, FieldSkip as _, FutureKind as _, ValueKind as _};
                    // `#[close(method = "close")]` reaches a field's `Close` impl even when its
                    // type has no inherent `close`.
                    #[allow(unused_imports)]
                    use #krate::Close as _;
                    let mut __errors = #krate::__private::Errors::new();
                    #body
                    __errors.finish()
                }
            }
        };
    }
}

fn member_name(m: &Member) -> String {
    match m {
        Member::Named(i) => i.to_string().trim_start_matches("r#").to_string(),
        Member::Unnamed(i) => i.index.to_string(),
    }
}

/// `access` is the field as a place: `self.name` or `(*__f0)`.
fn close_field(krate: &CratePath, f: &Field, access: TokenStream, name: &str) -> TokenStream {
    match &f.action {
        Action::Skip => TokenStream::new(),
        Action::Probe => quote_spanned! {f.span=>
            __errors.push(#name, (&#krate::__private::FieldProbe(&#access)).__graceful_field_close().await);
        },
        Action::Method(method) => quote_spanned! {method.span()=>
            __errors.push(#name, {
                #[allow(clippy::let_unit_value)]
                let __out = #access.#method();
                (&__out).__graceful_kind().resolve(__out).await
            });
        },
    }
}

/// Every type parameter must be `Send + Sync + 'static` (as `Close` requires of `Self`);
/// those that appear in a field closed through its own `Close` impl must implement `Close`
/// (like `#[derive(Clone)]` asks `T: Clone`).
fn bounded(input: &Input) -> syn::Generics {
    let mut generics = input.generics.clone();
    let krate = &input.krate;
    let probed: Vec<&Field> = match &input.body {
        Body::With(_) => Vec::new(),
        Body::Struct(fields) => fields
            .iter()
            .filter(|f| matches!(f.action, Action::Probe))
            .collect(),
        Body::Enum(vs) => vs
            .iter()
            .flat_map(|v| v.fields.iter())
            .filter(|f| matches!(f.action, Action::Probe))
            .collect(),
    };
    let params: Vec<Ident> = generics.type_params().map(|p| p.ident.clone()).collect();
    let where_clause = generics.make_where_clause();
    for p in params {
        let used = probed.iter().any(|f| mentions(f.ty.to_token_stream(), &p));
        let predicate: syn::WherePredicate = if used {
            syn::parse_quote!(#p: #krate::Close)
        } else {
            syn::parse_quote!(#p: ::std::marker::Send + ::std::marker::Sync + 'static)
        };
        where_clause.predicates.push(predicate);
    }
    generics
}

fn mentions(tokens: TokenStream, ident: &Ident) -> bool {
    tokens.into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => i == *ident,
        proc_macro2::TokenTree::Group(g) => mentions(g.stream(), ident),
        _ => false,
    })
}

/// Emitted next to the errors: an `impl Close` whose body is never reached, so that code
/// using the type as a `Close` does not report a second, misleading error.
pub(crate) fn fallback(krate: &CratePath, ident: &Ident, generics: &syn::Generics) -> TokenStream {
    let mut generics = generics.clone();
    let params: Vec<Ident> = generics.type_params().map(|p| p.ident.clone()).collect();
    let where_clause = generics.make_where_clause();
    for p in params {
        where_clause
            .predicates
            .push(syn::parse_quote!(#p: ::std::marker::Send + ::std::marker::Sync + 'static));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    quote! {
        const _: () = {
            impl #impl_generics #krate::Close for #ident #ty_generics #where_clause {
                async fn close(&self) -> ::std::result::Result<(), #krate::BoxError> {
                    ::core::unreachable!()
                }
            }
        };
    }
}
