//! `#[graceful::resource]`: checks the arguments and the constructor.

use syn::{
    Expr, ExprLit, FnArg, GenericArgument, ItemFn, Lit, LitStr, PathArguments, ReturnType, Type,
    UnOp,
};

use super::parse::Key;
use crate::common::args::{Arg, Known, Value, known};
use crate::common::{CratePath, Errors, method_name, string, unparen};

/// The checked arguments.
pub(crate) struct ResourceConfig {
    pub(crate) priority: i32,
    pub(crate) close: Option<(syn::Ident, LitStr)>,
    pub(crate) name: Option<LitStr>,
    pub(crate) krate: CratePath,
}

/// The checked constructor.
pub(crate) struct Constructor {
    pub(crate) item: ItemFn,
    /// The `U` of each `Res<U>` parameter, in order.
    pub(crate) deps: Vec<Type>,
}

fn priority(value: &Expr) -> syn::Result<i32> {
    let (negative, lit) = match unparen(value) {
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => (true, unparen(&u.expr)),
        other => (false, other),
    };
    match lit {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => {
            let text = if negative {
                format!("-{}", i.base10_digits())
            } else {
                i.base10_digits().to_string()
            };
            text.parse::<i32>().map_err(|_| {
                syn::Error::new_spanned(
                    value,
                    format!("`priority = {text}` does not fit in an `i32`; priorities are between {} and {}", i32::MIN, i32::MAX),
                )
            })
        }
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) if s.value().trim().parse::<i32>().is_ok() => Err(syn::Error::new_spanned(
            value,
            format!(
                "`priority` is a number, not a string; remove the quotes: `priority = {}`",
                s.value().trim()
            ),
        )),
        _ => Err(syn::Error::new_spanned(
            value,
            "`priority` must be an integer literal such as `priority = 100`; higher priorities are built first and closed last",
        )),
    }
}

fn close(value: &Expr) -> syn::Result<(syn::Ident, LitStr)> {
    match unparen(value) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => method_name("close", s).map(|m| (m, s.clone())),
        Expr::Path(p) if p.path.get_ident().is_some() => {
            let name = p
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            Err(syn::Error::new_spanned(
                value,
                format!("`close` takes the method name as a string; write `close = \"{name}\"`"),
            ))
        }
        _ => Err(syn::Error::new_spanned(
            value,
            "`close` takes the name of a method of the resource type as a string, such as `close = \"shutdown\"`",
        )),
    }
}

/// Checks the arguments; duplicates are reported at the second occurrence.
pub(crate) fn args(raw: Vec<Arg<Key>>, errors: &mut Errors) -> ResourceConfig {
    let mut config = ResourceConfig {
        priority: 0,
        close: None,
        name: None,
        krate: CratePath::default(),
    };
    for Known { key, value, .. } in known(raw, errors) {
        let Value::Expr(value) = value else {
            continue;
        };
        match key {
            Key::Priority => {
                if let Some(p) = errors.keep(priority(&value)) {
                    config.priority = p;
                }
            }
            Key::Close => config.close = errors.keep(close(&value)),
            Key::Name => {
                if let Some(name) = errors.keep(string(&value, "name", "db")) {
                    if name.value().trim().is_empty() {
                        errors.at(name.span(), "`name = \"\"` is empty; give the resource a name for reports and logs, or remove `name` to use the function's name");
                    } else {
                        config.name = Some(name);
                    }
                }
            }
            Key::Crate => {
                if let Some(lit) = errors.keep(string(&value, "crate", "graceful"))
                    && let Some(path) = errors.keep(CratePath::parse(&lit))
                {
                    config.krate = path;
                }
            }
        }
    }
    config
}

/// `U` when `ty` is `Res<U>` (any path whose last segment is `Res` with one type argument).
fn res_argument(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Paren(p) => res_argument(&p.elem),
        Type::Group(g) => res_argument(&g.elem),
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            if last.ident != "Res" {
                return None;
            }
            match &last.arguments {
                PathArguments::AngleBracketed(a) if a.args.len() == 1 => match a.args.first()? {
                    GenericArgument::Type(t) => Some(t),
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    }
}

/// The `T` of a return type written `Result<T, …>` (any path whose last segment is `Result`),
/// else the type itself: only to refuse `()` early with a clear message. Whether the
/// constructor can fail is decided by its type in the expansion, which also sees aliases.
fn written_resource_type(ty: &Type) -> Type {
    if let Type::Path(p) = ty
        && p.qself.is_none()
        && let Some(last) = p.path.segments.last()
        && last.ident == "Result"
        && let PathArguments::AngleBracketed(a) = &last.arguments
        && let Some(GenericArgument::Type(t)) = a.args.first()
    {
        return t.clone();
    }
    ty.clone()
}

/// Checks the constructor.
pub(crate) fn constructor(item: ItemFn) -> syn::Result<Constructor> {
    let mut errors = Errors::default();
    let errors = &mut errors;
    let sig = &item.sig;
    if !sig.generics.params.is_empty() {
        errors.spanned(
            &sig.generics,
            "a resource constructor cannot be generic: the engine calls it once, with no type arguments; \
             write one constructor per concrete type",
        );
    } else if let Some(w) = &sig.generics.where_clause {
        errors.spanned(
            w,
            "a resource constructor cannot have a `where` clause; remove it",
        );
    }
    if let syn::Safety::Unsafe(u) = &sig.safety {
        errors.spanned(
            u,
            "a resource constructor cannot be `unsafe`: the engine calls it without an `unsafe` block; \
             remove `unsafe` and use an `unsafe` block inside",
        );
    }
    if let Some(v) = &sig.variadic {
        errors.spanned(v, "a resource constructor cannot be variadic; remove `...`");
    }
    let mut deps = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(r) => errors.spanned(
                r,
                "`#[graceful::resource]` goes on a free function, not on a method taking `self`; \
                 move the constructor out of the `impl` block (it may call `MyType::new()`)",
            ),
            FnArg::Typed(t) => match res_argument(&t.ty) {
                Some(u) => deps.push(u.clone()),
                None => errors.spanned(
                    &t.ty,
                    "a resource constructor can only take other resources, written `graceful::Res<T>`; \
                     build this value inside the constructor, or register it as a resource and take `Res<…>`",
                ),
            },
        }
    }
    let ty = match &sig.output {
        ReturnType::Default => {
            errors.spanned(
                &sig.ident,
                format!(
                    "a resource constructor returns the resource; add a return type: `fn {}() -> MyResource` or `-> Result<MyResource, E>`",
                    sig.ident
                ),
            );
            return Err(errors_into(errors));
        }
        ReturnType::Type(_, ty) => {
            if let Type::ImplTrait(_) | Type::Infer(_) | Type::Never(_) = &**ty {
                errors.spanned(
                    ty,
                    "a resource constructor must name the type it returns (`-> MyResource` or `-> Result<MyResource, E>`), \
                     because the resource is looked up by type",
                );
                return Err(errors_into(errors));
            }
            written_resource_type(ty)
        }
    };
    if let Type::Tuple(t) = &ty
        && t.elems.is_empty()
    {
        errors.spanned(
            &sig.output,
            "a resource constructor must return the resource, not `()`",
        );
    }
    std::mem::take(errors).finish(Constructor { item, deps })
}

fn errors_into(errors: &mut Errors) -> syn::Error {
    std::mem::take(errors).into_error().unwrap_or_else(|| {
        syn::Error::new(
            proc_macro2::Span::call_site(),
            "invalid resource constructor",
        )
    })
}
