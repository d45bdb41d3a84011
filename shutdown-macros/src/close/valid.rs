//! `#[derive(Close)]`: checks the attributes against where they are, and builds the
//! checked form (`Input`) the expansion reads.

use proc_macro2::Span;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Member, Type};

use super::parse::{Key, close_args};
use crate::common::args::{Arg, Known, Value, known};
use crate::common::{CratePath, Errors, method_name};

/// The checked input.
pub(crate) struct Input {
    pub(crate) ident: Ident,
    pub(crate) generics: syn::Generics,
    pub(crate) krate: CratePath,
    pub(crate) body: Body,
}

/// How the type closes.
pub(crate) enum Body {
    /// `#[close(with = "method")]`: one method of `self`.
    With(Ident),
    /// Field by field.
    Struct(Vec<Field>),
    /// The fields of whichever variant is active.
    Enum(Vec<Variant>),
}

/// One field.
pub(crate) struct Field {
    pub(crate) member: Member,
    pub(crate) ty: Type,
    pub(crate) span: Span,
    pub(crate) action: Action,
}

/// What to do with one field.
pub(crate) enum Action {
    /// Close it if its type implements `Close`, else leave it.
    Probe,
    /// `#[close(skip)]`.
    Skip,
    /// `#[close(method = "…")]`.
    Method(Ident),
}

/// One enum variant.
pub(crate) struct Variant {
    pub(crate) ident: Ident,
    pub(crate) named: bool,
    pub(crate) fields: Vec<Field>,
}

fn fields(fields: &Fields, errors: &mut Errors) -> Vec<Field> {
    let mut out = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let member = match &f.ident {
            Some(ident) => Member::Named(ident.clone()),
            None => Member::Unnamed(syn::Index {
                index: i as u32,
                span: syn::spanned::Spanned::span(&f.ty),
            }),
        };
        let mut action = None;
        for Known {
            key, span, value, ..
        } in known(close_args(&f.attrs, errors), errors)
        {
            match (key, value) {
                (Key::Skip | Key::Method, _) if action.is_some() => errors.at(
                    span,
                    "`skip` and `method` contradict each other: a field is either skipped or closed by a method; keep one",
                ),
                (Key::Skip, _) => action = Some(Action::Skip),
                (Key::Method, Value::Str(lit)) => {
                    action = Some(match errors.keep(method_name("method", &lit)) {
                        Some(m) => Action::Method(m),
                        None => Action::Probe,
                    });
                }
                (Key::With, _) => errors.at(
                    span,
                    "`with` goes on the type, not on a field: `#[close(with = \"shutdown\")]` above the `struct`; \
                     on a field, use `#[close(method = \"…\")]`",
                ),
                (Key::Crate, _) => errors.at(span, "`crate` goes on the type, not on a field; move it above the `struct`"),
                (Key::Method, _) => {}
            }
        }
        let action = action.unwrap_or(Action::Probe);
        out.push(Field {
            member,
            ty: f.ty.clone(),
            span: syn::spanned::Spanned::span(f),
            action,
        });
    }
    out
}

/// Checks the derive input.
pub(crate) fn input(input: DeriveInput) -> syn::Result<Input> {
    let mut errors = Errors::default();
    let mut with: Option<LitStr> = None;
    let mut krate = CratePath::default();
    for Known {
        key, span, value, ..
    } in known(close_args(&input.attrs, &mut errors), &mut errors)
    {
        match (key, value) {
            (Key::With, Value::Str(lit)) => with = Some(lit),
            (Key::Crate, Value::Str(lit)) => {
                if let Some(k) = errors.keep(CratePath::parse(&lit)) {
                    krate = k;
                }
            }
            (Key::Skip, _) => errors.at(
                span,
                "`skip` goes on a field; on the type, `#[close(with = \"method\")]` replaces the field-by-field close",
            ),
            (Key::Method, _) => errors.at(
                span,
                "`method` goes on a field; to close the whole value with one of its methods, write `#[close(with = \"method\")]`",
            ),
            (Key::With | Key::Crate, _) => {}
        }
    }
    if let Some(l) = input.generics.lifetimes().next() {
        errors.spanned(
            l,
            "`#[derive(Close)]` does not support lifetime parameters: resources live for the whole program (`'static`); \
             own the data instead of borrowing it",
        );
    }
    let body = match &input.data {
        Data::Union(u) => {
            errors.spanned(
                u.union_token,
                "`#[derive(Close)]` cannot close a union: it cannot know which field is active; \
                 use a struct or an enum, or implement `graceful::Close` by hand",
            );
            Body::Struct(Vec::new())
        }
        Data::Struct(s) => Body::Struct(fields(&s.fields, &mut errors)),
        Data::Enum(e) => Body::Enum(
            e.variants
                .iter()
                .map(|v| {
                    for attr in v.attrs.iter().filter(|a| a.path().is_ident("close")) {
                        errors.spanned(
                            attr,
                            "`#[close(...)]` is not supported on a variant; put `#[close(skip)]` or \
                             `#[close(method = \"…\")]` on the variant's fields",
                        );
                    }
                    Variant {
                        ident: v.ident.clone(),
                        named: matches!(v.fields, Fields::Named(_)),
                        fields: fields(&v.fields, &mut errors),
                    }
                })
                .collect(),
        ),
    };
    let body = match with {
        Some(lit) => {
            let field_attrs = match &input.data {
                Data::Struct(s) => s
                    .fields
                    .iter()
                    .flat_map(|f| f.attrs.iter())
                    .find(|a| a.path().is_ident("close"))
                    .cloned(),
                Data::Enum(e) => e
                    .variants
                    .iter()
                    .flat_map(|v| v.fields.iter())
                    .flat_map(|f| f.attrs.iter())
                    .find(|a| a.path().is_ident("close"))
                    .cloned(),
                Data::Union(_) => None,
            };
            if let Some(attr) = field_attrs {
                errors.spanned(
                    attr,
                    "`#[close(with = \"…\")]` on the type replaces the field-by-field close, so this field attribute \
                     has no effect; remove it, or remove `with`",
                );
            }
            match errors.keep(method_name("with", &lit)) {
                Some(m) => Body::With(m),
                None => body,
            }
        }
        None => body,
    };
    errors.finish(Input {
        ident: input.ident,
        generics: input.generics,
        krate,
        body,
    })
}

/// Fallback pieces when the input is wrong: name, generics and path, so that an impl can
/// still be emitted and uses of the type as `Close` do not cascade into more errors.
pub(crate) fn fallback_parts(input: &DeriveInput) -> Option<(Ident, syn::Generics, CratePath)> {
    if input.generics.lifetimes().next().is_some() || matches!(input.data, Data::Union(_)) {
        return None;
    }
    let mut ignored = Errors::default();
    let krate = close_args(&input.attrs, &mut ignored)
        .into_iter()
        .find_map(|arg| match arg {
            Arg::Known {
                key: Key::Crate,
                value: Value::Str(lit),
                ..
            } => CratePath::parse(&lit).ok(),
            _ => None,
        })
        .unwrap_or_default();
    Some((input.ident.clone(), input.generics.clone(), krate))
}
